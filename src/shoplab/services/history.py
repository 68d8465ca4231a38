"""The order history service: each customer's order list, built from events (CQRS).

It has one writer by design (the projector that follows the logs), so it runs
as one instance: ``--scale history=N`` is refused for N > 1.
"""

from shoplab.history.bootstrap import HistoryContext
from shoplab.platform.host import ServiceHost, ServiceParts
from shoplab.platform.messaging.brokers import open_event_log


def build(host: ServiceHost) -> ServiceParts:
    event_log = open_event_log(host.settings, name=f"history-{host.settings.instance}")
    history = HistoryContext(host.database, event_log)
    return ServiceParts(
        routers=[history.router(host.auth)],
        start=history.start,
        background=history.background(),
        state=history.health,
    )
