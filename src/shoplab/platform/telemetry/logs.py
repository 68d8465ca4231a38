"""JSON logs: one line per event, with the service and instance on every line.

shoplab's own lines go from structlog straight to the process's standard error,
rendered by orjson: no standard-library ``logging`` record, handler or formatter
on the way (a line cost about 80 µs that way, measured in the monolith's profile).
Standard-library loggers (uvicorn, SQLAlchemy) go through the same processors and
renderer, so a process writes one format. A line written under a span carries its
``trace_id`` and ``span_id``, and the ``order_id`` the span is about: ``shoplab
logs --order`` and ``--trace`` follow one order or one trace across processes.

What is logged at INFO: a decision about an order (placed, stock reserved, paid,
notified), once. Not a line per request, per message delivered or per publish:
those are counted in metrics and seen in traces.
"""

import logging
import re
import sys
from typing import Any

import orjson
import structlog
from opentelemetry import trace

from shoplab.platform.telemetry.orders import current_order


def configure_logging(service: str, instance: str, level: str = "INFO") -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        add_trace_context,
    ]
    rendered: list[structlog.types.Processor] = [
        _add_identity(service, f"{service}-{instance}"),
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer(serializer=_json),
    ]
    threshold = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[*shared, *rendered],
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendered],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in ("sqlalchemy", "alembic", "asyncio", "httpx", "httpcore", "nats"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _json(event: Any, **options: Any) -> str:
    """One line's JSON, by orjson; what it cannot encode becomes its ``repr``."""
    return orjson.dumps(event, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()


def in_words(name: str) -> str:
    """``StockReserved`` → ``stock reserved``: a message's name as a log event."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()


def add_trace_context(
    _logger: object, _name: str, event: structlog.types.EventDict
) -> structlog.types.EventDict:
    """The current span's trace and span ids, and the order it is about."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", format(context.span_id, "016x"))
    order_id = current_order()
    if order_id:
        event.setdefault("order_id", order_id)
    return event


def _add_identity(service: str, instance: str) -> structlog.types.Processor:
    def add(
        _logger: object, _name: str, event: structlog.types.EventDict
    ) -> structlog.types.EventDict:
        event.setdefault("service", service)
        event.setdefault("instance", instance)
        return event

    return add
