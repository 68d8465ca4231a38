"""The catalog context's tables (prefix ``catalog_``)."""

from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, Text

from shoplab.platform.persistence.migrate import Migrations

metadata = MetaData()

products = Table(
    "catalog_products",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("price_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
)

MIGRATIONS = Migrations("catalog", metadata, Path(__file__).parent / "migrations" / "versions")
