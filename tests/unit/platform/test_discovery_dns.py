"""The DNS resolver (Kubernetes): names from a template, addresses to instances, caching."""

import socket
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shoplab.platform.discovery import DnsResolver, WithoutRegistry, discovery_from_settings
from shoplab.platform.discovery.dns import AddrInfo, instances_from_addrinfo, render_name
from shoplab.platform.discovery.registry.discovery import RegistryDiscovery
from shoplab.platform.settings import PlatformSettings

PORTS = {"http": 8000, "grpc": 50051}
AT = datetime(2026, 1, 1, tzinfo=UTC)
NATS = "nats://127.0.0.1:4222"


def answer(host: str, port: int = 0) -> AddrInfo:
    if ":" in host:
        return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (host, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (host, port))


class ScriptedLookup:
    """Answers (or failures) in order, counting the lookups made."""

    def __init__(self, *results: Sequence[AddrInfo] | OSError) -> None:
        self.results = list(results)
        self.names: list[str] = []

    async def __call__(self, name: str) -> Sequence[AddrInfo]:
        self.names.append(name)
        result = self.results.pop(0)
        if isinstance(result, OSError):
            raise result
        return result


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_default_template_names_a_kubernetes_service() -> None:
    template = PlatformSettings().discovery_dns_template
    assert render_name(template, "orders", "shop") == "orders.shop.svc.cluster.local"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("orders.svc", "needs {service}"),
        ("{service}.{cluster}", "only"),
        ("{service}.{0}", "only"),
    ],
)
def test_a_template_with_unknown_placeholders_is_refused(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DnsResolver(template, "shop", PORTS)


def test_each_distinct_address_is_one_instance_in_a_stable_order() -> None:
    answers = [answer("10.0.0.9"), answer("10.0.0.7"), answer("10.0.0.9"), answer("fd00::7")]
    found = instances_from_addrinfo("inventory", answers, PORTS, AT)
    assert [i.host for i in found] == ["10.0.0.7", "10.0.0.9", "fd00::7"]
    assert [i.id for i in found] == ["10-0-0-7", "10-0-0-9", "fd00--7"]
    assert found[2].address("grpc") == "[fd00::7]:50051"
    assert {i.service for i in found} == {"inventory"}
    assert all(i.ports == PORTS and i.registered_at == AT for i in found)


async def test_localhost_resolves_through_the_system_resolver() -> None:
    found = await DnsResolver("{service}", "", PORTS).instances("localhost")
    assert found
    assert {i.host for i in found} <= {"127.0.0.1", "::1"}
    assert found[0].url("http") in {"http://127.0.0.1:8000", "http://[::1]:8000"}


async def test_answers_are_cached_then_looked_up_again() -> None:
    clock = FakeClock()
    lookup = ScriptedLookup([answer("10.0.0.1")], [answer("10.0.0.1"), answer("10.0.0.2")])
    resolver = DnsResolver(
        "{service}.{namespace}.svc", "shop", PORTS, cache_seconds=5, lookup=lookup, clock=clock
    )
    assert [i.host for i in await resolver.instances("payments")] == ["10.0.0.1"]
    clock.now = 4.9
    assert [i.host for i in await resolver.instances("payments")] == ["10.0.0.1"]
    clock.now = 5.1
    assert [i.host for i in await resolver.instances("payments")] == ["10.0.0.1", "10.0.0.2"]
    assert lookup.names == ["payments.shop.svc"] * 2


async def test_a_passing_failure_keeps_the_last_answer_but_a_missing_name_empties_it() -> None:
    clock = FakeClock()
    lookup = ScriptedLookup(
        [answer("10.0.0.1")],
        socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
    )
    resolver = DnsResolver("{service}", "", PORTS, lookup=lookup, clock=clock)
    assert len(await resolver.instances("payments")) == 1
    clock.now = 10
    assert len(await resolver.instances("payments")) == 1
    clock.now = 20
    assert await resolver.instances("payments") == []


def test_settings_choose_the_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPLAB_DISCOVERY", "dns")
    monkeypatch.setenv("SHOPLAB_DISCOVERY_DNS_PORTS", '{"http": 8080}')
    discovery = discovery_from_settings(PlatformSettings())
    assert isinstance(discovery, WithoutRegistry)
    assert isinstance(discovery.resolver, DnsResolver)
    assert discovery.resolver.name("orders") == "orders.shoplab.svc.cluster.local"
    monkeypatch.setenv("SHOPLAB_DISCOVERY", "registry")
    monkeypatch.delenv("SHOPLAB_BROKER_URL", raising=False)
    with pytest.raises(ValueError, match="JetStream"):
        discovery_from_settings(PlatformSettings())
    monkeypatch.setenv("SHOPLAB_DISCOVERY", "consul")
    with pytest.raises(ValidationError):
        PlatformSettings()


def test_the_registry_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPLAB_DISCOVERY", raising=False)
    monkeypatch.delenv("SHOPLAB_DISCOVERY_TTL_SECONDS", raising=False)
    settings = PlatformSettings()
    assert settings.discovery == "registry"
    assert settings.discovery_ttl_seconds == 10.0
    discovery = discovery_from_settings(settings.model_copy(update={"broker_url": NATS}))
    assert isinstance(discovery, RegistryDiscovery)
    assert (discovery.url, discovery.ttl) == (NATS, 10.0)
