"""Sending a fault order to every instance of a running service (``shoplab fault``).

The order goes out on the service's control subject as a control request
(``brokers.ask_every``: a reply inbox on NATS, a reply queue on RabbitMQ); each
instance answers once. The sender waits until as many instances as the run
has answered, or until the wait is over, and returns what each one said.
"""

import json
from pathlib import Path
from typing import Any

from shoplab.platform.faults import OPERATOR, FaultOrder, control_subject
from shoplab.platform.internal_auth import ServiceCredentials, load_service_secret
from shoplab.platform.messaging.brokers import ask_every
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
    answers = await ask_every(
        broker_url,
        topology,
        control_subject(service),
        order.model_dump_json().encode(),
        answers=instances,
        wait=wait,
    )
    decoded: list[dict[str, Any]] = [json.loads(answer) for answer in answers]
    return sorted(decoded, key=lambda answer: str(answer.get("instance", "")))
