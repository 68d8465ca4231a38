"""The orders context's tables (prefix ``orders_``)."""

from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

from shoplab.platform.messaging.tables import inbox_table, outbox_table
from shoplab.platform.persistence.migrate import Migrations

metadata = MetaData()

orders = Table(
    "orders_orders",
    metadata,
    Column("order_id", String(36), primary_key=True),
    Column("customer_id", String(36), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", String(32)),
    Column("currency", String(3), nullable=False),
    Column("total_cents", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_orders_orders_customer_created", "customer_id", "created_at"),
)

order_lines = Table(
    "orders_lines",
    metadata,
    Column("order_id", ForeignKey("orders_orders.order_id"), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_cents", Integer, nullable=False),
)

idempotency_keys = Table(
    "orders_idempotency_keys",
    metadata,
    Column("customer_id", String(36), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("order_id", String(36), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sagas = Table(
    "orders_sagas",
    metadata,
    Column("order_id", String(36), primary_key=True),
    Column("state", String(32), nullable=False),
    Column("payment_method", String(64), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("deadline_at", DateTime(timezone=True)),
    Column("reason", String(32)),
    Column("void_pending", Boolean, nullable=False),
    Column("history", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("quantities", JSON),
    Column("amount_cents", Integer),
    Column("currency", String(3)),
    Index("ix_orders_sagas_deadline", "deadline_at"),
)
"""One row per order placed by a saga (microservices mode); the monolith leaves it empty.

``quantities``, ``amount_cents`` and ``currency`` are what the saga's commands carry, so a
step reads no order lines; they are NULL in rows written before they existed."""

choreographies = Table(
    "orders_choreographies",
    metadata,
    Column("order_id", String(36), primary_key=True),
    Column("state", String(32), nullable=False),
    Column("outcome", String(16)),
    Column("facts", JSON, nullable=False),
    Column("history", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""What orders saw of each order's choreographed saga (``SHOPLAB_SAGA=choreography`` only)."""

outbox = outbox_table(metadata, "orders")
inbox = inbox_table(metadata, "orders")

MIGRATIONS = Migrations("orders", metadata, Path(__file__).parent / "migrations" / "versions")
