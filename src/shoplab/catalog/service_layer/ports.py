"""What the catalog needs from outside: how much of a product can be ordered now."""

from typing import Protocol


class StockAvailability(Protocol):
    async def available(self, sku: str) -> int:
        """Units of ``sku`` that can be ordered now (inventory owns the answer)."""
        ...
