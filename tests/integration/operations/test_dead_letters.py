"""Listing and replaying dead letters on a real NATS server, through the functions and the CLI."""

import asyncio
import contextlib
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shoplab.contracts.envelope import Envelope
from shoplab.operations import dead_letters
from shoplab.platform.messaging import dead_letters as letter_format
from shoplab.platform.messaging.dead_letters import DeadLetterNotFound
from shoplab.platform.messaging.errors import BrokerUnreachable
from shoplab.platform.messaging.streams import DEAD_LETTER_PREFIX, DEAD_LETTERS
from shoplab.runtime.ports import free_ports

from .. import nats_server

nats_url = nats_server.nats_url

ORDER_SUBJECT = "shoplab.orders.events.OrderApproved"
CONSUMER = "notifications.approved"


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    """A JetStream context with fresh ``SHOPLAB_DLQ`` and ``SHOPLAB_ORDERS`` streams."""
    client = await nats.connect(nats_url)
    context = client.jetstream()
    for name, subjects in (
        (DEAD_LETTERS, f"{DEAD_LETTER_PREFIX}.>"),
        ("SHOPLAB_ORDERS", "shoplab.orders.>"),
    ):
        with contextlib.suppress(NotFoundError):
            await context.delete_stream(name)
        await context.add_stream(name=name, subjects=[subjects])
    try:
        yield context
    finally:
        await client.close()


async def put_dead_letter(js: JetStreamContext, *, error: str = "payment gateway said no") -> str:
    """Publish an order event as its outbox relay would, then dead-letter it as a consumer would."""
    envelope = Envelope(
        type="OrderApproved",
        version=1,
        subject=ORDER_SUBJECT,
        correlation_id=str(uuid.uuid4()),
        payload={"order_id": str(uuid.uuid4())},
    )
    data = envelope.model_dump_json().encode()
    await js.publish(ORDER_SUBJECT, data, headers={"Nats-Msg-Id": envelope.message_id})
    headers = {
        letter_format.ORIGINAL_SUBJECT: ORDER_SUBJECT,
        letter_format.CONSUMER: CONSUMER,
        letter_format.ERROR: error,
        letter_format.DELIVERIES: "5",
    }
    await js.publish(f"shoplab.dlq.{CONSUMER}", data, headers=headers)
    return envelope.message_id


async def test_list_shows_each_dead_letter_with_its_headers(
    js: JetStreamContext, nats_url: str
) -> None:
    first = await put_dead_letter(js)
    second = await put_dead_letter(js, error="boom")

    letters = await dead_letters.list_dead_letters(nats_url)

    assert [letter.message_id for letter in letters] == [first, second]
    letter = letters[0]
    assert letter.type == "OrderApproved"
    assert letter.original_subject == ORDER_SUBJECT
    assert letter.consumer == CONSUMER
    assert letter.deliveries == 5
    assert letter.error == "payment gateway said no"
    assert letter.dead_lettered_at is not None
    assert (letter.envelope() or {})["message_id"] == first


async def test_replay_republishes_to_the_original_subject_and_removes_the_letter(
    js: JetStreamContext, nats_url: str
) -> None:
    replayed_id = await put_dead_letter(js)
    kept_id = await put_dead_letter(js)
    original = await dead_letters.list_dead_letters(nats_url)

    replayed = await dead_letters.replay_dead_letter(nats_url, replayed_id)

    assert (replayed.stream, replayed.removed) == ("SHOPLAB_ORDERS", 1)
    copy = await js.get_msg("SHOPLAB_ORDERS", replayed.sequence)
    assert copy.subject == ORDER_SUBJECT
    assert copy.data == original[0].data
    assert (copy.headers or {})["Nats-Msg-Id"].startswith(f"replay-{replayed_id}-")
    remaining = await dead_letters.list_dead_letters(nats_url)
    assert [letter.message_id for letter in remaining] == [kept_id]


async def test_replay_of_an_unknown_id_raises(js: JetStreamContext, nats_url: str) -> None:
    await put_dead_letter(js)
    with pytest.raises(DeadLetterNotFound):
        await dead_letters.replay_dead_letter(nats_url, "no-such-message")


async def test_no_stream_means_no_dead_letters(js: JetStreamContext, nats_url: str) -> None:
    await js.delete_stream(DEAD_LETTERS)
    assert await dead_letters.list_dead_letters(nats_url) == []


async def test_an_unreachable_broker_is_named() -> None:
    (port,) = free_ports(1)
    with pytest.raises(BrokerUnreachable, match=str(port)):
        await dead_letters.list_dead_letters(f"nats://127.0.0.1:{port}")


async def test_cli_lists_as_json_replays_and_refuses_an_unknown_id(
    js: JetStreamContext, nats_url: str
) -> None:
    message_id = await put_dead_letter(js)

    code, listed = await shoplab("dlq", "list", "--broker", nats_url, "--json")
    assert code == 0, listed
    assert [letter["message_id"] for letter in json.loads(listed)] == [message_id]

    code, output = await shoplab("dlq", "replay", message_id, "--broker", nats_url)
    assert code == 0, output
    assert await dead_letters.list_dead_letters(nats_url) == []

    code, output = await shoplab("dlq", "replay", message_id, "--broker", nats_url)
    assert code == 1
    assert "no dead letter" in output


async def shoplab(*args: str) -> tuple[int, str]:
    """Run the CLI in its own process (it runs its own event loop); exit code and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shoplab",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200"},
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode()
