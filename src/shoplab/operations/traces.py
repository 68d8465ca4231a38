"""Putting an order's trace back together from the span files every process writes.

Each process appends its finished spans to ``<data-dir>/traces/<process>.jsonl`` (a
full file is rotated to ``.jsonl.1``), about once a second. So one trace is spread
over several files, in batches, in no particular order, and may be incomplete: a
line half-written by a process writing now, a parent not flushed yet. This module
reads what is there and shapes it for ``shoplab trace``; it prints nothing.
"""

import json
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TRACES_FOLDER = "traces"


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    service: str
    instance: str
    name: str
    kind: str
    start: datetime
    end: datetime
    status: str
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def order_id(self) -> str | None:
        value = self.attributes.get("order_id")
        return str(value) if value else None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "Span":
        """Raise KeyError, TypeError or ValueError when the record is not a whole span."""
        return cls(
            trace_id=_text(record["trace_id"]),
            span_id=_text(record["span_id"]),
            parent_id=str(record["parent_id"]) if record.get("parent_id") else None,
            service=_text(record["service"]),
            instance=_text(record.get("instance") or record["service"]),
            name=_text(record["name"]),
            kind=str(record.get("kind") or "INTERNAL"),
            start=_utc(record["start"]),
            end=_utc(record["end"]),
            status=str(record.get("status") or "UNSET"),
            attributes=dict(record.get("attributes") or {}),
        )


@dataclass(frozen=True)
class TreeRow:
    """A span at its place in the waterfall."""

    span: Span
    depth: int
    parent_missing: bool
    """Its parent is not in the files (lost, or not flushed yet): shown as a root."""


@dataclass(frozen=True)
class TraceSummary:
    trace_id: str
    order_id: str | None
    root_name: str
    start: datetime
    end: datetime
    span_count: int
    services: tuple[str, ...]
    """In the order they first took part, which reads like the request's path."""

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def load_spans(data_dir: Path, *, mentioning: Collection[str] = ()) -> list[Span]:
    """Every whole span under ``<data_dir>/traces``; none (not an error) before any is written.

    With ``mentioning``, only the lines that contain one of those strings (an order id,
    trace ids) are parsed: a long run's files hold millions of spans, and looking for a
    substring is far cheaper than parsing JSON. A span read twice (its file rotated
    between two reads) counts once.
    """
    folder = data_dir / TRACES_FOLDER
    paths = [*sorted(folder.glob("*.jsonl.1")), *sorted(folder.glob("*.jsonl"))]
    found: dict[tuple[str, str], Span] = {}
    for path in paths:
        for span in _read_spans(path, mentioning):
            found[(span.trace_id, span.span_id)] = span
    return list(found.values())


def spans_of_traces_mentioning(data_dir: Path, needle: str) -> list[Span]:
    """Every span of the traces that have a span mentioning ``needle`` (an order or trace id)."""
    trace_ids = {span.trace_id for span in load_spans(data_dir, mentioning=[needle])}
    return load_spans(data_dir, mentioning=trace_ids) if trace_ids else []


def traces_of_order(spans: list[Span], order_id: str) -> list[str]:
    """The order's trace ids, earliest first: its placement, then later requests (a cancel)."""
    ids = {span.trace_id for span in spans if span.order_id == order_id}
    starts = {trace_id: trace[0].start for trace_id, trace in _by_trace(spans).items()}
    return sorted(ids, key=lambda trace_id: starts[trace_id])


def trace_spans(spans: list[Span], trace_id: str) -> list[Span]:
    return sorted((span for span in spans if span.trace_id == trace_id), key=_by_start)


def root_of(trace: list[Span]) -> Span:
    """Where the trace began: its true root, else (not flushed yet) its earliest orphan."""
    ids = {span.span_id for span in trace}
    return min(trace, key=lambda s: (s.parent_id is not None, s.parent_id in ids, s.start))


def tree(trace: list[Span]) -> list[TreeRow]:
    """The trace's spans depth first, children by start: the rows of a waterfall, in order."""
    ordered = sorted(trace, key=_by_start)
    ids = {span.span_id for span in ordered}
    children = _children(ordered)
    rows: list[TreeRow] = []
    seen: set[str] = set()
    # After the roots, any span still unseen sits on a loop of corrupt ids: start there.
    for top in [*(s for s in ordered if s.parent_id not in ids), *ordered]:
        stack = [(top, 0)]
        while stack:
            span, depth = stack.pop()
            if span.span_id in seen:
                continue
            seen.add(span.span_id)
            missing = span.parent_id is not None and span.parent_id not in ids
            rows.append(TreeRow(span, depth, missing))
            stack.extend((child, depth + 1) for child in reversed(children[span.span_id]))
    return rows


def critical_path(trace: list[Span]) -> set[str]:
    """The span ids of the chain that decided when the trace finished.

    From the root, step to the child whose *subtree* ends last: not the longest child,
    and not merely the last direct child to end. A message published in a request
    ends in a millisecond, but the consumer it starts (and what that one publishes)
    may end long after the request: the order waited on that chain, so the path
    follows it.
    """
    if not trace:
        return set()
    children = _children(sorted(trace, key=_by_start))
    ends: dict[str, datetime] = {}

    def subtree_end(span: Span) -> datetime:
        if span.span_id not in ends:
            ends[span.span_id] = span.end  # guards against a cycle of bad parent ids
            below = [subtree_end(child) for child in children[span.span_id]]
            ends[span.span_id] = max([span.end, *below])
        return ends[span.span_id]

    path: set[str] = set()
    current: Span | None = root_of(trace)
    while current is not None and current.span_id not in path:
        path.add(current.span_id)
        below = children[current.span_id]
        current = max(below, key=subtree_end) if below else None
    return path


def summarize(trace: list[Span]) -> TraceSummary:
    """One trace (not empty) in a line: from its first start to its last end."""
    ordered = sorted(trace, key=_by_start)
    return TraceSummary(
        trace_id=ordered[0].trace_id,
        order_id=next((span.order_id for span in ordered if span.order_id), None),
        root_name=root_of(ordered).name,
        start=ordered[0].start,
        end=max(span.end for span in ordered),
        span_count=len(ordered),
        services=tuple(dict.fromkeys(span.service for span in ordered)),
    )


def slowest_order_traces(spans: list[Span], n: int) -> list[TraceSummary]:
    """The ``n`` longest traces about an order, longest first (others are not orders' work)."""
    summaries = [summarize(trace) for trace in _by_trace(spans).values()]
    about_orders = [summary for summary in summaries if summary.order_id is not None]
    return sorted(about_orders, key=lambda summary: summary.duration, reverse=True)[:n]


def to_json(trace_id: str, spans: list[Span]) -> dict[str, Any]:
    """One trace as ``shoplab trace --json`` prints it, spans by start."""
    return {"trace_id": trace_id, "spans": [_span_json(s) for s in trace_spans(spans, trace_id)]}


def _read_spans(path: Path, mentioning: Collection[str]) -> Iterator[Span]:
    """The file's whole spans; a line that is not one (half-written, cut short) is skipped."""
    try:
        lines = path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:  # rotated away since the folder was listed
        return
    with lines:
        for line in lines:
            if mentioning and not any(needle in line for needle in mentioning):
                continue
            try:
                yield Span.from_record(json.loads(line))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue


def _span_json(span: Span) -> dict[str, Any]:
    return {
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_id": span.parent_id,
        "service": span.service,
        "instance": span.instance,
        "name": span.name,
        "kind": span.kind,
        "start": span.start.isoformat(),
        "end": span.end.isoformat(),
        "status": span.status,
        "attributes": span.attributes,
    }


def _by_trace(spans: list[Span]) -> dict[str, list[Span]]:
    traces: dict[str, list[Span]] = defaultdict(list)
    for span in sorted(spans, key=_by_start):
        traces[span.trace_id].append(span)
    return traces


def _children(ordered: list[Span]) -> dict[str, list[Span]]:
    children: dict[str, list[Span]] = defaultdict(list)
    for span in ordered:
        if span.parent_id is not None and span.parent_id != span.span_id:
            children[span.parent_id].append(span)
    return children


def _by_start(span: Span) -> datetime:
    return span.start


def _text(value: Any) -> str:
    """An id or a name, which a span cannot lack (a ``null`` is not the text "None")."""
    if not isinstance(value, str) or not value:
        raise TypeError(f"expected text, got {value!r}")
    return value


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
