"""How one dependency is called: a frozen dataclass per dependency, and the switches.

The defaults are sized for this system (six services on one machine, a few to a
few hundred requests a second), not for the libraries' typical large estate: a
breaker that needs 100 calls in its window never opens in a lab. Each value is
explained in ``docs/resilience.md``.

The switches (DESIGN decision 11) are one setting each, for the whole process:
``SHOPLAB_RESILIENCE_BREAKER=false`` and so on. They turn a pattern off for a lab
so that the failure it prevents can be watched happening; every one is on by
default.
"""

from dataclasses import dataclass, field, replace

from pydantic_settings import BaseSettings, SettingsConfigDict

from shoplab.platform.resilience.classify import (
    Classifier,
    is_availability_failure,
    is_retryable,
)


@dataclass(frozen=True)
class RetryConfig:
    enabled: bool = True
    max_retries: int = 2
    """Attempts after the first one, for idempotent calls only."""
    backoff_initial: float = 0.05
    """Upper bound of the first wait; it doubles each retry, and the wait is random below it."""
    backoff_max: float = 0.5
    budget_enabled: bool = True
    budget_ratio: float = 0.2
    budget_min_per_second: float = 1.0
    budget_window: float = 10.0

    def __post_init__(self) -> None:
        _check(self.max_retries >= 0, "max_retries must be zero or more")
        _check(0 < self.backoff_initial <= self.backoff_max, "backoff needs 0 < initial <= max")
        _check(self.budget_ratio >= 0 and self.budget_min_per_second >= 0, "budget must be >= 0")
        _check(self.budget_window > 0, "budget_window must be positive")


@dataclass(frozen=True)
class BreakerConfig:
    enabled: bool = True
    window: float = 10.0
    minimum_calls: int = 10
    failure_rate: float = 0.5
    open_seconds: float = 5.0
    half_open_trials: int = 2

    def __post_init__(self) -> None:
        _check(self.window > 0 and self.open_seconds > 0, "window and open_seconds must be > 0")
        _check(self.minimum_calls >= 1 and self.half_open_trials >= 1, "counts must be >= 1")
        _check(0 < self.failure_rate <= 1, "failure_rate must be in (0, 1]")


@dataclass(frozen=True)
class BulkheadConfig:
    enabled: bool = True
    limit: int = 32

    def __post_init__(self) -> None:
        _check(self.limit >= 1, "limit must be at least 1")


@dataclass(frozen=True)
class ResilienceConfig:
    """Everything about calling one dependency (``orders→catalog``, ``gateway→payments``...)."""

    timeout: float = 2.0
    """Seconds for the whole call, retries included; never more than the inherited deadline."""
    deadlines: bool = True
    retry: RetryConfig = field(default_factory=RetryConfig)
    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    bulkhead: BulkheadConfig = field(default_factory=BulkheadConfig)
    is_failure: Classifier = is_availability_failure
    """Which errors the breaker counts; everything else is an answer."""
    is_retryable: Classifier = is_retryable
    """Which errors an idempotent call is tried again after."""

    def __post_init__(self) -> None:
        _check(self.timeout > 0, "timeout must be positive")


class ResilienceSettings(BaseSettings):
    """The switches: ``SHOPLAB_RESILIENCE_<PATTERN>=false`` turns one pattern off in a process."""

    model_config = SettingsConfigDict(env_prefix="SHOPLAB_RESILIENCE_", extra="ignore")

    deadlines: bool = True
    """Off: calls wait as long as the dependency takes, and expired requests still call."""
    retries: bool = True
    """Off: every call is tried once."""
    retry_budget: bool = True
    """Off: each idempotent call retries up to ``max_retries``, however many fail (retry storms)."""
    breaker: bool = True
    """Off: the breaker never opens; every call waits for its own failure."""
    bulkhead: bool = True
    """Off: unbounded concurrent calls (still counted on the in-use gauge)."""


def switched(config: ResilienceConfig, settings: ResilienceSettings) -> ResilienceConfig:
    """The config with every pattern the settings switch off turned off."""
    retry = config.retry
    return replace(
        config,
        deadlines=config.deadlines and settings.deadlines,
        retry=replace(
            retry,
            enabled=retry.enabled and settings.retries,
            budget_enabled=retry.budget_enabled and settings.retry_budget,
        ),
        breaker=replace(config.breaker, enabled=config.breaker.enabled and settings.breaker),
        bulkhead=replace(config.bulkhead, enabled=config.bulkhead.enabled and settings.bulkhead),
    )


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
