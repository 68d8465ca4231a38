"""What each mode runs: the processes, their commands, ports and environment."""

import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: list[str]
    ports: dict[str, int]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['http']}/health/ready"


@dataclass(frozen=True)
class RunOptions:
    mode: str
    port: int
    data_dir: Path
    database_url: str | None = None


def monolith_plan(options: RunOptions) -> list[ProcessSpec]:
    env = {"SHOPLAB_DATA_DIR": str(options.data_dir), "SHOPLAB_INSTANCE": "1"}
    if options.database_url:
        env["SHOPLAB_DATABASE_URL"] = options.database_url
    argv = [sys.executable, "-m", "shoplab.monolith", "--port", str(options.port)]
    return [ProcessSpec("monolith-1", argv, {"http": options.port}, env)]


PLANS = {"monolith": monolith_plan}
