"""Typed settings, read from ``SHOPLAB_*`` environment variables.

``PlatformSettings`` holds what every process shares (data folder, token
issuer...). A context's own values use its prefix: ``SHOPLAB_ORDERS_DATABASE_URL``
overrides ``SHOPLAB_DATABASE_URL`` for the orders context only.
"""

from pathlib import Path

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
    log_level: str = "INFO"
    instance: str = "1"
    outbox_max_attempts: int = Field(default=5, ge=1, le=100)

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


def database_url_for(context: str, settings: PlatformSettings, default_file: str) -> str:
    """The context's URL, else the shared one, else a SQLite file in the data folder."""
    own = context_settings(context).database_url
    chosen = own or settings.database_url
    if chosen:
        return chosen
    return f"sqlite:///{(settings.data_dir / default_file).resolve()}"
