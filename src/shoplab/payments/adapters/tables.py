"""The payments context's tables (prefix ``payments_``)."""

from pathlib import Path

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table

from shoplab.platform.messaging.tables import inbox_table, outbox_table
from shoplab.platform.persistence.migrate import Migrations

metadata = MetaData()

payments = Table(
    "payments_payments",
    metadata,
    Column("order_id", String(36), primary_key=True),
    Column("amount_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("method", String(64), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("charged_cents", Integer, nullable=False),
    Column("refunded_cents", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

charge_requests = Table(
    "payments_charge_requests",
    metadata,
    Column("order_id", String(36), primary_key=True),
    Column("amount_cents", Integer),
    Column("currency", String(3)),
    Column("method", String(64)),
    Column("stock_reserved", Boolean, nullable=False),
    Column("charge_taken", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""What a choreographed saga told payments about each order (``SHOPLAB_SAGA=choreography``)."""

outbox = outbox_table(metadata, "payments")
inbox = inbox_table(metadata, "payments")

MIGRATIONS = Migrations("payments", metadata, Path(__file__).parent / "migrations" / "versions")
