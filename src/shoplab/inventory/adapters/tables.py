"""The inventory context's tables (prefix ``inventory_``)."""

from pathlib import Path

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table

from shoplab.platform.messaging.tables import inbox_table, outbox_table
from shoplab.platform.persistence.migrate import Migrations

metadata = MetaData()

stock = Table(
    "inventory_stock",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
)

reservations = Table(
    "inventory_reservations",
    metadata,
    Column("order_id", String(36), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata, "inventory")
inbox = inbox_table(metadata, "inventory")

MIGRATIONS = Migrations("inventory", metadata, Path(__file__).parent / "migrations" / "versions")
