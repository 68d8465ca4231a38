"""The registry on the NATS key-value store: the only discovery code that imports ``nats``.

- ``bucket``: the bucket, its TTL, and how its entries expire;
- ``registration``: hold one instance's entry (put, heartbeat, delete);
- ``resolver``: ``RegistryResolver``, the live instances, kept current by a watch;
- ``discovery``: ``RegistryDiscovery``, the three on a connection of their own, as the
  host and the gateway use them.
"""
