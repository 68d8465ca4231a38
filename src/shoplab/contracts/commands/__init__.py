"""Commands: requests addressed to one context, which answers with an event."""

from shoplab.contracts.commands.inventory import (
    CommitStock,
    ReleaseStock,
    ReserveStock,
    ReturnStock,
)
from shoplab.contracts.commands.payments import ChargePayment, RefundPayment, VoidPayment
from shoplab.contracts.envelope import Message

ALL_COMMANDS: tuple[type[Message], ...] = (
    ReserveStock,
    CommitStock,
    ReleaseStock,
    ReturnStock,
    ChargePayment,
    RefundPayment,
    VoidPayment,
)

__all__ = [
    "ALL_COMMANDS",
    "ChargePayment",
    "CommitStock",
    "RefundPayment",
    "ReleaseStock",
    "ReserveStock",
    "ReturnStock",
    "VoidPayment",
]
