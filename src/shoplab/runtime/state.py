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


@dataclass
class RunState:
    supervisor_pid: int
    mode: str
    url: str
    data_dir: str
    processes: list[ProcessState] = field(default_factory=list)


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
    return state if pid_alive(state.supervisor_pid) else None


def remove(data_dir: Path) -> None:
    state_file(data_dir).unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
