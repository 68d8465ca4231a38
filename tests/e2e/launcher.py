"""Starting and stopping a shoplab system as a separate process, one deployment mode at a time.

The list of deployment modes lives here only: the session fixture and the CLI tests both
parametrise over it, so a new mode is one more entry in ``MODES``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from shoplab.platform.messaging.rabbitmq.topology import RabbitTopology, delete_namespace
from shoplab.platform.messaging.streams import Topology
from shoplab.runtime.plans import service_database_url

POSTGRES_URL_ENV = "SHOPLAB_TEST_POSTGRES_URL"
POSTGRES_SKIP_REASON = f"{POSTGRES_URL_ENV} is not set (CI sets it)"
NATS_URL_ENV = "SHOPLAB_TEST_NATS_URL"
NATS_SKIP_REASON = f"{NATS_URL_ENV} is not set (CI sets it to the machine's NATS)"
RABBITMQ_URL_ENV = "SHOPLAB_TEST_RABBITMQ_URL"
REDIS_URL_ENV = "SHOPLAB_TEST_REDIS_URL"
SUITE_RATE_LIMITS = {
    "SHOPLAB_RATE_LIMIT_LOGIN": "1000/second",
    "SHOPLAB_RATE_LIMIT_FAILED_LOGINS_PER_ADDRESS": "1000/second",
    "SHOPLAB_RATE_LIMIT_READS": "1000/second",
    "SHOPLAB_RATE_LIMIT_PLACEMENT": "100/second",
    "SHOPLAB_ORDERS_MAX_IN_FLIGHT": "100000",
}
"""Every client of the suite comes from 127.0.0.1, a test's customers poll their orders many
times a second, and the probes of bad input fail thousands of sign-ups: the per-address and read
quotas are raised for the suite's systems.
Slow clients are cut off after the default 10 s: a loaded machine's processes may wait
seconds for a core, and a shorter cut-off would refuse the suite's own requests.
Placements keep a quota that a burst of 200 by one customer exceeds however fast the machine
admits it: 100 in any second, or 150 in any minute (``test_rate_limits.py``); no other test
places that many orders for one customer; the quotas' defaults are tested on apps of their own
(tests/integration/platform/test_rate_limits.py).
Admission's bound on placements in flight is raised far above any workload of the suite,
whose fault tests leave hundreds of sagas waiting for a stopped participant; the bound is
tested on its own (tests/unit/orders/test_admission.py, tests/integration/monolith)."""
SERVICES = ("catalog", "identity", "inventory", "orders", "payments", "notifications", "history")
ADMIN_EMAIL = "admin@shoplab.local"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
CLI_TIMEOUT_S = 60.0

T = TypeVar("T")


@dataclass(frozen=True)
class ModeSpec:
    """One way of running the system that the whole contract suite must pass against."""

    name: str
    cli_mode: str
    needs_postgres: bool = False
    external_broker: bool = False
    """Use the broker named by ``broker_url_env`` instead of an embedded NATS, in a namespace
    of the run's own that is deleted afterwards."""
    broker_url_env: str = NATS_URL_ENV
    """``SHOPLAB_TEST_NATS_URL`` (a NATS server) or ``SHOPLAB_TEST_RABBITMQ_URL`` (RabbitMQ)."""
    lifecycle: bool = True
    """Run the tests that start, kill and stop systems of their own in this mode too."""
    shared_redis: bool = False
    """Keep the rate-limit counters in the Redis named by ``SHOPLAB_TEST_REDIS_URL``."""
    extra_args: tuple[str, ...] = ()

    @property
    def has_saga(self) -> bool:
        """The monolith runs orders in one transaction, so it keeps no saga records."""
        return self.cli_mode != "monolith"

    @property
    def saga(self) -> str | None:
        """How orders are settled: ``orchestration`` (the default), ``choreography``, or
        None in the monolith. Only an orchestrated saga has timeouts that give up on a
        silent participant; a choreographed order waits for it instead."""
        if self.cli_mode == "monolith":
            return None
        args = list(self.extra_args)
        if "--saga" in args:
            return args[args.index("--saga") + 1]
        return "orchestration"

    @property
    def order_process(self) -> str:
        """The process that accepts and settles orders: what a crash test kills."""
        return "monolith-1" if self.cli_mode == "monolith" else "orders-1"


MODES: tuple[ModeSpec, ...] = (
    ModeSpec(name="monolith", cli_mode="monolith"),
    ModeSpec(name="monolith-postgres", cli_mode="monolith", needs_postgres=True, lifecycle=False),
    ModeSpec(name="microservices", cli_mode="microservices"),
    ModeSpec(
        name="microservices-choreography-scaled-postgres-nats",
        cli_mode="microservices",
        needs_postgres=True,
        external_broker=True,
        shared_redis=True,
        lifecycle=False,
        extra_args=("--saga", "choreography", "--scale", "inventory=3"),
    ),
    ModeSpec(
        name="microservices-rabbitmq",
        cli_mode="microservices",
        external_broker=True,
        broker_url_env=RABBITMQ_URL_ENV,
        lifecycle=False,
    ),
)


def mode_params(*, lifecycle: bool = False) -> list[Any]:
    """Pytest params for every mode (or the lifecycle ones), skipping those whose server is absent.

    In CI nothing is skipped: a missing server fails the run instead of hiding it.
    """
    params: list[Any] = []
    for mode in MODES:
        if lifecycle and not mode.lifecycle:
            continue
        marks: list[pytest.MarkDecorator] = []
        if mode.needs_postgres:
            marks.append(pytest.mark.postgres)
            marks.append(_skip_without(POSTGRES_URL_ENV, POSTGRES_SKIP_REASON))
        if mode.external_broker:
            reason = f"{mode.broker_url_env} is not set (CI sets it to the machine's server)"
            marks.append(_skip_without(mode.broker_url_env, reason))
        if mode.shared_redis:
            reason = f"{REDIS_URL_ENV} is not set (CI sets it to the machine's Redis)"
            marks.append(_skip_without(REDIS_URL_ENV, reason))
        params.append(pytest.param(mode, id=mode.name, marks=marks))
    return params


def _skip_without(variable: str, reason: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not os.environ.get(variable) and not os.environ.get("CI"), reason=reason
    )


@dataclass
class Launched:
    """A running ``shoplab up`` process and what is needed to talk to it and clean it up."""

    mode: ModeSpec
    process: subprocess.Popen[bytes]
    port: int
    root: Path
    data_dir: Path
    log_path: Path
    admin_password: str
    database_url: str | None
    broker_namespace: str | None
    log_file: IO[bytes] = field(repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self, limit: int = 20_000) -> str:
        """The tail of everything the process printed, for failure messages."""
        self.log_file.flush()
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "<no output captured>"
        return text[-limit:]


def free_port() -> int:
    """A TCP port that was free a moment ago on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a private loop in a worker thread, away from the test loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _database_url(base_url: str, name: str) -> str:
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


async def _create_database(base_url: str, name: str) -> None:
    import asyncpg  # type: ignore[import-untyped, unused-ignore]

    conn = await asyncpg.connect(base_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(base_url: str, name: str) -> None:
    import asyncpg  # type: ignore[import-untyped, unused-ignore]

    conn = await asyncpg.connect(base_url)
    try:
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except asyncpg.PostgresSyntaxError:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                name,
            )
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await conn.close()


def create_test_database() -> str:
    """Create a fresh, uniquely named database on the test server and return its URL."""
    base_url = os.environ[POSTGRES_URL_ENV]
    name = f"shoplab_e2e_{uuid.uuid4().hex[:16]}"
    _run_coroutine(_create_database(base_url, name))
    return _database_url(base_url, name)


def drop_test_database(database_url: str) -> None:
    base_url = os.environ[POSTGRES_URL_ENV]
    name = urlsplit(database_url).path.lstrip("/")
    _run_coroutine(_drop_database(base_url, name))


def drop_service_databases(database_url: str) -> None:
    """The microservices mode makes one database per service from the given URL."""
    for service in SERVICES:
        drop_test_database(service_database_url(database_url, service))


async def _delete_broker_namespace(broker_url: str, namespace: str) -> None:
    """Delete what a run made on a shared broker: its streams, or its exchange and queues."""
    if urlsplit(broker_url).scheme in {"amqp", "amqps"}:
        names = RabbitTopology(Topology(namespace))
        await delete_namespace(broker_url, names)
        return
    import nats

    connection = await nats.connect(broker_url)
    try:
        jetstream = connection.jetstream()
        for spec in Topology(namespace).streams():
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await jetstream.delete_stream(spec.name)
    finally:
        await connection.close()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def _wait_ready(launched: Launched, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    url = f"{launched.base_url}/health/ready"
    last = "no answer yet"
    with httpx.Client(timeout=2.0) as http:
        while time.monotonic() < deadline:
            code = launched.process.poll()
            if code is not None:
                raise RuntimeError(
                    f"shoplab ({launched.mode.name}) exited with code {code} before it was "
                    f"ready; output:\n{launched.output()}"
                )
            try:
                response = http.get(url)
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.2)
    raise RuntimeError(
        f"shoplab ({launched.mode.name}) was not ready within {timeout:.0f} s "
        f"(last answer: {last}); output:\n{launched.output()}"
    )


def launch(
    mode: ModeSpec,
    root: Path,
    *,
    ready_timeout: float = READY_TIMEOUT_S,
    env: dict[str, str] | None = None,
) -> Launched:
    """Start ``shoplab up`` for ``mode`` in a fresh data folder under ``root``; wait until ready.

    ``env`` adds settings (``SHOPLAB_*``) for this system only.
    """
    root.mkdir(parents=True, exist_ok=True)
    data_dir = root / "data"
    data_dir.mkdir(exist_ok=True)
    port = free_port()
    admin_password = "E2e-" + secrets.token_urlsafe(18)
    database_url = create_test_database() if mode.needs_postgres else None
    command = [
        sys.executable,
        "-m",
        "shoplab",
        "up",
        "--mode",
        mode.cli_mode,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        *mode.extra_args,
    ]
    if database_url is not None:
        command += ["--database-url", database_url]
    variables = {
        **os.environ,
        **SUITE_RATE_LIMITS,
        **(env or {}),
        "SHOPLAB_ADMIN_PASSWORD": admin_password,
        "PYTHONUNBUFFERED": "1",
    }
    namespace = None
    if mode.external_broker:
        namespace = f"e2e{uuid.uuid4().hex[:12]}"
        command += ["--broker", os.environ[mode.broker_url_env]]
        variables["SHOPLAB_BROKER_NAMESPACE"] = namespace
    if mode.shared_redis:
        command += ["--redis", os.environ[REDIS_URL_ENV]]
        variables["SHOPLAB_REDIS_PREFIX"] = f"e2e{uuid.uuid4().hex[:12]}"
    log_path = root / "shoplab-output.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        command,
        cwd=root,
        env=variables,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    launched = Launched(
        mode=mode,
        process=process,
        port=port,
        root=root,
        data_dir=data_dir,
        log_path=log_path,
        admin_password=admin_password,
        database_url=database_url,
        broker_namespace=namespace,
        log_file=log_file,
    )
    try:
        _wait_ready(launched, ready_timeout)
    except BaseException:
        _kill_group(process)
        _release(launched)
        raise
    return launched


def _release(launched: Launched) -> None:
    """Give back what the run held on shared servers: its databases and its streams."""
    launched.log_file.close()
    if launched.database_url is not None:
        if launched.mode.cli_mode == "microservices":
            drop_service_databases(launched.database_url)
        drop_test_database(launched.database_url)
    if launched.broker_namespace is not None:
        url = os.environ[launched.mode.broker_url_env]
        _run_coroutine(_delete_broker_namespace(url, launched.broker_namespace))


def stop(
    launched: Launched, sig: signal.Signals = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S
) -> int | None:
    """Send ``sig`` to the main process; return its exit code, or None if it had to be killed.

    Whatever happens, the process group is gone and the test database dropped afterwards.
    """
    code: int | None
    try:
        if launched.process.poll() is None:
            launched.process.send_signal(sig)
        try:
            code = launched.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        _kill_group(launched.process)
    finally:
        _release(launched)
    return code


@contextlib.contextmanager
def running(mode: ModeSpec, root: Path, *, env: dict[str, str] | None = None) -> Iterator[Launched]:
    """A system of its own for one test: started, handed over, then stopped."""
    launched = launch(mode, root, env=env)
    try:
        yield launched
    finally:
        stop(launched)


def run_cli(*args: str, timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Run ``python -m shoplab <args>`` in a separate process and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "shoplab", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_cli(*args: str) -> subprocess.Popen[str]:
    """Start ``python -m shoplab <args>`` without waiting for it."""
    return subprocess.Popen(
        [sys.executable, "-m", "shoplab", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def status_processes(data_dir: Path) -> list[dict[str, Any]]:
    """The process list that ``shoplab status --json`` reports for a data folder."""
    result = run_cli("status", "--json", "--data-dir", str(data_dir))
    assert result.returncode == 0, (
        f"shoplab status exited {result.returncode}; stdout={result.stdout!r} "
        f"stderr={result.stderr[-2000:]!r}"
    )
    try:
        document = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"shoplab status --json printed no JSON: {result.stdout!r}") from exc
    assert isinstance(document, dict), document
    assert set(document) >= {"processes"}, document
    processes = document["processes"]
    assert isinstance(processes, list), document
    return processes


def pid_alive(pid: int) -> bool:
    """True when ``pid`` is a live process (a zombie waiting to be reaped counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in {"Z", "X"}


def wait_pids_gone(pids: list[int], timeout: float = 10.0) -> list[int]:
    """Wait until none of ``pids`` is alive; return the ones still alive at the deadline."""
    deadline = time.monotonic() + timeout
    alive = [pid for pid in pids if pid_alive(pid)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in alive if pid_alive(pid)]
    return alive
