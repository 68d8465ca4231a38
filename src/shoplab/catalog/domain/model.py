"""Products as the catalog describes and prices them."""

import re
from dataclasses import dataclass

from shoplab.platform.errors import InvalidInput, NotFound

SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,63}$")


class UnknownProduct(NotFound):
    def __init__(self, sku: str) -> None:
        super().__init__(f"No product has sku {sku!r}.")


class InvalidProduct(InvalidInput):
    pass


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    description: str
    price_cents: int
    currency: str

    def __post_init__(self) -> None:
        if not SKU_PATTERN.match(self.sku):
            raise InvalidProduct(f"{self.sku!r} is not a valid sku.")
        if self.price_cents < 0:
            raise InvalidProduct("A price cannot be negative.")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise InvalidProduct(f"{self.currency!r} is not an ISO 4217 currency code.")
