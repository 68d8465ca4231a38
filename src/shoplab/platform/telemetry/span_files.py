"""The local span store: each process appends its finished spans to a JSON-lines file.

With nothing else installed, ``shoplab trace`` must still show an order's trace, so
every process writes ``<data-dir>/traces/<service>-<instance>.jsonl``: one file per
process (no two writers share a file, no lock), one compact object per span in the
shape ``shoplab trace --json`` prints. A file past ``max_bytes`` is renamed to
``.jsonl.1`` (replacing the one before), so the store stays bounded. The SDK's batch
processor calls ``export`` from its own thread, off the event loop, and it still takes
the GIL from the loop: lines are serialized with orjson, several times faster than ``json``.
"""

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from opentelemetry.sdk.resources import SERVICE_INSTANCE_ID, SERVICE_NAME
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class JsonLinesSpanExporter(SpanExporter):
    def __init__(self, path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._path = path
        self._max_bytes = max_bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: BinaryIO = path.open("ab")

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = b"".join(
            orjson.dumps(span_record(span), default=str, option=orjson.OPT_APPEND_NEWLINE)
            for span in spans
        )
        try:
            self._file.write(lines)
            self._file.flush()
            if self._file.tell() >= self._max_bytes:
                self._rotate()
        except OSError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self._file.close()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def _rotate(self) -> None:
        self._file.close()
        os.replace(self._path, self._path.with_name(self._path.name + ".1"))
        self._file = self._path.open("ab")


def span_record(span: ReadableSpan) -> dict[str, Any]:
    """One span as ``shoplab trace --json`` shows it: ids in hex, times in ISO 8601 UTC."""
    context = span.get_span_context()
    resource = span.resource.attributes
    attributes = dict(span.attributes or {})
    if span.status.description:
        attributes["status.description"] = span.status.description
    return {
        "trace_id": format(context.trace_id, "032x") if context else None,
        "span_id": format(context.span_id, "016x") if context else None,
        "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
        "service": resource.get(SERVICE_NAME),
        "instance": resource.get(SERVICE_INSTANCE_ID),
        "name": span.name,
        "kind": span.kind.name,
        "start": _iso(span.start_time),
        "end": _iso(span.end_time),
        "status": span.status.status_code.name,
        "attributes": attributes,
    }


def _iso(nanoseconds: int | None) -> str | None:
    if nanoseconds is None:
        return None
    return datetime.fromtimestamp(nanoseconds / 1e9, UTC).isoformat()
