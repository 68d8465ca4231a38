"""The demo data a fresh start loads: products with prices and stock.

Only composition roots read it; each hands the part it owns to a context
(descriptions and prices to catalog, quantities to inventory).
"""

import json
from dataclasses import dataclass
from importlib import resources


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
