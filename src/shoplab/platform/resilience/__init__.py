"""Resilience for every synchronous call: deadline, bulkhead, retries with a budget, breaker.

One ``ResilientCall`` per dependency of a process (``orders→catalog``), built by
``Resilience.policy`` from a frozen ``ResilienceConfig``; see ``policy`` for the
order the patterns apply in, and ``docs/resilience.md`` for the defaults.
"""

from shoplab.platform.resilience import deadline
from shoplab.platform.resilience.breaker import CircuitBreaker, State
from shoplab.platform.resilience.budget import RetryBudget
from shoplab.platform.resilience.bulkhead import Bulkhead
from shoplab.platform.resilience.classify import is_availability_failure, is_retryable
from shoplab.platform.resilience.clock import Clock, ManualClock, Sleep
from shoplab.platform.resilience.config import (
    BreakerConfig,
    BulkheadConfig,
    ResilienceConfig,
    ResilienceSettings,
    RetryConfig,
)
from shoplab.platform.resilience.dependencies import Resilience
from shoplab.platform.resilience.errors import (
    BulkheadFull,
    CircuitOpen,
    DeadlineExceeded,
    ExchangeBroken,
    ResilienceError,
)
from shoplab.platform.resilience.metrics import CONTENT_TYPE, ResilienceMetrics, exposition
from shoplab.platform.resilience.policy import Operation, ResilientCall

__all__ = [
    "CONTENT_TYPE",
    "BreakerConfig",
    "Bulkhead",
    "BulkheadConfig",
    "BulkheadFull",
    "CircuitBreaker",
    "CircuitOpen",
    "Clock",
    "DeadlineExceeded",
    "ExchangeBroken",
    "ManualClock",
    "Operation",
    "Resilience",
    "ResilienceConfig",
    "ResilienceError",
    "ResilienceMetrics",
    "ResilienceSettings",
    "ResilientCall",
    "RetryBudget",
    "RetryConfig",
    "Sleep",
    "State",
    "deadline",
    "exposition",
    "is_availability_failure",
    "is_retryable",
]
