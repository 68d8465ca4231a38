"""The run's state file: what the supervisor started, for ``status`` and ``down``.

It lives at ``<data-dir>/run/state.json``, written by the supervisor whenever a
process starts or restarts, and removed when the supervisor stops.
"""

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class ProcessState:
    name: str
    pid: int
    ports: dict[str, int]
    restarts: int = 0
    log: str = ""
    ready_url: str = ""
    """Where ``status`` probes readiness (a state file without it: ``/health/ready``)."""


@dataclass
class RunState:
    supervisor_pid: int
    mode: str
    url: str
    data_dir: str
    processes: list[ProcessState] = field(default_factory=list)
    broker_url: str | None = None
    """The run's broker, for ``shoplab dlq``; None in the monolith."""
    launcher_pid: int | None = None
    """The preloaded parent the processes are forked from (its memory counts too)."""


def state_file(data_dir: Path) -> Path:
    return data_dir / "run" / "state.json"


def write(state: RunState, data_dir: Path) -> None:
    """Write atomically: a reader never sees half a file."""
    path = state_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(state), indent=2))
    os.replace(temporary, path)


def read(data_dir: Path) -> RunState | None:
    """The state of a live run, or None when nothing runs from ``data_dir``."""
    path = state_file(data_dir)
    try:
        raw = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    state = RunState(**{**raw, "processes": [ProcessState(**p) for p in raw["processes"]]})
    return state if supervisor_alive(state.supervisor_pid) else None


def remove(data_dir: Path) -> None:
    state_file(data_dir).unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """True for a running process; an exited one not yet reaped (a zombie) is not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust the signal check
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def supervisor_alive(pid: int) -> bool:
    """A live ``shoplab`` process, not an unrelated one that reused a stale pid."""
    if not pid_alive(pid):
        return False
    try:
        return b"shoplab" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
