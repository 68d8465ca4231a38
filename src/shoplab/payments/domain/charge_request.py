"""What payments must know before it charges an order in a choreographed saga.

Two events make a charge: ``OrderPlaced`` (from orders: the amount, the currency, the
method) and ``StockReserved`` (from inventory: the go-ahead, so a charge never comes
before the stock is held). They travel on different streams and arrive in either
order, so payments keeps its own small record of what it has seen, and charges once,
when the second of the two arrives.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ChargeTerms:
    """What to charge, as the order announced it."""

    amount_cents: int
    currency: str
    method: str


@dataclass
class ChargeRequest:
    order_id: str
    terms: ChargeTerms | None = None
    stock_reserved: bool = False
    charge_taken: bool = False
    """The charge was handed out once already: never twice."""

    def order_placed(self, terms: ChargeTerms) -> ChargeTerms | None:
        """Note the order's terms; returns them when the charge is due now."""
        self.terms = self.terms or terms
        return self._take()

    def reserved(self) -> ChargeTerms | None:
        """Note inventory's go-ahead; returns the terms when the charge is due now."""
        self.stock_reserved = True
        return self._take()

    def _take(self) -> ChargeTerms | None:
        if self.terms is None or not self.stock_reserved or self.charge_taken:
            return None
        self.charge_taken = True
        return self.terms
