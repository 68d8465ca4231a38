"""The chassis tables every context gets under its own prefix: outbox and inbox.

Each context owns ``<context>_outbox`` and ``<context>_inbox`` in its own
database (or, in the monolith, beside its other tables in the shared one).
"""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)


def outbox_table(metadata: MetaData, context: str) -> Table:
    """Messages written in the same transaction as the state change that caused them."""
    table = Table(
        f"{context}_outbox",
        metadata,
        Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("message_id", String(36), nullable=False, unique=True),
        Column("subject", String(200), nullable=False),
        Column("envelope", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, default=0),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False),
        Column("last_error", Text),
        Column("dead_at", DateTime(timezone=True)),
    )
    Index(f"ix_{context}_outbox_pending", table.c.published_at, table.c.position)
    return table


def inbox_table(metadata: MetaData, context: str) -> Table:
    """Ids of the messages a consumer has handled, written with the handler's effects."""
    return Table(
        f"{context}_inbox",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("message_id", String(36), primary_key=True),
        Column("handled_at", DateTime(timezone=True), nullable=False),
    )
