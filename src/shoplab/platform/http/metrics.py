"""Every HTTP request as Prometheus series: how many, how long and how many at once, per route.

- ``shoplab_http_requests_total{method,route,status}``;
- ``shoplab_http_request_duration_seconds{method,route}``, a histogram;
- ``shoplab_http_requests_in_progress{method,route}``.

The route is the template the request matched (``/api/orders/{order_id}``), never the raw
path, so clients cannot multiply the series: a path no route matches counts as
``unmatched``, a method outside the standard ones as ``OTHER``. The status is the exact
code, so a 404, a 422 and a 503 stay apart. ``/metrics`` and ``/health/*`` are not counted:
the scrapes and the probes would drown the traffic.

prometheus-fastapi-instrumentator finds the template, following FastAPI's routing from one
version to the next. Its middleware is not used: its metric functions create nothing, and
so record nothing, when their families exist on the registry already, as they do for every
app after the first in one process (the tests build many); and its in-progress gauge
ignores the registry it is given.
"""

from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase
from prometheus_fastapi_instrumentator.routing import get_route_name
from starlette.requests import HTTPConnection
from starlette.types import Scope

UNMATCHED = "unmatched"
OTHER_METHOD = "OTHER"
METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"}
)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_ROUTE = ("method", "route")
CHILDREN_CACHED = 4096
"""Series looked up per family and kept: ``labels()`` costs a lock and a dict lookup per call,
and the label values are bounded (route templates, standard methods, status codes)."""


class HttpMetrics:
    """The metric families, registered once per registry (see ``http_metrics``)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "shoplab_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            (*_ROUTE, "status"),
            registry=registry,
        )
        self.duration = Histogram(
            "shoplab_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer.",
            _ROUTE,
            buckets=BUCKETS,
            registry=registry,
        )
        self.in_progress = Gauge(
            "shoplab_http_requests_in_progress",
            "Requests being answered.",
            _ROUTE,
            registry=registry,
        )
        self.requests_of = _children(self.requests)
        self.duration_of = _children(self.duration)
        self.in_progress_of = _children(self.in_progress)


def _children(family: MetricWrapperBase) -> Callable[..., Any]:
    """``family.labels``, remembered per label values."""
    return lru_cache(maxsize=CHILDREN_CACHED)(family.labels)


def http_metrics(registry: CollectorRegistry = REGISTRY) -> HttpMetrics:
    """The families on ``registry``, created on first use: every app of the process shares them."""
    return _families(registry)


@cache
def _families(registry: CollectorRegistry) -> HttpMetrics:
    return HttpMetrics(registry)


def route_of(scope: Scope) -> str:
    """The route template ``scope`` matches, or ``unmatched``."""
    return get_route_name(HTTPConnection(scope), should_include_root_path=False) or UNMATCHED


def method_of(scope: Scope) -> str:
    return scope["method"] if scope["method"] in METHODS else OTHER_METHOD


def unmeasured(path: str) -> bool:
    """Probes and scrapes, polled every second by machines: never part of an order."""
    return path == "/metrics" or path.startswith("/health/")
