"""Typed settings, read from ``SHOPLAB_*`` environment variables.

``PlatformSettings`` holds what every process shares (data folder, token
issuer...). A context's own values use its prefix: ``SHOPLAB_ORDERS_DATABASE_URL``
overrides ``SHOPLAB_DATABASE_URL`` for the orders context only. Settings that only one
context reads live in that context and are read by its bootstrap (``orders/settings.py``).
"""

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPLAB_", extra="ignore")

    data_dir: Path = Path(".shoplab")
    database_url: str | None = None
    admin_password: SecretStr | None = None
    jwt_issuer: str = "shoplab-identity"
    jwt_audience: str = "shoplab-api"
    token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    max_body_bytes: int = Field(default=65_536, ge=1_024, le=10_485_760)
    max_header_bytes: int = Field(default=8_192, ge=1_024, le=65_536)
    """The most a request's headers may weigh together; more is answered 431."""
    client_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    """How long a client may take to send a request's headers or body (slow clients)."""
    cors_origins: list[str] = Field(default_factory=list)
    """Browser origins allowed to call the API from their pages; none by default."""
    redis_url: str | None = None
    """``redis://host:port/db``: rate-limit counters shared by every process; memory if unset."""
    redis_prefix: str = "shoplab"
    """The prefix of this run's keys in Redis, to share one server between runs."""
    rate_limit_login: str = "50/second;5000/hour"
    """Sign-in and registration attempts per client address (``limits`` notation): a ceiling
    against floods, generous enough for a class or an office behind one address."""
    rate_limit_failed_logins_per_address: str = "10/minute;100/hour"
    """Refused sign-ins and registrations per client address: password guessing across
    accounts from one address is slowed down; successful sign-ins never count here."""
    rate_limit_placement: str = "10/second;300/hour"
    """Order placements and other writes per customer (per address when anonymous)."""
    rate_limit_reads: str = "50/second"
    """Reads per customer (per address when anonymous)."""
    rate_limit_failed_logins: str = "5/minute;20/hour"
    """Failed sign-ins per account (email, known or not) before its sign-ins are refused."""
    gateway_shed_seconds: float = Field(default=0.1, ge=0.0, le=10.0)
    """After orders refuses a placement for overload, the gateway answers placements with
    that refusal itself for this long (0: every placement is forwarded)."""
    log_level: str = "INFO"
    trace_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    """The share of requests and messages that start a trace (the rest follow their parent)."""
    trace_max_per_second: float = Field(default=50.0, ge=0.0)
    """New traces a process starts each second at most (0: no bound). Light traffic is
    traced whole; under load, tracing costs no more than this many traces a second."""
    trace_sql: bool = False
    """A span per SQL statement, besides the one per transaction (costs CPU on every query)."""
    instance: str = "1"
    outbox_max_attempts: int = Field(default=10, ge=1, le=100)
    outbox_recovery_seconds: float = Field(default=5.0, gt=0.0, le=3600.0)
    """How often the relay polls its outbox for rows no commit handed it (after a crash,
    or due again after a failure); committed rows reach it at once without polling."""
    database_pool_size: int = Field(default=8, ge=1, le=100)
    """PostgreSQL connections per process; processes x pool must stay under the server's
    ``max_connections`` (100 by default; a scaled run has ten processes or more)."""
    fsync: bool = False
    """True: every commit is synced to disk (survives a power loss, not only a crash)."""
    broker_url: str | None = None
    """``nats://host:port`` or ``amqp://user:password@host:port/`` (microservices mode)."""
    broker_namespace: str = ""
    """Prefix of this run's subjects and streams, to share one NATS server between runs."""
    stream_max_age_seconds: float = Field(default=7 * 24 * 3600.0, gt=0)
    """How long a broker stream keeps an event (a log kept for replays, not a queue)."""
    stream_max_bytes: int = Field(default=1 << 30, ge=1 << 20)
    """The size past which a broker stream drops its oldest events."""
    stream_max_msgs: int = Field(default=-1, ge=-1)
    """The count past which a broker stream drops its oldest events (-1: no count limit)."""
    grpc_port: int = Field(default=0, ge=0, le=65535)
    """This instance's gRPC port; 0 lets the system choose (the registry tells callers)."""
    service_urls: dict[str, str] = Field(default_factory=dict)
    """Where each service answers HTTP, by context name (microservices mode)."""
    max_deliveries: int = Field(default=5, ge=1, le=100)
    """Deliveries of one message to one consumer before it goes to the dead-letter subject."""
    saga: str = Field(default="orchestration", pattern="^(orchestration|choreography)$")
    """How orders are settled: ``orchestration`` (a saga in orders sends commands) or
    ``choreography`` (inventory, payments and orders react to each other's events).

    A switch of the chassis, not a setting of one context: the three participants must
    agree on it, and contexts share only the chassis and the contracts. Orders' own saga
    settings (a step's timeout and attempts) are in ``orders/settings.py``."""
    discovery: str = Field(default="registry", pattern="^(registry|dns|static)$")
    """How callers find instances: ``registry`` (NATS key-value), ``dns`` (Kubernetes), or
    ``static`` (the list in ``discovery_instances``: runs on a broker without a registry)."""
    discovery_instances: list[dict[str, Any]] = Field(default_factory=list)
    """Every instance of the run, as ``{"service", "id", "host", "ports"}`` (``static``)."""
    discovery_ttl_seconds: float = Field(default=10.0, ge=1, le=60)
    """A registry entry not refreshed for this long is gone; heartbeats come every third."""
    discovery_host: str = "127.0.0.1"
    """The address this instance registers, where callers reach it."""
    discovery_dns_template: str = "{service}.{namespace}.svc.cluster.local"
    """The DNS name of a service (``discovery=dns``): ``{service}`` and ``{namespace}``."""
    discovery_dns_namespace: str = "shoplab"
    """The Kubernetes namespace put in ``discovery_dns_template``."""
    discovery_dns_ports: dict[str, int] = Field(
        default_factory=lambda: {"http": 8000, "grpc": 50051}
    )
    """The ports every pod of a service listens on, by protocol (``discovery=dns``)."""

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"unknown log level {value!r}")
        return level


class ContextSettings(BaseSettings):
    """Values one context may override; see ``context_settings``."""

    database_url: str | None = None


def context_settings(context: str) -> ContextSettings:
    """Read ``SHOPLAB_<CONTEXT>_*`` variables for one context."""

    class _Settings(ContextSettings):
        model_config = SettingsConfigDict(env_prefix=f"SHOPLAB_{context.upper()}_", extra="ignore")

    return _Settings()


def database_url_for(context: str, settings: PlatformSettings) -> str:
    """The context's own URL, else the shared one, else ``<data-dir>/<context>.db``."""
    chosen = context_settings(context).database_url or settings.database_url
    return chosen or sqlite_file(settings, f"{context}.db")


def sqlite_file(settings: PlatformSettings, name: str) -> str:
    return f"sqlite:///{(settings.data_dir / name).resolve()}"
