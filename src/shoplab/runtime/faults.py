"""Sending a fault order to every instance of a running service (``shoplab fault``).

The order goes out on the service's control subject with a reply inbox (on
RabbitMQ: routed by that subject, with a reply queue; see ``rabbit_admin``); each
instance answers once. The sender waits until as many instances as the run
has answered, or until the wait is over, and returns what each one said.
"""

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import nats
from nats.aio.msg import Msg

from shoplab.platform.faults import OPERATOR, FaultOrder, control_subject
from shoplab.platform.internal_auth import ServiceCredentials, load_service_secret
from shoplab.platform.messaging.brokers import is_amqp
from shoplab.platform.messaging.streams import Topology

WAIT_SECONDS = 3.0


def signed_order(data_dir: Path, latency_ms: int, error_rate: float) -> FaultOrder:
    """An order signed with the run's service secret, as the operator."""
    token = ServiceCredentials(load_service_secret(data_dir), OPERATOR).mint()
    return FaultOrder(token=token, latency_ms=latency_ms, error_rate=error_rate)


async def send_fault(
    broker_url: str,
    topology: Topology,
    service: str,
    order: FaultOrder,
    *,
    instances: int,
    wait: float = WAIT_SECONDS,
) -> list[dict[str, Any]]:
    """Publish ``order`` to every instance of ``service``; the answers that came back."""
    if is_amqp(broker_url):
        from shoplab.runtime import rabbit_admin

        return await rabbit_admin.send_fault(
            broker_url, topology, service, order, instances=instances, wait=wait
        )
    connection = await nats.connect(broker_url, connect_timeout=2, max_reconnect_attempts=1)
    answers: list[dict[str, Any]] = []
    everyone = asyncio.Event()
    try:
        inbox = connection.new_inbox()

        async def collect(message: Msg) -> None:
            answers.append(json.loads(message.data))
            if len(answers) >= instances:
                everyone.set()

        subscription = await connection.subscribe(inbox, cb=collect)
        await connection.publish(
            topology.wire(control_subject(service)),
            order.model_dump_json().encode(),
            reply=inbox,
        )
        with contextlib.suppress(TimeoutError):  # some instance did not answer: say so below
            await asyncio.wait_for(everyone.wait(), wait)
        await subscription.unsubscribe()
    finally:
        await connection.close()
    return sorted(answers, key=lambda answer: str(answer.get("instance", "")))
