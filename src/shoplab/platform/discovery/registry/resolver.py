"""The local view of the registry that callers choose from, kept current by a watch.

A watch on the whole bucket first replays the newest entry of every key (the
snapshot), then pushes every change: a put adds or refreshes an instance, a
delete (clean shutdown) or an expiry marker (TTL passed) removes it. Reading
the view costs no round trip, which matters on every call.

Two safeties cover what a watch can miss:

- the view also forgets an entry whose last heartbeat is older than the TTL,
  by the broker's timestamp, so a dead instance is never offered even before
  (or without) the server's expiry marker. This assumes the caller's clock and
  the broker's agree to within about two thirds of the TTL (heartbeats come
  every third), which holds on one machine and with NTP;
- every ``resync_seconds`` the watch is started afresh and the view rebuilt
  from its snapshot, so a watch broken by a broker restart heals by itself.
"""

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import nats.errors
import structlog
from nats.js import JetStreamContext
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue
from pydantic import ValidationError

from shoplab.platform.discovery.instance import Instance
from shoplab.platform.discovery.registry.bucket import open_bucket
from shoplab.platform.discovery.resolver import DEFAULT_TTL_SECONDS
from shoplab.platform.discovery.tasks import cancel_and_wait
from shoplab.platform.messaging.streams import Topology
from shoplab.platform.time import now

log = structlog.get_logger(__name__)

RETRY_SECONDS = 1.0
START_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class _Seen:
    instance: Instance
    heartbeat_at: datetime


class RegistryResolver:
    """Live instances per service, from the NATS key-value registry."""

    def __init__(
        self,
        js: JetStreamContext,
        topology: Topology,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        resync_seconds: float | None = None,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self._js = js
        self._topology = topology
        self._ttl = ttl
        self._resync = resync_seconds or 3 * ttl
        self._clock = clock
        self._seen: dict[str, _Seen] = {}
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start watching; return once the first snapshot is in the view.

        Raises TimeoutError when the registry cannot be read in time.
        """
        self._task = asyncio.create_task(self._follow(), name="registry watch")
        try:
            async with asyncio.timeout(START_TIMEOUT_SECONDS):
                await self._ready.wait()
        except TimeoutError:
            await self.stop()
            raise

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    async def instances(self, service: str) -> list[Instance]:
        return self.live(service)

    def live(self, service: str) -> list[Instance]:
        """The instances of ``service`` heard from within the TTL, ordered by id."""
        oldest = self._clock() - timedelta(seconds=self._ttl)
        return [
            seen.instance
            for _key, seen in sorted(self._seen.items())
            if seen.instance.service == service and seen.heartbeat_at > oldest
        ]

    async def _follow(self) -> None:
        while True:
            try:
                await self._watch_once(await open_bucket(self._js, self._topology, self._ttl))
            except (nats.errors.Error, OSError, TimeoutError) as error:
                log.warning("registry watch failed; retrying", error=repr(error))
                await asyncio.sleep(RETRY_SECONDS)

    async def _watch_once(self, kv: KeyValue) -> None:
        """Load the snapshot into a fresh view, then apply changes until the next resync.

        Waits use ``asyncio.timeout`` around the watcher's queue rather than
        ``KeyWatcher.updates(timeout)``, whose ``wait_for`` can swallow a
        cancellation on Python 3.11 (see ``tasks``).
        """
        watcher = await kv.watchall()
        try:
            snapshot: dict[str, _Seen] = {}
            async with asyncio.timeout(self._ttl):
                while (entry := await _next(watcher)) is not None:
                    _apply(snapshot, entry)
            self._seen = snapshot
            self._ready.set()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._resync):
                    while True:
                        if (entry := await _next(watcher)) is not None:
                            _apply(self._seen, entry)
        finally:
            with contextlib.suppress(Exception):
                await watcher.stop()  # type: ignore[no-untyped-call]


async def _next(watcher: KeyValue.KeyWatcher) -> KeyValue.Entry | None:
    """The next change; None marks the end of the snapshot. (nats-py leaves it untyped.)"""
    entry: KeyValue.Entry | None = await watcher.__anext__()  # type: ignore[no-untyped-call]
    return entry


def _apply(seen: dict[str, _Seen], entry: KeyValue.Entry) -> None:
    if entry.operation in (KV_DEL, KV_PURGE) or not entry.value:
        seen.pop(entry.key, None)
        return
    try:
        instance = Instance.model_validate_json(entry.value)
    except ValidationError:
        log.warning("unreadable registry entry ignored", key=entry.key)
        seen.pop(entry.key, None)
        return
    if instance.key != entry.key:
        log.warning("registry entry under a foreign key ignored", key=entry.key)
        return
    written = entry.created  # typed int by nats-py, but the message's datetime in fact
    seen[entry.key] = _Seen(instance, written if isinstance(written, datetime) else now())
