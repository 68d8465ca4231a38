"""The demo data a fresh start loads: products with prices and stock.

The monolith and the services' table hand it to the contexts that own each part, through
their bootstraps: descriptions and prices to catalog, quantities to inventory.
"""

import json
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a service process imports only its own context (``services``)
    from shoplab.catalog.bootstrap import CatalogContext
    from shoplab.inventory.bootstrap import InventoryContext


@dataclass(frozen=True)
class SeedProduct:
    sku: str
    name: str
    description: str
    price_cents: int
    currency: str
    on_hand: int


def products() -> list[SeedProduct]:
    text = resources.files(__package__).joinpath("products.json").read_text()
    return [SeedProduct(**item) for item in json.loads(text)]


async def seed_catalog(catalog: "CatalogContext") -> None:
    """Descriptions and prices, for the products the catalog does not have yet."""
    await catalog.add_missing(products())


async def seed_inventory(inventory: "InventoryContext") -> None:
    """Stock levels, for the skus inventory does not count yet."""
    await inventory.add_missing({p.sku: p.on_hand for p in products()})
