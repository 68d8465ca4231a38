"""Keeping one instance in the registry for as long as it runs.

``registered`` puts the instance's entry, re-puts it every ``ttl / 3`` seconds
(the heartbeat) and deletes it on a clean exit. Three heartbeats per TTL mean
that one or two lost to a slow broker do not drop a live instance; a process
killed with -9 stops beating and its entry expires within the TTL.

A heartbeat that fails is logged and tried again at the next beat, reopening
the bucket in case the broker lost it: the instance comes back by itself once
the broker does.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from shoplab.platform.discovery.instance import Instance
from shoplab.platform.discovery.registry.bucket import open_bucket
from shoplab.platform.discovery.resolver import DEFAULT_TTL_SECONDS
from shoplab.platform.discovery.tasks import cancel_and_wait
from shoplab.platform.messaging.streams import Topology

log = structlog.get_logger(__name__)

BEATS_PER_TTL = 3


class Registration:
    """One instance's entry in the registry: written, kept alive, and removed."""

    def __init__(
        self,
        js: JetStreamContext,
        topology: Topology,
        instance: Instance,
        ttl: float = DEFAULT_TTL_SECONDS,
    ) -> None:
        self.instance = instance
        self.ttl = ttl
        self.interval = ttl / BEATS_PER_TTL
        self._js = js
        self._topology = topology
        self._kv: KeyValue | None = None
        self._heartbeat: asyncio.Task[None] | None = None

    async def register(self) -> None:
        """Put the entry now (raising if the broker refuses), then keep it alive."""
        await self._put()
        self._heartbeat = asyncio.create_task(self._beat(), name=f"heartbeat {self.instance.key}")
        log.info("registered", instance=self.instance.key, ttl=self.ttl)

    async def deregister(self) -> None:
        """Stop the heartbeat and delete the entry, so callers stop choosing it at once.

        Should the delete fail, the entry still expires within the TTL.
        """
        if self._heartbeat is not None:
            await cancel_and_wait(self._heartbeat)
            self._heartbeat = None
        try:
            kv = self._kv or await self._bucket()
            await kv.delete(self.instance.key)
        except Exception as error:
            log.warning("deregistration failed", instance=self.instance.key, error=repr(error))
        else:
            log.info("deregistered", instance=self.instance.key)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._put()
            except Exception as error:
                self._kv = None
                log.warning("heartbeat failed", instance=self.instance.key, error=repr(error))

    async def _put(self) -> None:
        kv = self._kv or await self._bucket()
        await kv.put(self.instance.key, self.instance.model_dump_json().encode())

    async def _bucket(self) -> KeyValue:
        self._kv = await open_bucket(self._js, self._topology, self.ttl)
        return self._kv


@asynccontextmanager
async def registered(
    js: JetStreamContext,
    topology: Topology,
    instance: Instance,
    ttl: float = DEFAULT_TTL_SECONDS,
) -> AsyncIterator[Registration]:
    """Hold ``instance`` in the registry for the duration of the block."""
    registration = Registration(js, topology, instance, ttl)
    await registration.register()
    try:
        yield registration
    finally:
        await registration.deregister()
