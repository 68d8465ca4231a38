"""The microservices mode: one process per bounded context, each built by its bootstrap.

``python -m shoplab.services <context> --port N`` runs one of them: it looks the context up
in ``SERVICES`` and hands the chassis's ``ServiceHost`` to that context's ``service``
builder (``shoplab.<context>.bootstrap.service``), which describes its service as
``ServiceParts`` (routers, the messages it consumes, its outbox, its start-up work). Nothing
here knows a context's insides; the one choice made here is the demo data that catalog and
inventory load at a fresh start.

A builder is imported when it is asked for, so a service process loads its own context's
code and no other's: seven contexts' modules would cost every process start-up time and
memory for code it never runs.
"""

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from importlib import import_module

from shoplab import seed
from shoplab.contracts.contexts import NAMES
from shoplab.platform.host import ServiceHost, ServiceParts

ServiceBuilder = Callable[[ServiceHost], ServiceParts]

DEMO_DATA = {"catalog": seed.seed_catalog, "inventory": seed.seed_inventory}
"""What a context loads at a fresh start, given its bootstrap's context object."""


class ServiceBuilders(Mapping[str, ServiceBuilder]):
    """Every context of ``contracts/contexts.py``, by name, to the builder of its service."""

    def __getitem__(self, name: str) -> ServiceBuilder:
        if name not in NAMES:
            raise KeyError(name)
        bootstrap = import_module(f"shoplab.{name}.bootstrap")
        load = DEMO_DATA.get(name)
        builder: ServiceBuilder = (
            partial(bootstrap.service, load=load) if load else bootstrap.service
        )
        return builder

    def __iter__(self) -> Iterator[str]:
        return iter(NAMES)

    def __len__(self) -> int:
        return len(NAMES)


SERVICES = ServiceBuilders()
