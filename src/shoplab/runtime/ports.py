"""Loopback ports for a run's processes.

The well-known ports of NATS, PostgreSQL, RabbitMQ and Redis are never given to
shoplab's own processes: a learner may already run those servers, and a
process of ours answering there would be mistaken for them.
"""

import socket
from contextlib import ExitStack

RESERVED_PORTS = frozenset({4222, 5432, 5672, 6379})


def port_free(port: int) -> bool:
    """True when nothing listens on ``127.0.0.1:port`` now."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int, avoid: frozenset[int] = frozenset()) -> list[int]:
    """``count`` distinct free ports chosen by the kernel, none reserved or in ``avoid``.

    The sockets stay bound until all are chosen, so the kernel cannot hand out
    the same port twice. A port is only free when chosen: another program may
    take it before our process binds it, which then fails at start, loudly.
    """
    unwanted = RESERVED_PORTS | avoid
    chosen: list[int] = []
    with ExitStack() as sockets:
        while len(chosen) < count:
            held = sockets.enter_context(socket.socket())
            held.bind(("127.0.0.1", 0))
            port = int(held.getsockname()[1])
            if port not in unwanted:
                chosen.append(port)
    return chosen
