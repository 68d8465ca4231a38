"""``shoplab fault``: slow down or break every instance of a running service, on purpose."""

from pathlib import Path
from typing import Annotated

import typer

from shoplab.cli.broker import on_broker, topology
from shoplab.cli.options import DataDir
from shoplab.cli.output import console, fail
from shoplab.operations.faults import send_fault, signed_order
from shoplab.runtime import state
from shoplab.runtime.plans import CONTEXTS


def fault(
    service: Annotated[str, typer.Argument(help="catalog, identity, inventory, orders...")],
    latency_ms: Annotated[
        int, typer.Option(min=0, max=600_000, help="Delay every request by this much.")
    ] = 0,
    error_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Fail this share of requests (0 to 1).")
    ] = 0.0,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the service's faults.")] = False,
    data_dir: DataDir = Path(".shoplab"),
) -> None:
    """Slow down or break every instance of a running service, at once, until --clear."""
    run = state.read(data_dir.resolve())
    if run is None or run.broker_url is None:
        fail(f"no microservices run in {data_dir}: `shoplab up` starts one.")
    if service not in CONTEXTS:
        fail(f"faults are injected into services: {', '.join(CONTEXTS)}.")
    instances = sum(1 for p in run.processes if p.name.rsplit("-", 1)[0] == service)
    if not instances:
        fail(f"the run has no {service!r} service.")
    if clear:
        latency_ms, error_rate = 0, 0.0
    elif not latency_ms and not error_rate:
        fail("say what to break: --latency-ms, --error-rate, or --clear to stop.")
    order = signed_order(data_dir.resolve(), latency_ms, error_rate)
    answers = on_broker(send_fault(run.broker_url, topology(), service, order, instances=instances))
    for answer in answers:
        console.print(
            f"{answer.get('instance')}: "
            + ("obeyed" if answer.get("obeyed") else "refused")
            + f" (latency {answer.get('latency_ms')} ms, error rate {answer.get('error_rate')})"
        )
    if len(answers) < instances or not all(a.get("obeyed") for a in answers):
        fail(f"{len(answers)} of {instances} instance(s) of {service} applied the order.")
