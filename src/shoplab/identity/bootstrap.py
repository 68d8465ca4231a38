"""The identity context's bootstrap: its one face, for the monolith and for its service.

Identity signs the access tokens every other part verifies; its public keys (``keys``)
feed the monolith's token verifier, and the gateway's through its JWKS endpoint.
"""

import secrets

import structlog
from fastapi import APIRouter

from shoplab.identity.adapters.passwords import Argon2Hasher
from shoplab.identity.adapters.sign_in_throttle import RateLimitedSignIns
from shoplab.identity.adapters.signing_keys import KeyRing
from shoplab.identity.adapters.tables import MIGRATIONS, outbox
from shoplab.identity.adapters.tokens import JwtSigner
from shoplab.identity.entrypoints.api import build_router
from shoplab.identity.service_layer import services
from shoplab.identity.service_layer.unit_of_work import SqlIdentityUnitOfWork
from shoplab.platform.host import ServiceHost, ServiceParts
from shoplab.platform.persistence.database import Database, Transaction
from shoplab.platform.persistence.migrate import upgrade
from shoplab.platform.rate_limits import Policy, RateLimiter
from shoplab.platform.secret_files import write_new_secret
from shoplab.platform.settings import PlatformSettings

log = structlog.get_logger(__name__)

ADMIN_PASSWORD_FILE = "admin-password.txt"


class IdentityContext:
    outbox = outbox

    def __init__(
        self,
        database: Database,
        settings: PlatformSettings,
        *,
        keys: KeyRing | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        """``keys``: the signing keys; by default the ring in the data folder. ``limiter``
        counts failed sign-ins; by default one of its own (the monolith shares its edge's)."""
        self.database = database
        self.settings = settings
        self.keys = keys or KeyRing.load_or_create(
            settings.data_dir, token_ttl_seconds=settings.token_ttl_seconds
        )
        self.hasher = Argon2Hasher()
        self.signer = JwtSigner(
            self.keys,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_seconds=settings.token_ttl_seconds,
        )
        self.sign_ins = RateLimitedSignIns(
            limiter or RateLimiter.from_url(settings.redis_url, settings.redis_prefix),
            Policy.parse("failed-logins", settings.rate_limit_failed_logins),
        )

    def uow(self, *, join: Transaction | None = None) -> SqlIdentityUnitOfWork:
        return SqlIdentityUnitOfWork(self.database, join=join)

    async def start(self) -> str | None:
        """Migrate, then create the administrator; returns a generated password, once."""
        await upgrade(self.database, MIGRATIONS)
        password, generated = self._admin_password()
        created = await services.ensure_admin(self.uow(), self.hasher, password)
        if created and generated:
            write_new_secret(self.settings.data_dir / ADMIN_PASSWORD_FILE, f"{password}\n".encode())
            return password
        return None

    def _admin_password(self) -> tuple[str, bool]:
        """The configured password, else the one generated for this data folder, else a new one.

        Reusing the saved one keeps one administrator password per data folder, even when
        another mode (with its own identity database) starts there later.
        """
        if self.settings.admin_password is not None:
            return self.settings.admin_password.get_secret_value(), False
        saved = self.settings.data_dir / ADMIN_PASSWORD_FILE
        if saved.exists():
            return saved.read_text().strip(), False
        return secrets.token_urlsafe(18), True

    def router(self) -> APIRouter:
        return build_router(self.uow, self.hasher, self.signer, self.sign_ins, self.keys.jwks)


def service(host: ServiceHost) -> ServiceParts:
    """The identity service: accounts, access tokens and the public keys that verify them."""
    identity = IdentityContext(host.database, host.settings)

    async def start() -> None:
        if await identity.start() is not None:
            log.info("administrator created", password_file=ADMIN_PASSWORD_FILE)

    return ServiceParts(routers=[identity.router()], outboxes=[identity.outbox], start=start)
