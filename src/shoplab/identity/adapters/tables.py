"""The identity context's tables (prefix ``identity_``)."""

from pathlib import Path

from sqlalchemy import Column, DateTime, MetaData, String, Table

from shoplab.platform.messaging.tables import outbox_table
from shoplab.platform.persistence.migrate import Migrations

metadata = MetaData()

customers = Table(
    "identity_customers",
    metadata,
    Column("customer_id", String(36), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata, "identity")

MIGRATIONS = Migrations("identity", metadata, Path(__file__).parent / "migrations" / "versions")
