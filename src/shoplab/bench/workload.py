"""The benchmark's workload: who orders what, with which card, decided by one seed.

Customers place orders of one to three lines from the seeded catalog, paying with the
four test cards in fixed proportions (most are charged; a tenth are declined one way or
the other). A few skus are scarce, so some orders are rejected for stock and the saga's
compensation runs too. The same seed gives the same plan in every mode, and in Locust.
"""

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

SEED = 20_261_124
CARD_WEIGHTS = {
    "pm_card_visa": 45,
    "pm_card_mastercard": 45,
    "pm_card_chargeDeclined": 5,
    "pm_card_chargeDeclinedInsufficientFunds": 5,
}
"""Nine orders in ten are charged; the rest are rejected by the payment provider."""
SCARCE_SKUS = 2
SCARCE_SHARE = 0.05
"""Each scarce sku has stock for about this share of the orders that ask for it."""
PLENTIFUL_ON_HAND = 1_000_000


@dataclass(frozen=True)
class PlannedOrder:
    """One placement: which customer (by index), the lines, and the card."""

    customer: int
    lines: tuple[tuple[str, int], ...]
    payment_method: str

    def body(self) -> dict[str, object]:
        """The ``POST /api/orders`` body."""
        return {
            "items": [{"sku": sku, "quantity": quantity} for sku, quantity in self.lines],
            "payment_method": self.payment_method,
        }


@dataclass(frozen=True)
class Workload:
    """The orders to place and the stock to start from."""

    orders: tuple[PlannedOrder, ...]
    stock: dict[str, int]
    customers: int


def plan(skus: list[str], *, orders: int, customers: int, seed: int = SEED) -> Workload:
    """The seeded plan: the same arguments always give the same orders and stock."""
    stream = endless(skus, customers=customers, seed=seed)
    planned = [next(stream) for _ in range(orders)]
    scarce = _scarce(sorted(skus), seed)
    asked = {sku: 0 for sku in scarce}
    for order in planned:
        for sku, quantity in order.lines:
            if sku in asked:
                asked[sku] += quantity
    stock = {
        sku: max(1, int(asked[sku] * SCARCE_SHARE)) if sku in scarce else PLENTIFUL_ON_HAND
        for sku in sorted(skus)
    }
    return Workload(tuple(planned), stock, customers)


def endless(skus: list[str], *, customers: int, seed: int = SEED) -> Iterator[PlannedOrder]:
    """The seeded orders, as many as asked for: ``plan``'s orders are its first ones.

    A timed benchmark does not know in advance how many orders it will place; it takes
    them from here, with the stock of ``plan`` for a generous count.
    """
    rng = random.Random(seed)
    chosen = sorted(skus)
    _scarce(chosen, seed, rng)
    cards = list(CARD_WEIGHTS)
    cumulative = list(itertools.accumulate(CARD_WEIGHTS.values()))  # the same draws, summed once
    for index in itertools.count():
        picked = rng.sample(chosen, rng.randint(1, 3))
        lines = tuple((sku, rng.randint(1, 3)) for sku in picked)
        card = rng.choices(cards, cum_weights=cumulative)[0]
        yield PlannedOrder(index % customers, lines, card)


def _scarce(chosen: list[str], seed: int, rng: random.Random | None = None) -> set[str]:
    """The scarce skus: the seed's first draw, so that they are the same in every plan."""
    rng = rng or random.Random(seed)
    return set(rng.sample(chosen, min(SCARCE_SKUS, len(chosen) - 1)))
