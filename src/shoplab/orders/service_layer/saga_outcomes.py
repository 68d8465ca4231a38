"""Counting how each saga ended, and how long it took, once that end is committed.

The count waits for the commit of the transition that settled the order: a transition
that rolls back counts nothing, and the answer delivered again then finds the saga
where it was, settles it, and counts it once; an answer seen after the end changes
nothing and counts nothing.

A placement is timed from the order's placement; a cancellation from its request, since
how long the customer kept the order before cancelling it is no part of the saga.
"""

from collections.abc import Iterable
from datetime import datetime

from shoplab.orders.adapters.metrics import SagaStyle, saga_metrics
from shoplab.orders.domain.model import Order, OrderStatus
from shoplab.orders.domain.saga import StepRecord
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork


def count_outcome(uow: OrdersUnitOfWork, style: SagaStyle, order: Order, began: datetime) -> None:
    """Count the final status ``order`` was just given, once ``uow`` commits it."""
    outcome, seconds = order.status, (order.updated_at - began).total_seconds()
    uow.after_commit(lambda: saga_metrics().finished(style, outcome, seconds))


def began_at(order: Order, history: Iterable[StepRecord], cancellation: str) -> datetime:
    """When the saga that settled ``order`` began: at the step named ``cancellation`` for a
    cancelled order (its first record), at the order's placement otherwise."""
    if order.status is OrderStatus.CANCELLED:
        return next((step.at for step in history if step.name == cancellation), order.created_at)
    return order.created_at
