"""Small rules of the catalog domain: what a product may be."""

import pytest

from shoplab.catalog.domain.model import InvalidProduct, Product


def test_a_valid_product() -> None:
    product = Product("KB-001", "Keyboard", "Tenkeyless.", 8900, "USD")
    assert product.price_cents == 8900


@pytest.mark.parametrize(
    ("sku", "price", "currency"),
    [("kb 1", 100, "USD"), ("KB-1", -1, "USD"), ("KB-1", 100, "usd"), ("KB-1", 100, "DOLLAR")],
)
def test_invalid_products_are_refused(sku: str, price: int, currency: str) -> None:
    with pytest.raises(InvalidProduct):
        Product(sku, "Name", "Description", price, currency)
