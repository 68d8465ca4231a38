"""JSON logs: one line per event, with the service and instance on every line.

Standard-library loggers (uvicorn, SQLAlchemy) go through the same renderer, so
a process writes one format. Request logs are off: no line per request at INFO.
"""

import logging
import sys

import structlog


def configure_logging(service: str, instance: str, level: str = "INFO") -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            _add_identity(service, instance),
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in ("sqlalchemy", "alembic", "aiosqlite", "asyncio", "httpx", "httpcore", "nats"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _add_identity(service: str, instance: str) -> structlog.types.Processor:
    def add(
        _logger: object, _name: str, event: structlog.types.EventDict
    ) -> structlog.types.EventDict:
        event.setdefault("service", service)
        event.setdefault("instance", instance)
        return event

    return add
