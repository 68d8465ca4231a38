"""The demo data a fresh start loads: products with prices and stock.

Only composition roots read it; each hands the part it owns to a context
(descriptions and prices to catalog, quantities to inventory).
"""

import json
from dataclasses import dataclass
from importlib import resources

from shoplab.catalog.bootstrap import CatalogContext
from shoplab.catalog.domain.model import Product
from shoplab.catalog.service_layer import services as catalog_services
from shoplab.inventory.bootstrap import InventoryContext
from shoplab.inventory.service_layer import services as inventory_services


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


async def seed_catalog(catalog: CatalogContext) -> None:
    """Descriptions and prices, for the products the catalog does not have yet."""
    await catalog_services.seed(
        catalog.uow(),
        [Product(p.sku, p.name, p.description, p.price_cents, p.currency) for p in products()],
    )


async def seed_inventory(inventory: InventoryContext) -> None:
    """Stock levels, for the skus inventory does not count yet."""
    await inventory_services.seed(inventory.uow(), {p.sku: p.on_hand for p in products()})
