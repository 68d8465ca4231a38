"""How a broker fails an operator's request, in the seam's words rather than a client library's.

The adapters translate their client's errors (``nats.errors.Error``, aio-pika's
``AMQPError``) into these, so that a caller such as the ``shoplab`` command can
tell what went wrong without importing either client.
"""


class BrokerError(Exception):
    """The broker could not do what was asked; the message says why."""


class BrokerUnreachable(BrokerError, ConnectionError):
    """No broker answers at the broker URL."""


class BrokerRefused(BrokerError):
    """The broker answered, but refused or failed the request."""
