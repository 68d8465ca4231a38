"""The notifications context's tables (prefix ``notifications_``)."""

from pathlib import Path

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table

from shoplab.platform.messaging.tables import inbox_table, outbox_table
from shoplab.platform.persistence.migrate import Migrations

metadata = MetaData()

contacts = Table(
    "notifications_contacts",
    metadata,
    Column("customer_id", String(36), primary_key=True),
    Column("email", String(320), nullable=False),
    Column("name", String(100), nullable=False),
)

sent = Table(
    "notifications_sent",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(36), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Index("ix_notifications_sent_order", "order_id"),
)

inbox = inbox_table(metadata, "notifications")
outbox = outbox_table(metadata, "notifications")

MIGRATIONS = Migrations(
    "notifications", metadata, Path(__file__).parent / "migrations" / "versions"
)
