"""``shoplab up --scale SERVICE=N``: how many instances of each service a run starts.

Instances of one service share its database and its durable consumers (each
message goes to one of them); callers find them through the registry. Eight is
plenty on one machine: beyond that the processes compete for the same cores
and the one SQLite writer, and teach nothing more.
"""

from collections.abc import Iterable, Mapping, Sequence

MAX_INSTANCES = 8


def parse_scale(values: Iterable[str], services: Sequence[str]) -> dict[str, int]:
    """``["inventory=3"]`` gives ``{"inventory": 3}``; ValueError says what is wrong."""
    scale: dict[str, int] = {}
    for value in values:
        service, equals, count = value.partition("=")
        service = service.strip()
        if not equals or not service:
            raise ValueError(f"--scale takes SERVICE=N, such as inventory=3, not {value!r}")
        if service in scale:
            raise ValueError(f"--scale names {service} twice")
        try:
            scale[service] = int(count)
        except ValueError:
            raise ValueError(_range_error(service, count)) from None
    check_scale(scale, services)
    return scale


def check_scale(scale: Mapping[str, int], services: Sequence[str]) -> None:
    """ValueError for an unknown service or a count outside 1..MAX_INSTANCES."""
    for service, count in scale.items():
        if service not in services:
            raise ValueError(
                f"--scale: there is no service {service!r}; the services are {', '.join(services)}"
            )
        if not 1 <= count <= MAX_INSTANCES:
            raise ValueError(_range_error(service, str(count)))


def _range_error(service: str, count: str) -> str:
    return f"--scale {service}={count}: N must be a whole number from 1 to {MAX_INSTANCES}"
