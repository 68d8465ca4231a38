"""Catalog's use cases on fakes: what is sold, at what price, and how much can be ordered."""

import pytest

from shoplab.catalog.domain.model import Product, UnknownProduct
from shoplab.catalog.service_layer import services

from .fakes import FakeCatalogUnitOfWork, FakeStockAvailability

KEYBOARD = Product("KB-001", "Keyboard", "Mechanical, 87 keys.", 4_500, "EUR")
MOUSE = Product("MS-002", "Mouse", "Wireless.", 2_000, "EUR")


async def test_the_product_list_is_every_product_by_sku() -> None:
    uow = FakeCatalogUnitOfWork(MOUSE, KEYBOARD)
    assert await services.list_products(uow) == [KEYBOARD, MOUSE]


async def test_a_product_page_shows_the_stock_inventory_says_can_be_ordered() -> None:
    uow, stock = FakeCatalogUnitOfWork(KEYBOARD), FakeStockAvailability({"KB-001": 7})
    assert await services.product_page(uow, "KB-001", stock) == (KEYBOARD, 7)


async def test_an_unknown_product_has_no_page_and_inventory_is_not_asked() -> None:
    uow, stock = FakeCatalogUnitOfWork(KEYBOARD), FakeStockAvailability({})
    with pytest.raises(UnknownProduct):
        await services.product_page(uow, "XX-404", stock)
    assert stock.asked == []


async def test_the_price_list_leaves_unknown_skus_out() -> None:
    uow = FakeCatalogUnitOfWork(KEYBOARD, MOUSE)
    prices = await services.price_list(uow, ["KB-001", "XX-404"])
    assert prices == {"KB-001": KEYBOARD}


async def test_seeding_adds_missing_products_and_never_changes_a_price() -> None:
    uow = FakeCatalogUnitOfWork(KEYBOARD)
    cheaper = Product("KB-001", "Keyboard", "Mechanical, 87 keys.", 1, "EUR")
    await services.seed(uow, [cheaper, MOUSE])
    assert uow.committed
    assert await services.price_list(uow, ["KB-001", "MS-002"]) == {
        "KB-001": KEYBOARD,
        "MS-002": MOUSE,
    }
