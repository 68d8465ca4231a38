"""A fixed list of instances: for tests, and for a caller given addresses by hand."""

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
