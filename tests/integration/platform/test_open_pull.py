"""``OpenPull`` against a real JetStream server: requests kept open, and asked for again."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig

from shoplab.platform.messaging.jetstream.open_pull import API_PREFIX, OpenPull

from .. import nats_server

nats_url = nats_server.nats_url
WAIT_SECONDS = 10.0


class Lab:
    """A stream of its own with one durable consumer, and a watch on the pull requests."""

    def __init__(self, connection: Client) -> None:
        self.connection = connection
        self.stream = f"PULL_{uuid.uuid4().hex[:8].upper()}"
        self.subject = f"pull.{self.stream.lower()}"
        self.consumer = "worker"
        self.requests = 0

    async def create(self) -> None:
        jetstream = self.connection.jetstream()
        await jetstream.add_stream(name=self.stream, subjects=[self.subject])
        await self.add_consumer()

        async def requested(_: Msg) -> None:
            self.requests += 1

        watched = f"{API_PREFIX}.CONSUMER.MSG.NEXT.{self.stream}.{self.consumer}"
        await self.connection.subscribe(watched, cb=requested)

    async def add_consumer(self) -> None:
        config = ConsumerConfig(
            name=self.consumer, durable_name=self.consumer, filter_subject=self.subject
        )
        await self.connection.jetstream().add_consumer(self.stream, config=config)

    async def until_waiting(self, requests: int) -> None:
        """Until the consumer holds ``requests`` pull requests waiting."""
        jetstream = self.connection.jetstream()
        while (await jetstream.consumer_info(self.stream, self.consumer)).num_waiting < requests:  # noqa: ASYNC110 (the server is what is watched)
            await asyncio.sleep(0.01)

    async def publish(self, count: int = 1) -> None:
        for n in range(count):
            await self.connection.jetstream().publish(self.subject, str(n).encode())

    def pull(self, **timing: float) -> OpenPull:
        return OpenPull(self.connection, self.stream, self.consumer, batch=8, **timing)


@pytest.fixture
async def lab(nats_url: str) -> AsyncIterator[Lab]:
    connection = await nats.connect(nats_url)
    lab = Lab(connection)
    await lab.create()
    yield lab
    await connection.jetstream().delete_stream(lab.stream)
    await connection.close()


async def taken(pull: OpenPull) -> list[Msg]:
    return await asyncio.wait_for(pull.next_batch(), WAIT_SECONDS)


async def test_messages_one_at_a_time_need_no_request_each(lab: Lab) -> None:
    pull = lab.pull()
    await pull.start()
    try:
        for _ in range(3):  # under half the batch: the first request still has room
            await lab.publish()
            (message,) = await taken(pull)
            await message.ack()
        await lab.connection.flush()
        assert lab.requests == 1, "nats-py's fetch would have made two requests a message"
    finally:
        await pull.stop()


async def test_no_more_than_a_batch_waits_unhandled(lab: Lab) -> None:
    await lab.publish(30)
    pull = lab.pull()
    await pull.start()
    try:
        handled = 0
        while handled < 30:
            batch = await taken(pull)
            assert 1 <= len(batch) <= 8
            await asyncio.sleep(0.05)  # let more arrive than a batch, were it allowed
            assert pull.asked + pull.waiting <= 8
            for message in batch:
                await message.ack()
            handled += len(batch)
        assert handled == 30
    finally:
        await pull.stop()


async def test_an_expired_request_is_asked_for_again(lab: Lab) -> None:
    pull = lab.pull(expires=0.3, heartbeat=0.1)
    await pull.start()
    try:
        await asyncio.wait_for(_until(lambda: lab.requests >= 3), WAIT_SECONDS)  # two expired
        await lab.publish()
        (message,) = await taken(pull)
        assert message.data == b"0"
    finally:
        await pull.stop()


async def test_requests_the_server_ended_are_asked_for_after_a_silence(lab: Lab) -> None:
    """Deleting the consumer ends its waiting requests (409), and they are not asked for
    again at once (the consumer is gone); once it is back, consuming resumes."""
    pull = lab.pull(heartbeat=0.2)
    await pull.start()
    try:
        await asyncio.wait_for(lab.until_waiting(1), WAIT_SECONDS)
        await lab.connection.jetstream().delete_consumer(lab.stream, lab.consumer)
        await asyncio.wait_for(_until(lambda: pull.asked == 0), WAIT_SECONDS)
        requests = lab.requests
        await lab.add_consumer()
        await lab.publish()
        (message,) = await taken(pull)
        assert message.data == b"0"
        assert lab.requests == requests + 1, "asked again once, after the silence"
    finally:
        await pull.stop()


async def test_what_arrived_and_was_not_taken_goes_back_at_stop(lab: Lab) -> None:
    await lab.publish(3)
    first = lab.pull()
    await first.start()
    await asyncio.wait_for(_until(lambda: first.waiting == 3), WAIT_SECONDS)
    await first.stop()
    second = lab.pull()
    await second.start()
    try:
        batch = await taken(second)
        assert sorted(m.data for m in batch) == [b"0", b"1", b"2"]
        assert all(m.metadata.num_delivered == 2 for m in batch), "redelivered at once"
    finally:
        await second.stop()


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():  # noqa: ASYNC110 (a plain state is what is watched)
        await asyncio.sleep(0.01)
