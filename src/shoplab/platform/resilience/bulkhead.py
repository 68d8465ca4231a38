"""A bulkhead: at most ``limit`` calls in flight to one dependency; the excess is refused at once.

A slow dependency holds every call made to it. Without a bound, the callers'
requests pile up on it until the caller itself runs out of memory, sockets or
patience, and one slow service takes down every service that calls it. The
bulkhead keeps each dependency's share of the caller bounded, and refuses
rather than queues: a queue would only move the pile-up, and the caller learns
at once that it should degrade.

Hand-written because it is a counter: the process runs on one event loop, so
no lock is needed, and ``asyncio.Semaphore`` would queue instead of refusing.
``limit=None`` is the switched-off bulkhead: unbounded, still counted.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from shoplab.platform.resilience.errors import BulkheadFull


class Bulkhead:
    def __init__(
        self,
        dependency: str,
        limit: int | None,
        on_change: Callable[[int], None] = lambda in_use: None,
    ) -> None:
        self._dependency = dependency
        self._limit = limit
        self._on_change = on_change
        self.in_use = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one place for the block; raise ``BulkheadFull`` when none is free."""
        if self._limit is not None and self.in_use >= self._limit:
            raise BulkheadFull(self._dependency, self._limit)
        self._set(self.in_use + 1)
        try:
            yield
        finally:
            self._set(self.in_use - 1)

    def _set(self, in_use: int) -> None:
        self.in_use = in_use
        self._on_change(in_use)
