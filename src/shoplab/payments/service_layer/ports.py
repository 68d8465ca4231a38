"""What payments needs from outside: a card processor."""

from typing import Protocol

from shoplab.payments.domain.model import ChargeOutcome


class CardProcessor(Protocol):
    def accepts(self, method: str) -> bool:
        """Whether ``method`` names a payment method this processor can charge."""
        ...

    async def charge(self, method: str, amount_cents: int, currency: str) -> ChargeOutcome: ...
