"""The client-side balancer: round robin over live instances, failure marks, exclusion."""

from collections import Counter

import pytest
from pydantic import ValidationError

from shoplab.platform.discovery import Balancer, Instance, NoInstanceAvailable


class FakeResolver:
    """Answers from a dict that a test changes as instances come and go."""

    def __init__(self, live: dict[str, list[Instance]]) -> None:
        self.live = live

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def instances(self, service: str) -> list[Instance]:
        return list(self.live.get(service, []))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def instance(instance_id: str, service: str = "inventory") -> Instance:
    return Instance(service=service, id=instance_id, host="127.0.0.1", ports={"http": 8000})


def three() -> FakeResolver:
    return FakeResolver({"inventory": [instance("1"), instance("2"), instance("3")]})


async def picks(balancer: Balancer, count: int, service: str = "inventory") -> list[str]:
    return [(await balancer.pick(service)).id for _ in range(count)]


async def test_picks_go_round_the_live_instances_in_turn() -> None:
    balancer = Balancer(three())
    assert await picks(balancer, 7) == ["1", "2", "3", "1", "2", "3", "1"]


async def test_an_instance_that_left_is_never_picked() -> None:
    resolver = three()
    balancer = Balancer(resolver)
    await picks(balancer, 2)
    resolver.live["inventory"] = [instance("1"), instance("3")]
    assert Counter(await picks(balancer, 10)) == {"1": 5, "3": 5}


async def test_exclude_asks_for_another_instance() -> None:
    balancer = Balancer(three())
    for _ in range(6):
        assert (await balancer.pick("inventory", exclude={"2"})).id in {"1", "3"}
    assert (await balancer.pick("inventory", exclude={"1", "3"})).id == "2"
    with pytest.raises(NoInstanceAvailable, match="inventory besides 1, 2, 3"):
        await balancer.pick("inventory", exclude={"1", "2", "3"})


async def test_no_live_instance_is_an_error_that_names_the_service() -> None:
    with pytest.raises(NoInstanceAvailable, match="no live instance of payments") as raised:
        await Balancer(three()).pick("payments")
    assert raised.value.service == "payments"


async def test_a_failed_instance_is_skipped_until_its_mark_expires() -> None:
    clock = FakeClock()
    balancer = Balancer(three(), ejection_seconds=5.0, clock=clock)
    balancer.mark_failed(instance("2"))
    assert set(await picks(balancer, 10)) == {"1", "3"}
    clock.now += 4.9
    assert "2" not in await picks(balancer, 10)
    clock.now += 0.2
    assert set(await picks(balancer, 3)) == {"1", "2", "3"}


async def test_a_mark_can_be_shorter_or_lifted_by_a_success() -> None:
    clock = FakeClock()
    balancer = Balancer(three(), ejection_seconds=60.0, clock=clock)
    balancer.mark_failed(instance("1"), seconds=1.0)
    balancer.mark_failed(instance("2"))
    clock.now += 1.5
    assert set(await picks(balancer, 6)) == {"1", "3"}
    balancer.mark_succeeded(instance("2"))
    assert set(await picks(balancer, 3)) == {"1", "2", "3"}


async def test_when_every_instance_is_marked_one_is_still_tried() -> None:
    balancer = Balancer(three(), clock=FakeClock())
    for instance_id in ("1", "2", "3"):
        balancer.mark_failed(instance(instance_id))
    assert set(await picks(balancer, 3)) == {"1", "2", "3"}
    assert (await balancer.pick("inventory", exclude={"1", "2"})).id == "3"


async def test_marks_and_turns_are_kept_per_service() -> None:
    resolver = FakeResolver(
        {
            "inventory": [instance("1"), instance("2")],
            "payments": [instance("1", "payments"), instance("2", "payments")],
        }
    )
    balancer = Balancer(resolver, clock=FakeClock())
    balancer.mark_failed(instance("1", "payments"))
    assert await picks(balancer, 2, "payments") == ["2", "2"]
    assert await picks(balancer, 2) == ["1", "2"]


def test_instance_names_are_one_token_of_a_registry_key() -> None:
    assert instance("2").key == "inventory.2"
    for bad in ("a.b", "", "x" * 65, "inventory 2"):
        with pytest.raises(ValidationError):
            instance(bad)


def test_an_instance_gives_its_addresses_by_port_name() -> None:
    one = Instance(service="orders", id="1", host="::1", ports={"http": 8101, "grpc": 9101})
    assert one.address("grpc") == "[::1]:9101"
    assert one.url() == "http://[::1]:8101"
    assert Instance.model_validate_json(one.model_dump_json()) == one


async def test_fail_over_tries_each_instance_once_then_any() -> None:
    balancer = Balancer(three())
    tried: list[str] = []
    chosen = [(await balancer.fail_over("inventory", tried)).id for _ in range(4)]
    assert sorted(chosen[:3]) == ["1", "2", "3"], "a retry goes to an instance not tried yet"
    assert chosen[3] in {"1", "2", "3"}, "with every instance tried, any one is tried again"
    assert tried == chosen


async def test_fail_over_with_one_instance_tries_it_again() -> None:
    balancer = Balancer(FakeResolver({"inventory": [instance("1")]}))
    tried: list[str] = []
    assert [(await balancer.fail_over("inventory", tried)).id for _ in range(2)] == ["1", "1"]
