"""The bounded contexts of shoplab, written once for everything that lists them.

The supervisor starts a service per context (``runtime/plans.py``), the services' table
builds each one (``services/``), the broker keeps a stream for each context whose messages
travel (``platform/messaging``), and each gRPC server admits only the callers named here.
It is plain data, so that the chassis may read it: the chassis knows no context's code.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Context:
    name: str
    publishes: bool = False
    """Its messages travel on the broker (the events it publishes, the commands addressed to
    it): it has a stream of its own, which readers of the event log may follow."""
    grpc_callers: frozenset[str] = frozenset()
    """Who may call its gRPC service (an allow-list); empty when it serves none."""
    calls: frozenset[str] = frozenset()
    """The contexts whose gRPC queries it asks: they must be reachable for it to answer."""
    scalable: bool = True
    """False when it must run as one instance (a read model with one writer)."""

    @property
    def serves_grpc(self) -> bool:
        return bool(self.grpc_callers)


CONTEXTS: tuple[Context, ...] = (
    Context("catalog", grpc_callers=frozenset({"orders"}), calls=frozenset({"inventory"})),
    Context("identity", publishes=True),
    Context("inventory", publishes=True, grpc_callers=frozenset({"catalog"})),
    Context("orders", publishes=True, calls=frozenset({"catalog", "payments"})),
    Context("payments", publishes=True, grpc_callers=frozenset({"orders", "gateway"})),
    Context("notifications", publishes=True, grpc_callers=frozenset({"gateway"})),
    Context("history", scalable=False),
)
"""In the order the services are started and listed."""

NAMES: tuple[str, ...] = tuple(context.name for context in CONTEXTS)
PUBLISHERS: tuple[str, ...] = tuple(context.name for context in CONTEXTS if context.publishes)
"""The contexts whose subjects carry messages (catalog and history publish none)."""


def context_named(name: str) -> Context:
    """Raises ``KeyError`` for a name that is not a context."""
    for context in CONTEXTS:
        if context.name == name:
            return context
    raise KeyError(name)
