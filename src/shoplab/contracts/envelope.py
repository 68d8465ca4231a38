"""The envelope around every message, whatever carries it (in-process relay or broker)."""

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field


class Message(BaseModel):
    """Base of every event and command schema: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    context: ClassVar[str]
    kind: ClassVar[str] = "events"
    version: ClassVar[int] = 1

    @classmethod
    def subject(cls) -> str:
        """``shoplab.<context>.events.<Name>``, the name a broker routes on."""
        return f"shoplab.{cls.context}.{cls.kind}.{cls.__name__}"


class Envelope(BaseModel):
    """What travels: identity, causality and trace context around a payload."""

    model_config = ConfigDict(frozen=True)

    message_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: str
    version: int
    subject: str
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str | None = None
    causation_id: str | None = None
    trace_context: dict[str, str] = Field(default_factory=dict)
    payload: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        message: Message,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        trace_context: dict[str, str] | None = None,
    ) -> Self:
        return cls(
            type=type(message).__name__,
            version=type(message).version,
            subject=type(message).subject(),
            correlation_id=correlation_id,
            causation_id=causation_id,
            trace_context=trace_context or {},
            payload=message.model_dump(mode="json"),
        )
