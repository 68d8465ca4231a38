"""The JetStream streams of a run: one per context's subjects, plus the dead letters.

A context's stream keeps the events it publishes and the commands addressed to it.

A stream keeps every message published on its subjects, within explicit limits
(``Retention``: age, size, count, from ``SHOPLAB_STREAM_MAX_*``), so a consumer
added later can read from the first message still kept: it is a log, not a queue. Publishing
through a stream gives an acknowledgement (the message is stored) and
de-duplication by ``Nats-Msg-Id`` within ``DUPLICATE_WINDOW_SECONDS``.

A *namespace* keeps runs that share one NATS server apart (the test suite
against the machine's server, two laptops on one cluster): with namespace
``run7`` the subject ``shoplab.orders.events.OrderApproved`` travels as
``run7.shoplab.orders.events.OrderApproved`` in the stream ``RUN7_SHOPLAB_ORDERS``.
Message schemas and envelopes never carry it.
"""

import re
from dataclasses import dataclass, field

from shoplab.contracts.contexts import PUBLISHERS
from shoplab.platform.settings import PlatformSettings

DUPLICATE_WINDOW_SECONDS = 120.0
MAX_AGE_SECONDS = 7 * 24 * 3600.0
MAX_BYTES = 1 << 30
"""The default limits (``PlatformSettings`` holds the configured ones)."""
MESSAGING_CONTEXTS = PUBLISHERS
"""The contexts whose subjects carry messages (catalog and history publish none)."""
DEAD_LETTERS = "SHOPLAB_DLQ"
DEAD_LETTER_PREFIX = "shoplab.dlq"
_NAMESPACE = re.compile(r"[a-z0-9_-]{1,32}")


@dataclass(frozen=True)
class Retention:
    """How much a stream keeps: past any limit it drops its oldest messages."""

    max_age_seconds: float = MAX_AGE_SECONDS
    max_bytes: int = MAX_BYTES
    max_msgs: int = -1
    """-1: no limit on the count."""

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> "Retention":
        return cls(
            max_age_seconds=settings.stream_max_age_seconds,
            max_bytes=settings.stream_max_bytes,
            max_msgs=settings.stream_max_msgs,
        )


def configured_retention() -> Retention:
    """The limits of ``SHOPLAB_STREAM_MAX_AGE_SECONDS``, ``_MAX_BYTES`` and ``_MAX_MSGS``."""
    return Retention.from_settings(PlatformSettings())


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: list[str]
    retention: Retention = field(default_factory=Retention)


@dataclass(frozen=True)
class Topology:
    """Where each message travels and is stored, within one namespace ('' for none)."""

    namespace: str = ""
    retention: Retention = field(default_factory=configured_retention)
    """The limits of every stream but the dead letters' (those are kept by the same)."""

    def __post_init__(self) -> None:
        if self.namespace and not _NAMESPACE.fullmatch(self.namespace):
            raise ValueError(f"a namespace is 1-32 of [a-z0-9_-], not {self.namespace!r}")

    def wire(self, subject: str) -> str:
        """The subject as sent on the wire."""
        return f"{self.namespace}.{subject}" if self.namespace else subject

    def unwire(self, subject: str) -> str:
        """The subject without the namespace, as the contracts name it."""
        prefix = f"{self.namespace}." if self.namespace else ""
        return subject.removeprefix(prefix)

    def stream_name(self, name: str) -> str:
        return f"{self.namespace.upper()}_{name}" if self.namespace else name

    def streams(self) -> list[StreamSpec]:
        specs = [
            StreamSpec(
                self.stream_name(f"SHOPLAB_{context.upper()}"),
                [self.wire(f"shoplab.{context}.>")],
                self.retention,
            )
            for context in MESSAGING_CONTEXTS
        ]
        specs.append(
            StreamSpec(
                self.stream_name(DEAD_LETTERS),
                [self.wire(f"{DEAD_LETTER_PREFIX}.>")],
                self.retention,
            )
        )
        return specs

    def stream_for(self, subject: str) -> str:
        """The stream that stores a contract subject: ``shoplab.orders.events.X`` → orders'."""
        if subject.startswith(DEAD_LETTER_PREFIX + "."):
            return self.stream_name(DEAD_LETTERS)
        parts = subject.split(".")
        if len(parts) < 3 or parts[0] != "shoplab" or parts[1] not in MESSAGING_CONTEXTS:
            raise ValueError(f"no stream stores subject {subject!r}")
        return self.stream_name(f"SHOPLAB_{parts[1].upper()}")

    def events(self, context: str) -> str:
        """The wire subject of every event ``context`` publishes (not the commands)."""
        return self.wire(f"shoplab.{context}.events.>")

    def stream_of(self, context: str) -> str:
        """The stream that stores ``context``'s messages."""
        return self.stream_for(f"shoplab.{context}.events.any")

    def dead_letters(self) -> str:
        return self.stream_name(DEAD_LETTERS)


def dead_letter_subject(consumer: str) -> str:
    """Where a consumer's poison messages go (a contract subject, before the namespace)."""
    return f"{DEAD_LETTER_PREFIX}.{consumer}"
