"""What the HTTP edge of a process allows its clients, read once from the settings.

``create_app`` applies it in the ASGI layer (header sizes, body deadline, CORS) and
keeps it on the app, where ``serve`` finds what it applies at the connection level
(a deadline and a ceiling for request heads, which no ASGI code sees).
"""

from dataclasses import dataclass

from fastapi import FastAPI

from shoplab.platform.settings import PlatformSettings

_DEFAULTS = PlatformSettings.model_fields


@dataclass(frozen=True)
class EdgeSettings:
    max_body_bytes: int = _DEFAULTS["max_body_bytes"].default
    """The largest request body; a larger one is answered 413 as it streams in."""
    max_header_bytes: int = _DEFAULTS["max_header_bytes"].default
    """The most a request's header fields may weigh together; more is answered 431."""
    client_timeout_seconds: float = _DEFAULTS["client_timeout_seconds"].default
    """How long a client may take to send a request's head, and then its body (408)."""
    cors_origins: tuple[str, ...] = ()
    """Browser origins whose pages may call the API; none: no CORS answer at all."""

    @classmethod
    def of(cls, settings: PlatformSettings) -> "EdgeSettings":
        return cls(
            max_body_bytes=settings.max_body_bytes,
            max_header_bytes=settings.max_header_bytes,
            client_timeout_seconds=settings.client_timeout_seconds,
            cors_origins=tuple(settings.cors_origins),
        )


def edge_settings_of(app: FastAPI) -> EdgeSettings:
    """The settings ``create_app`` built ``app`` with (the defaults for any other app)."""
    policy = getattr(app.state, "edge_settings", None)
    return policy if isinstance(policy, EdgeSettings) else EdgeSettings()
