"""A card processor in test mode, driven by the test tokens payment providers publish."""

from shoplab.payments.domain.model import ChargeOutcome

TEST_CARDS: dict[str, ChargeOutcome] = {
    "pm_card_visa": ChargeOutcome.CHARGED,
    "pm_card_mastercard": ChargeOutcome.CHARGED,
    "pm_card_chargeDeclined": ChargeOutcome.DECLINED,
    "pm_card_chargeDeclinedInsufficientFunds": ChargeOutcome.INSUFFICIENT_FUNDS,
}


class TestCardProcessor:
    __test__ = False  # not a pytest test class

    def accepts(self, method: str) -> bool:
        return method in TEST_CARDS

    async def charge(self, method: str, amount_cents: int, currency: str) -> ChargeOutcome:
        return TEST_CARDS[method]
