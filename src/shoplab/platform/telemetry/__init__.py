"""Telemetry every process shares: traces (OpenTelemetry), message metrics, log context.

- ``tracing``: the process's tracer provider, its exporter (span files under the data
  folder, or an OTLP collector) and the libraries instrumented (HTTP, gRPC, database).
- ``messages``: the trace context across the outbox and the broker, the seam that
  no library instruments for us (see docs/observability.md).
- ``span_files``: the local span store ``shoplab trace`` reads.
- ``orders``: marking what a span is about (``order_id``), for spans and log lines alike.
- ``metrics``: messages in and out, redeliveries, dead letters, the outbox backlog.
"""
