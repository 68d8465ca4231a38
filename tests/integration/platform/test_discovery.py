"""Service discovery on a real NATS key-value store: registration, TTL, watch, balancing.

Each test uses a namespace of its own on the throwaway nats-server (see
``nats_server.py``) and a short TTL, so that expiry is seen in seconds.
"""

import asyncio
import contextlib
import sys
import textwrap
import uuid
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NoKeysError

from shoplab.platform.discovery import Balancer, Instance
from shoplab.platform.discovery.registry.bucket import open_bucket
from shoplab.platform.discovery.registry.registration import registered
from shoplab.platform.discovery.registry.resolver import RegistryResolver
from shoplab.platform.messaging.streams import Topology

from ..nats_server import nats_url

__all__ = ["nats_url"]

TTL = 2.0
POLL_SECONDS = 0.05
SERVER_EXPIRY_SLACK = 1.5
"""How late after the TTL the server may remove an entry (seen: about 0.3 s)."""

REGISTER_AND_WAIT = textwrap.dedent(
    """
    import asyncio, sys
    import nats
    from shoplab.platform.discovery import Instance
    from shoplab.platform.discovery.registry.registration import registered
    from shoplab.platform.messaging.streams import Topology

    async def main(url, namespace, ttl):
        connection = await nats.connect(url)
        instance = Instance(service="inventory", id="doomed", host="127.0.0.1", ports={"http": 1})
        async with registered(connection.jetstream(), Topology(namespace), instance, ttl):
            print("registered", flush=True)
            await asyncio.Event().wait()

    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
    """
)


@pytest.fixture
def topology() -> Topology:
    return Topology(namespace=f"t{uuid.uuid4().hex[:12]}")


async def connect(url: str) -> Client:
    return await nats.connect(url)


@pytest.fixture
async def registrar(nats_url: str) -> AsyncIterator[JetStreamContext]:
    """The registering side's connection."""
    connection = await connect(nats_url)
    yield connection.jetstream()
    await connection.close()


@pytest.fixture
async def caller(nats_url: str) -> AsyncIterator[JetStreamContext]:
    """The calling side's connection, apart from the registering side's."""
    connection = await connect(nats_url)
    yield connection.jetstream()
    await connection.close()


@pytest.fixture
async def resolver(caller: JetStreamContext, topology: Topology) -> AsyncIterator[RegistryResolver]:
    resolver = RegistryResolver(caller, topology, ttl=TTL)
    await resolver.start()
    yield resolver
    await resolver.stop()


def inventory(instance_id: str, port: int = 8101) -> Instance:
    return Instance(
        service="inventory", id=instance_id, host="127.0.0.1", ports={"http": port, "grpc": 9101}
    )


def ids(instances: list[Instance]) -> list[str]:
    return [instance.id for instance in instances]


async def eventually(check: Callable[[], bool], within: float, what: str) -> float:
    """Seconds until ``check()`` held; AssertionError if it did not within ``within``."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not check():
        if loop.time() - started > within:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(POLL_SECONDS)
    return loop.time() - started


async def said(process: asyncio.subprocess.Process, line: bytes) -> None:
    """Wait for ``line`` among the process's output (its logs come first)."""
    assert process.stdout is not None
    while (read := await process.stdout.readline()) != line:
        assert read, f"the process ended without saying {line!r}"


async def server_keys(js: JetStreamContext, topology: Topology) -> list[str]:
    """The keys the server holds now (``keys`` skips delete and expiry markers)."""
    kv = await open_bucket(js, topology, TTL)
    try:
        return await kv.keys()
    except NoKeysError:
        return []


async def test_a_registered_instance_is_seen_by_a_resolver_on_another_connection(
    registrar: JetStreamContext, topology: Topology, resolver: RegistryResolver
) -> None:
    assert resolver.live("inventory") == []
    one = inventory("1")
    async with registered(registrar, topology, one, TTL):
        await eventually(lambda: bool(resolver.live("inventory")), 2.0, "inventory-1 is seen")
        (seen,) = await resolver.instances("inventory")
    assert seen == one
    assert seen.url("grpc") == "http://127.0.0.1:9101"
    assert seen.registered_at.tzinfo is not None
    assert seen.version
    assert resolver.live("catalog") == []


async def test_a_resolver_started_later_loads_what_is_registered(
    registrar: JetStreamContext, caller: JetStreamContext, topology: Topology
) -> None:
    async with registered(registrar, topology, inventory("1"), TTL):
        late = RegistryResolver(caller, topology, ttl=TTL)
        await late.start()
        try:
            assert ids(await late.instances("inventory")) == ["1"]
        finally:
            await late.stop()


async def test_heartbeats_keep_an_instance_registered_beyond_its_ttl(
    registrar: JetStreamContext, topology: Topology, resolver: RegistryResolver
) -> None:
    async with registered(registrar, topology, inventory("1"), TTL) as registration:
        assert registration.interval == pytest.approx(TTL / 3)
        await eventually(lambda: bool(resolver.live("inventory")), 2.0, "inventory-1 is seen")
        await asyncio.sleep(2.5 * TTL)
        assert ids(resolver.live("inventory")) == ["1"]
        assert await server_keys(registrar, topology) == ["inventory.1"]


async def test_deregistration_removes_an_instance_at_once(
    registrar: JetStreamContext, topology: Topology, resolver: RegistryResolver
) -> None:
    async with registered(registrar, topology, inventory("1"), TTL):
        await eventually(lambda: bool(resolver.live("inventory")), 2.0, "inventory-1 is seen")
    await eventually(lambda: not resolver.live("inventory"), 0.5, "inventory-1 is forgotten")
    assert await server_keys(registrar, topology) == []


async def test_an_instance_killed_with_sigkill_leaves_within_its_ttl(
    nats_url: str,
    registrar: JetStreamContext,
    caller: JetStreamContext,
    topology: Topology,
    resolver: RegistryResolver,
) -> None:
    """The resolver drops it within the TTL by age; the server's expiry reaches a watch too."""
    never = datetime(2000, 1, 1, tzinfo=UTC)
    watch_only = RegistryResolver(
        caller, topology, ttl=TTL, resync_seconds=60, clock=lambda: never
    )  # neither its age check nor a resync can drop an entry: only the server's marker
    await watch_only.start()
    balancer = Balancer(resolver)
    doomed = await asyncio.create_subprocess_exec(
        sys.executable, "-c", REGISTER_AND_WAIT, nats_url, topology.namespace, str(TTL), stdout=PIPE
    )
    try:
        await asyncio.wait_for(said(doomed, b"registered\n"), 30)
        async with registered(registrar, topology, inventory("survivor"), TTL):
            await eventually(lambda: len(resolver.live("inventory")) == 2, 2.0, "both are seen")
            await asyncio.sleep(TTL)  # heartbeats have replaced the first entry
            doomed.kill()
            await doomed.wait()
            gone = await eventually(
                lambda: ids(resolver.live("inventory")) == ["survivor"], TTL + 1, "doomed leaves"
            )
            assert gone <= TTL + 2 * POLL_SECONDS
            assert {(await balancer.pick("inventory")).id for _ in range(10)} == {"survivor"}
            await eventually(
                lambda: ids(watch_only.live("inventory")) == ["survivor"],
                TTL + SERVER_EXPIRY_SLACK,
                "the server's expiry marker reaches the watch",
            )
            assert await server_keys(registrar, topology) == ["inventory.survivor"]
    finally:
        with contextlib.suppress(ProcessLookupError):
            doomed.kill()
        await doomed.wait()
        await watch_only.stop()


async def test_an_entry_older_than_the_ttl_is_not_offered_even_while_the_server_keeps_it(
    registrar: JetStreamContext, caller: JetStreamContext, topology: Topology
) -> None:
    """The resolver's own age check: a missed expiry marker cannot keep a dead instance."""
    one_ttl_later = RegistryResolver(
        caller, topology, ttl=TTL, clock=lambda: datetime.now(UTC) + timedelta(seconds=TTL)
    )
    await one_ttl_later.start()
    try:
        async with registered(registrar, topology, inventory("1"), TTL):
            assert await server_keys(registrar, topology) == ["inventory.1"]
            assert await one_ttl_later.instances("inventory") == []
    finally:
        await one_ttl_later.stop()


async def test_the_balancer_spreads_over_live_instances_and_skips_gone_ones(
    registrar: JetStreamContext, topology: Topology, resolver: RegistryResolver
) -> None:
    balancer = Balancer(resolver)
    async with contextlib.AsyncExitStack() as stack:
        registrations = [
            await stack.enter_async_context(registered(registrar, topology, inventory(n), TTL))
            for n in ("1", "2", "3")
        ]
        await eventually(lambda: len(resolver.live("inventory")) == 3, 2.0, "all three seen")
        picks = [(await balancer.pick("inventory")).id for _ in range(9)]
        assert sorted(picks) == ["1"] * 3 + ["2"] * 3 + ["3"] * 3
        assert (await balancer.pick("inventory", exclude={"1", "2"})).id == "3"
        await registrations[1].deregister()
        await eventually(lambda: len(resolver.live("inventory")) == 2, 0.5, "2 is forgotten")
        picks = [(await balancer.pick("inventory")).id for _ in range(20)]
        assert set(picks) == {"1", "3"}
        assert picks.count("1") == picks.count("3")


async def test_an_unreadable_entry_is_ignored(
    registrar: JetStreamContext, topology: Topology, resolver: RegistryResolver
) -> None:
    kv = await open_bucket(registrar, topology, TTL)
    await kv.put("inventory.garbage", b"not json")
    await kv.put("inventory.2", inventory("3").model_dump_json().encode())  # a foreign key
    async with registered(registrar, topology, inventory("1"), TTL):
        await eventually(lambda: bool(resolver.live("inventory")), 2.0, "inventory-1 is seen")
        assert ids(resolver.live("inventory")) == ["1"]


async def test_a_bucket_made_with_another_ttl_is_brought_to_the_configured_one(
    registrar: JetStreamContext, topology: Topology
) -> None:
    await open_bucket(registrar, topology, 30.0)
    kv = await open_bucket(registrar, topology, TTL)
    status = await kv.status()
    assert status.ttl == pytest.approx(TTL)
    assert status.marker_ttl == pytest.approx(TTL)
    assert status.bucket == f"{topology.namespace.upper()}_SHOPLAB_REGISTRY"
