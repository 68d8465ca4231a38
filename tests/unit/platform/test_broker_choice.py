"""Choosing a broker and a discovery by configuration, without any server."""

import pytest

from shoplab.platform.discovery import WithoutRegistry, discovery_from_settings
from shoplab.platform.messaging.brokers import is_amqp, open_bus
from shoplab.platform.messaging.jetstream.bus import NatsBus
from shoplab.platform.messaging.rabbitmq.bus import RabbitBus
from shoplab.platform.settings import PlatformSettings
from shoplab.runtime.broker import without_password


def test_the_url_scheme_chooses_the_bus() -> None:
    settings = PlatformSettings(broker_namespace="run7")
    rabbit = open_bus("amqp://u:p@127.0.0.1:5672/", service="orders-1", settings=settings)
    nats = open_bus("nats://127.0.0.1:4222", service="orders-1", settings=settings)
    assert isinstance(rabbit, RabbitBus)
    assert isinstance(nats, NatsBus)
    assert is_amqp("amqps://h:5671/")
    assert not is_amqp("nats://h:4222")


async def test_static_discovery_lists_the_instances_it_was_given() -> None:
    settings = PlatformSettings(
        discovery="static",
        discovery_instances=[
            {"service": "inventory", "id": "1", "host": "127.0.0.1", "ports": {"grpc": 9001}},
            {"service": "inventory", "id": "2", "host": "127.0.0.1", "ports": {"grpc": 9002}},
            {"service": "payments", "id": "1", "host": "127.0.0.1", "ports": {"grpc": 9003}},
        ],
    )
    discovery = discovery_from_settings(settings)
    assert isinstance(discovery, WithoutRegistry)
    found = await discovery.instances("inventory")
    assert [(i.id, i.ports["grpc"]) for i in found] == [("1", 9001), ("2", 9002)]


def test_the_registry_without_nats_says_what_to_use_instead() -> None:
    with pytest.raises(ValueError, match="static"):
        discovery_from_settings(PlatformSettings(discovery="registry"))
    on_rabbitmq = PlatformSettings(discovery="registry", broker_url="amqp://u:p@127.0.0.1:5672/")
    with pytest.raises(ValueError, match="static"):
        discovery_from_settings(on_rabbitmq)


def test_a_printed_broker_url_hides_its_password() -> None:
    assert without_password("amqp://guest:secret@h:5672/") == "amqp://guest:***@h:5672/"
    assert without_password("nats://h:4222") == "nats://h:4222"
