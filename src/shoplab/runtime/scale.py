"""``shoplab up --scale SERVICE=N``: how many instances of each service a run starts.

Instances of one service share its database and its durable consumers (each
message goes to one of them); callers find them through the registry. Eight is
plenty on one machine: beyond that the processes compete for the same cores
and the one SQLite writer, and teach nothing more.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence

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


def check_scale(
    scale: Mapping[str, int], services: Sequence[str], single: Collection[str] = ()
) -> None:
    """ValueError for an unknown service, a count outside 1..MAX_INSTANCES, or more than
    one instance of a service in ``single`` (one that must have a single writer)."""
    for service, count in scale.items():
        if service not in services:
            raise ValueError(
                f"--scale: there is no service {service!r}; the services are {', '.join(services)}"
            )
        if service in single and count != 1:
            raise ValueError(
                f"--scale {service}={count}: {service} runs as one instance, because its "
                "view has a single writer (the projector that follows the event logs)"
            )
        if not 1 <= count <= MAX_INSTANCES:
            raise ValueError(_range_error(service, str(count)))


def _range_error(service: str, count: str) -> str:
    return f"--scale {service}={count}: N must be a whole number from 1 to {MAX_INSTANCES}"
