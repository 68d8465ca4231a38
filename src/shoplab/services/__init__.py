"""The microservices mode: one process per bounded context, each built by its bootstrap.

``python -m shoplab.services <context> --port N`` runs one of them: it looks the context up
in ``SERVICES`` and hands the chassis's ``ServiceHost`` to that context's ``service``
builder, which describes its service as ``ServiceParts`` (routers, the messages it
consumes, its outbox, its start-up work). Nothing here knows a context's insides; the one
choice made here is the demo data that catalog and inventory load at a fresh start.
"""

from collections.abc import Callable
from functools import partial

from shoplab import seed
from shoplab.catalog import bootstrap as catalog
from shoplab.history import bootstrap as history
from shoplab.identity import bootstrap as identity
from shoplab.inventory import bootstrap as inventory
from shoplab.notifications import bootstrap as notifications
from shoplab.orders import bootstrap as orders
from shoplab.payments import bootstrap as payments
from shoplab.platform.host import ServiceHost, ServiceParts

ServiceBuilder = Callable[[ServiceHost], ServiceParts]

SERVICES: dict[str, ServiceBuilder] = {
    "catalog": partial(catalog.service, load=seed.seed_catalog),
    "identity": identity.service,
    "inventory": partial(inventory.service, load=seed.seed_inventory),
    "orders": orders.service,
    "payments": payments.service,
    "notifications": notifications.service,
    "history": history.service,
}
"""Every context of ``contracts/contexts.py``, by name."""
