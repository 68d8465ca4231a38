"""A Prometheus scrape configuration for a running run: one job per service.

Every shoplab process serves ``/metrics`` on its ``http`` port, without
credentials; the NATS broker has no ``http`` port and serves no Prometheus
metrics, so it is left out. Each instance is a target of its own, labelled with
its process name (``instance_name: orders-2``): Prometheus's own ``instance``
label is the target's address, which changes from one run to the next.
"""

from typing import Any

import yaml

from shoplab.operations.logs import service_of
from shoplab.runtime.state import RunState

DEFAULT_SCRAPE_TIMEOUT_SECONDS = 10
"""Prometheus's default, lowered to a shorter interval: a timeout may not exceed it."""


def scrape_config(run: RunState, interval_seconds: int) -> dict[str, Any]:
    """The configuration as data: ``global`` and one ``scrape_configs`` job per service,
    in the order the run lists its processes."""
    jobs: dict[str, list[dict[str, Any]]] = {}
    for process in run.processes:
        port = process.ports.get("http")
        if port is not None:
            target = {"targets": [f"127.0.0.1:{port}"], "labels": {"instance_name": process.name}}
            jobs.setdefault(service_of(process.name), []).append(target)
    timeout = min(interval_seconds, DEFAULT_SCRAPE_TIMEOUT_SECONDS)
    return {
        "global": {"scrape_interval": f"{interval_seconds}s", "scrape_timeout": f"{timeout}s"},
        "scrape_configs": [
            {"job_name": job, "metrics_path": "/metrics", "static_configs": targets}
            for job, targets in jobs.items()
        ],
    }


def render(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
