"""The machine's RabbitMQ for integration tests, and a namespace of its own per test.

``SHOPLAB_TEST_RABBITMQ_URL`` names the server (default: the local guest account).
Outside CI a test is skipped when no server answers; in CI it fails instead, so a
missing server cannot hide behind a skip. Each test's exchange and queues are
deleted afterwards.
"""

import os
import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest

from shoplab.platform.messaging.rabbitmq.topology import RabbitTopology, delete_namespace
from shoplab.platform.messaging.streams import Topology

RABBITMQ_URL_ENV = "SHOPLAB_TEST_RABBITMQ_URL"
DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture(scope="session")
async def rabbitmq_url() -> str:
    url = os.environ.get(RABBITMQ_URL_ENV, DEFAULT_URL)
    try:
        connection = await aio_pika.connect(url, timeout=3)
    except Exception as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no RabbitMQ at {url} ({error!r}); set {RABBITMQ_URL_ENV}")
    await connection.close()
    return url


@pytest.fixture
async def topology(rabbitmq_url: str) -> AsyncIterator[Topology]:
    """A fresh namespace, deleted with everything in it after the test."""
    topology = Topology(namespace=f"r{uuid.uuid4().hex[:12]}")
    yield topology
    await delete_namespace(rabbitmq_url, RabbitTopology(topology))
