"""One running instance of a service, as callers need to know it.

The same value travels as the registry's JSON entry and comes out of the DNS
resolver, so a caller never cares which of the two found it.
"""

import re
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shoplab.platform.time import now

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""Service names and instance ids become one token of a key (``inventory.2``): no dots."""


def shoplab_version() -> str:
    """The installed package's version: callers may refuse or prefer some versions later."""
    try:
        return version("shoplab")
    except PackageNotFoundError:
        return "unknown"


class Instance(BaseModel):
    model_config = ConfigDict(frozen=True)

    service: str
    id: str
    """Unique within its service: ``SHOPLAB_INSTANCE`` (``1``, ``2``...), or from DNS an address."""
    host: str
    ports: dict[str, int]
    """By protocol: ``{"http": 8101, "grpc": 9101}``."""
    version: str = Field(default_factory=shoplab_version)
    registered_at: datetime = Field(default_factory=now)

    @field_validator("service", "id")
    @classmethod
    def _one_token(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(f"must be 1-64 of [A-Za-z0-9_-], not {value!r}")
        return value

    @property
    def key(self) -> str:
        """The registry key: ``<service>.<id>``."""
        return f"{self.service}.{self.id}"

    def address(self, port: str = "http") -> str:
        """``host:port`` for the named port, with an IPv6 host in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.ports[port]}"

    def url(self, port: str = "http", scheme: str = "http") -> str:
        return f"{scheme}://{self.address(port)}"
