"""What happened to an order, in the domain's own words (no transport, no schema)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class DomainEvent:
    order_id: str


@dataclass(frozen=True)
class OrderApproved(DomainEvent):
    pass


@dataclass(frozen=True)
class OrderRejected(DomainEvent):
    reason: str


@dataclass(frozen=True)
class OrderCancelled(DomainEvent):
    reason: str
