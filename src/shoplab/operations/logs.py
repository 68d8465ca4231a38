"""The run's logs, read together: every process's file, parsed, filtered and merged by time.

Each process writes ``<data-dir>/logs/<process>.log``: shoplab's processes one JSON
object per line, the NATS server its own text lines. A line that is not a JSON
object (the broker's output, a traceback printed before logging was set up, a
half-written last line) is kept as a raw line of its process. A raw line has no
time of its own, except the broker's, so it takes the time of the line before it
in its file and stays next to it when the files are merged.
"""

import heapq
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_INSTANCE_SUFFIX = re.compile(r"-\d+$")
_NATS_TIME = re.compile(r"^\[\d+\] (\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d+) ")
_EARLIEST = datetime.min.replace(tzinfo=UTC)


def service_of(process: str) -> str:
    """``orders-2`` → ``orders``: the service a process is an instance of."""
    return _INSTANCE_SUFFIX.sub("", process)


@dataclass(frozen=True)
class LogLine:
    """One line of a process's log; ``record`` is None for a raw (non-JSON) line."""

    process: str
    text: str
    record: dict[str, Any] | None = None
    time: datetime | None = None

    @property
    def service(self) -> str:
        stored = self.record.get("service") if self.record else None
        return stored if isinstance(stored, str) else service_of(self.process)

    def field(self, key: str) -> str | None:
        value = self.record.get(key) if self.record else None
        return None if value is None else str(value)

    def as_record(self) -> dict[str, Any]:
        """The stored record, with ``service`` and ``instance`` always present."""
        if self.record is None:
            return {"service": self.service, "instance": self.process, "raw": self.text}
        return {"service": self.service, "instance": self.process, **self.record}


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time as structlog writes it (``...Z``); naive times count as UTC."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _nats_time(text: str) -> datetime | None:
    """The NATS server prefixes its lines with its local time: ``[pid] 2026/11/25 03:20:01.1``."""
    match = _NATS_TIME.match(text)
    if match is None:
        return None
    local = datetime.strptime(match.group(1), "%Y/%m/%d %H:%M:%S.%f")
    return local.astimezone(UTC)


def parse_line(process: str, text: str) -> LogLine:
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return LogLine(process, text, time=_nats_time(text))
    return LogLine(process, text, record, parse_time(record.get("time")))


@dataclass(frozen=True)
class LogFilter:
    """Which lines to show. ``services`` take a service (``orders``) or an instance
    (``orders-2``); ``order`` and ``trace`` take an id or its beginning, and no raw
    line carries either."""

    services: Sequence[str] = ()
    order: str | None = None
    trace: str | None = None

    def matches(self, line: LogLine) -> bool:
        if self.services and not {line.service, line.process} & set(self.services):
            return False
        if self.order is not None and not _starts(line.field("order_id"), self.order):
            return False
        return self.trace is None or _starts(line.field("trace_id"), self.trace)


def _starts(value: str | None, prefix: str) -> bool:
    return value is not None and value.lower().startswith(prefix.lower())


@dataclass
class _FileCursor:
    offset: int = 0
    partial: bytes = b""
    last_time: datetime | None = None


@dataclass
class LogFolder:
    """Reads what each ``*.log`` of the folder gained since the last read, files that
    appear later included; a file that shrank (truncated) is read again from its start."""

    directory: Path
    _cursors: dict[Path, _FileCursor] = field(default_factory=dict)

    def read_new(self, *, final: bool = False) -> list[LogLine]:
        """The new complete lines of every file, merged by time. ``final``: also the
        unfinished last line of each file, which a follower leaves for the next read."""
        per_file = [self._read_file(path, final) for path in sorted(self.directory.glob("*.log"))]
        return merge(per_file)

    def _read_file(self, path: Path, final: bool) -> list[LogLine]:
        cursor = self._cursors.setdefault(path, _FileCursor())
        try:
            with path.open("rb") as file:
                if file.seek(0, 2) < cursor.offset:
                    cursor.offset, cursor.partial = 0, b""
                file.seek(cursor.offset)
                data = file.read()
        except FileNotFoundError:
            return []
        cursor.offset += len(data)
        *complete, cursor.partial = (cursor.partial + data).split(b"\n")
        if final and cursor.partial:
            complete.append(cursor.partial)
            cursor.partial = b""
        texts = (raw.decode(errors="replace").rstrip("\r") for raw in complete)
        lines = [parse_line(path.stem, text) for text in texts if text.strip()]
        return _date_raw_lines(lines, cursor)


def _date_raw_lines(lines: list[LogLine], cursor: _FileCursor) -> list[LogLine]:
    """Give each line without a time that of the line before it (the first ones: the next)."""
    dated: list[LogLine] = []
    for line in lines:
        if line.time is None:
            line = LogLine(line.process, line.text, line.record, cursor.last_time)
        cursor.last_time = line.time
        dated.append(line)
    first_time = next((line.time for line in dated if line.time is not None), None)
    return [
        line if line.time is not None else LogLine(line.process, line.text, line.record, first_time)
        for line in dated
    ]


def _sort_key(line: LogLine) -> datetime:
    return line.time or _EARLIEST


def merge(per_file: Iterable[list[LogLine]]) -> list[LogLine]:
    """One list in time order; lines of the same time keep their file's order."""
    return list(heapq.merge(*per_file, key=_sort_key))


def read_logs(
    directory: Path, line_filter: LogFilter, tail: int | None = None, *, final: bool = True
) -> tuple[LogFolder, list[LogLine]]:
    """The matching lines written so far (only the last ``tail`` when given), and the
    folder's reader positioned after them, for ``follow``. ``final=False`` when following:
    an unfinished last line is then left to be read once its process completes it."""
    folder = LogFolder(directory)
    lines = [line for line in folder.read_new(final=final) if line_filter.matches(line)]
    if tail is not None:
        lines = lines[max(len(lines) - tail, 0) :]
    return folder, lines


def follow(
    folder: LogFolder,
    line_filter: LogFilter,
    *,
    should_stop: Callable[[], bool],
    sleep: Callable[[float], None] = time.sleep,
    interval: float = 0.5,
) -> Iterator[list[LogLine]]:
    """Poll the folder every ``interval`` until ``should_stop``; yield each poll's new
    matching lines (an empty poll yields nothing)."""
    while not should_stop():
        sleep(interval)
        lines = [line for line in folder.read_new() if line_filter.matches(line)]
        if lines:
            yield lines
