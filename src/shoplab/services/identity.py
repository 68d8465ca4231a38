"""The identity service: accounts, access tokens and the public keys that verify them."""

import structlog

from shoplab.identity.bootstrap import ADMIN_PASSWORD_FILE, IdentityContext
from shoplab.platform.host import ServiceHost, ServiceParts

log = structlog.get_logger(__name__)


def build(host: ServiceHost) -> ServiceParts:
    identity = IdentityContext(host.database, host.settings)

    async def start() -> None:
        if await identity.start() is not None:
            log.info("administrator created", password_file=ADMIN_PASSWORD_FILE)

    return ServiceParts(routers=[identity.router()], outboxes=[identity.outbox], start=start)
