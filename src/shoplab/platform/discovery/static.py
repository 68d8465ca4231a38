"""A fixed list of instances: for runs without a registry, tests, and addresses given by hand.

On RabbitMQ there is no NATS key-value registry; the local runtime gives every
instance its ports before starting it, so it can hand every process the full list
(``SHOPLAB_DISCOVERY=static``). An instance that is down is still listed: callers
learn it from a failed call, and the balancer skips it for a while.
"""

from shoplab.platform.discovery.instance import Instance


class StaticResolver:
    def __init__(self, instances: list[Instance]) -> None:
        self._instances = list(instances)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def instances(self, service: str) -> list[Instance]:
        return [instance for instance in self._instances if instance.service == service]
