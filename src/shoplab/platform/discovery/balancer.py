"""Choosing the instance for one call, on the caller's side.

Round robin over the live instances, skipping those marked failed.

Why round robin rather than power-of-two-choices: P2C (pick two at random,
take the one with fewer calls in flight) shines when instances differ in speed,
but it needs the balancer to see every call end, on every path, which would
couple it to the call machinery (resilience, gRPC). shoplab's instances are
identical processes on one machine, and faults are injected into all instances
of a service at once, so an even spread is what helps; round robin gives it
with no bookkeeping and is deterministic to test.

A dead instance stays in the registry until its TTL runs out. So that callers
stop choosing it at once, a caller whose call failed for availability reasons
(refused, reset, deadline) marks the instance failed: it is skipped for
``ejection_seconds`` (by default one registry TTL, by which time a dead
instance is gone and a live one is back in the rotation). ``exclude`` lets a
retry ask for any instance but the ones it already tried: that is fail-over.
When every instance not excluded is marked failed, one of them is still
returned (Envoy calls this panic mode): trying a suspect instance beats
refusing every call until the marks expire.
"""

import itertools
import time
from collections.abc import Callable, Collection, Iterator

from shoplab.platform.discovery.instance import Instance
from shoplab.platform.discovery.resolver import DEFAULT_TTL_SECONDS, Resolver


class NoInstanceAvailable(Exception):
    """No live instance of the service, or none but those excluded."""

    def __init__(self, service: str, excluded: Collection[str] = ()) -> None:
        but = f" besides {', '.join(sorted(excluded))}" if excluded else ""
        super().__init__(f"no live instance of {service}{but}")
        self.service = service


class Balancer:
    def __init__(
        self,
        resolver: Resolver,
        *,
        ejection_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._resolver = resolver
        self._ejection_seconds = ejection_seconds
        self._clock = clock
        self._turns: dict[str, Iterator[int]] = {}
        self._failed_until: dict[tuple[str, str], float] = {}

    async def pick(self, service: str, exclude: Collection[str] = ()) -> Instance:
        """The next live instance of ``service`` whose id is not in ``exclude``.

        Raises NoInstanceAvailable when there is none.
        """
        candidates = [i for i in await self._resolver.instances(service) if i.id not in exclude]
        if not candidates:
            raise NoInstanceAvailable(service, exclude)
        healthy = [i for i in candidates if not self.is_failed(i)]
        pool = healthy or candidates
        turn = next(self._turns.setdefault(service, itertools.count()))
        return pool[turn % len(pool)]

    async def fail_over(self, service: str, tried: list[str]) -> Instance:
        """For one attempt of a call: an instance not in ``tried`` when there is one, else any
        (a service with one instance gets it again). The choice is added to ``tried``."""
        try:
            instance = await self.pick(service, exclude=tried)
        except NoInstanceAvailable:
            instance = await self.pick(service)
        tried.append(instance.id)
        return instance

    def mark_failed(self, instance: Instance, seconds: float | None = None) -> None:
        """Skip ``instance`` for ``seconds`` (default ``ejection_seconds``)."""
        duration = self._ejection_seconds if seconds is None else seconds
        self._failed_until[(instance.service, instance.id)] = self._clock() + duration

    def mark_succeeded(self, instance: Instance) -> None:
        """Lift a mark early: a call to the instance just worked."""
        self._failed_until.pop((instance.service, instance.id), None)

    def is_failed(self, instance: Instance) -> bool:
        until = self._failed_until.get((instance.service, instance.id))
        if until is None:
            return False
        if self._clock() < until:
            return True
        del self._failed_until[(instance.service, instance.id)]
        return False
