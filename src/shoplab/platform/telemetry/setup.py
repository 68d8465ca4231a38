"""One call at the top of every process: its logs and its traces."""

from shoplab.platform.settings import PlatformSettings
from shoplab.platform.telemetry.logs import configure_logging
from shoplab.platform.telemetry.tracing import configure_tracing


def configure_telemetry(service: str, settings: PlatformSettings) -> None:
    """JSON logs to stderr (the supervisor keeps them under ``<data-dir>/logs``), spans
    to ``<data-dir>/traces`` or a collector; before any app or connection is built."""
    configure_logging(service, settings.instance, settings.log_level)
    configure_tracing(
        service,
        settings.instance,
        settings.data_dir,
        sample_ratio=settings.trace_sample_ratio,
        max_traces_per_second=settings.trace_max_per_second,
    )
