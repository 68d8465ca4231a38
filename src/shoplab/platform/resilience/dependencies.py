"""``Resilience``: the process's policies, one per dependency, sharing switches, metrics and clock.

A dependency must have exactly one policy in a process: the breaker, bulkhead
and budget only work if every call to it counts in the same place. A service
builds one ``Resilience`` at start-up and asks it for a dependency's policy
wherever it calls that dependency.
"""

from shoplab.platform.resilience.clock import MONOTONIC, REAL_SLEEP, Clock, Sleep
from shoplab.platform.resilience.config import ResilienceConfig, ResilienceSettings, switched
from shoplab.platform.resilience.metrics import ResilienceMetrics, process_metrics
from shoplab.platform.resilience.policy import ResilientCall


class Resilience:
    def __init__(
        self,
        caller: str,
        *,
        settings: ResilienceSettings | None = None,
        metrics: ResilienceMetrics | None = None,
        clock: Clock = MONOTONIC,
        sleep: Sleep = REAL_SLEEP,
    ) -> None:
        self.caller = caller
        self._settings = settings or ResilienceSettings()
        self._metrics = metrics or process_metrics()
        self._clock = clock
        self._sleep = sleep
        self._policies: dict[str, ResilientCall] = {}

    def policy(self, dependency: str, config: ResilienceConfig | None = None) -> ResilientCall:
        """The dependency's policy, built on first use with ``config`` and the switches."""
        wanted = switched(config or ResilienceConfig(), self._settings)
        existing = self._policies.get(dependency)
        if existing is None:
            existing = self._policies[dependency] = ResilientCall(
                self.caller,
                dependency,
                wanted,
                metrics=self._metrics,
                clock=self._clock,
                sleep=self._sleep,
            )
        elif config is not None and existing.config != wanted:
            raise ValueError(f"{self.caller}→{dependency} already has another configuration")
        return existing
