"""The history context's tables (prefix ``history_``): the view and the positions applied."""

from pathlib import Path

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table

from shoplab.platform.persistence.migrate import Migrations

metadata = MetaData()

orders = Table(
    "history_orders",
    metadata,
    Column("order_id", String(36), primary_key=True),
    Column("customer_id", String(36)),
    Column("status", String(16), nullable=False),
    Column("reason", String(32)),
    Column("total_cents", Integer),
    Column("currency", String(3)),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
    Column("charged_cents", Integer, nullable=False),
    Column("refunded_cents", Integer, nullable=False),
    Column("payment_failure", String(32)),
    Column("notifications", String(200), nullable=False),
    Index("ix_history_orders_customer", "customer_id", "created_at"),
)

positions = Table(
    "history_positions",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("position", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
)
"""Per source, the log position applied last, written in the transaction of its effects."""

MIGRATIONS = Migrations("history", metadata, Path(__file__).parent / "migrations" / "versions")
