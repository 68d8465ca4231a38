"""The preloaded parent: shoplab's Python processes start by ``fork``, not as new interpreters.

Every service, the gateway and the monolith import the same libraries (FastAPI, pydantic,
SQLAlchemy, gRPC, OpenTelemetry, the chassis): about a second of CPU per process, and as
many private copies of the same pages. The launcher imports the chassis once, then forks
one child per request. A child starts with everything already imported, and shares those
pages with the launcher and its siblings until it writes to them (copy on write): a run
starts sooner and takes less memory. Each child then imports only its own context.

Nothing here starts a thread or an event loop before forking: a child must begin with a
clean process, as a fresh interpreter would.

The supervisor and the launcher talk over a Unix socket of packets (``SOCK_SEQPACKET``,
so each message arrives whole; ``supervisor.Launcher`` is the other side), one JSON
document per packet:

- supervisor → launcher: ``{"module": ..., "args": [...], "env": {...}, "log": path}``,
  with the child's listening socket attached (``SCM_RIGHTS``) when it has one;
- launcher → supervisor: ``{"started": pid}`` for each request, in order, and
  ``{"exited": pid, "code": exit code}`` when a child ends.

The launcher dies with the supervisor, and its children die with it (``PR_SET_PDEATHSIG``).
"""

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import importlib
import json
import os
import runpy
import selectors
import signal
import socket
import sys
from pathlib import Path
from typing import Any

LISTEN_FD_ENV = "SHOPLAB_LISTEN_FD"
"""As ``platform.http.server.LISTEN_FD_ENV`` (not imported: this module is read first)."""
PRELOADED = (
    "uvloop",
    "shoplab.platform.host",
    "shoplab.platform.http.server",
    "shoplab.platform.settings",
    "shoplab.platform.telemetry.setup",
)
"""What every Python process of a run imports: imported once, here."""
MAX_MESSAGE = 1 << 20
_LIBC = ctypes.util.find_library("c")


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel for ``sig`` when this process's parent goes away."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(_LIBC, use_errno=True).prctl(1, sig)  # PR_SET_PDEATHSIG


def main(channel_fd: int) -> None:
    die_with_parent()
    for module in PRELOADED:
        importlib.import_module(module)
    gc.freeze()  # the collector never writes to what is preloaded, so the pages stay shared
    channel = socket.socket(fileno=channel_fd)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake the selector
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    selector = selectors.DefaultSelector()
    selector.register(channel, selectors.EVENT_READ, "request")
    selector.register(wake_read, selectors.EVENT_READ, "signal")
    while True:
        for key, _ in selector.select():
            if key.data == "signal":
                os.read(wake_read, 4096)
                continue
            data, fds, _flags, _address = socket.recv_fds(channel, MAX_MESSAGE, 1)
            if not data:
                return  # the supervisor is gone
            pid = _fork(json.loads(data), fds[0] if fds else None, channel)
            _send(channel, {"started": pid})
        _report_exits(channel)


def _fork(request: dict[str, Any], listener_fd: int | None, channel: socket.socket) -> int:
    pid = os.fork()
    if pid:
        if listener_fd is not None:
            os.close(listener_fd)
        return pid
    code = 1
    try:
        channel.close()
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        die_with_parent()
        code = _become(request, listener_fd)
    finally:
        os._exit(code)


def _become(request: dict[str, Any], listener_fd: int | None) -> int:
    """Turn the forked child into the process the request names; returns its exit code."""
    os.environ.clear()
    os.environ.update(request["env"])
    if listener_fd is not None:
        os.environ[LISTEN_FD_ENV] = str(listener_fd)
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(null)
    sys.argv = [request["module"], *request["args"]]
    try:
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        return 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
    return 0


def _report_exits(channel: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(channel, {"exited": pid, "code": os.waitstatus_to_exitcode(status)})


def _send(channel: socket.socket, message: dict[str, Any]) -> None:
    channel.send(json.dumps(message).encode())


# The supervisor's side.


class ForkedProcess:
    """A child the launcher forked: what the supervisor needs of ``asyncio.subprocess.Process``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._exited = asyncio.Event()

    def exited(self, code: int) -> None:
        if self.returncode is None:
            self.returncode = code
            self._exited.set()

    async def wait(self) -> int:
        await self._exited.wait()
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, sig)


class Launcher:
    """The supervisor's handle on the launcher: started on first use, again after a crash."""

    def __init__(self, log_path: Path) -> None:
        self._log_path = log_path
        self._process: asyncio.subprocess.Process | None = None
        self._channel: socket.socket | None = None
        self._reader: asyncio.Task[None] | None = None
        self._children: dict[int, ForkedProcess] = {}
        self._started: asyncio.Future[ForkedProcess] | None = None
        self._turn = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        """The launcher's own process, while it runs."""
        running = self._process is not None and self._process.returncode is None
        return self._process.pid if running and self._process is not None else None

    async def spawn(
        self, module: str, args: list[str], env: dict[str, str], log: Path, listener: int | None
    ) -> ForkedProcess:
        """Fork ``python -m module *args`` with ``env``, its output appended to ``log``."""
        async with self._turn:
            channel = await self._ensure_running()
            self._started = asyncio.get_running_loop().create_future()
            request = {"module": module, "args": args, "env": env, "log": str(log)}
            socket.send_fds(
                channel, [json.dumps(request).encode()], [] if listener is None else [listener]
            )
            return await self._started

    async def _ensure_running(self) -> socket.socket:
        if self._channel is not None and self._reader is not None and not self._reader.done():
            return self._channel
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with self._log_path.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "shoplab.runtime.launcher",
                str(theirs.fileno()),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(theirs.fileno(),),
                preexec_fn=die_with_parent,
            )
        theirs.close()
        ours.setblocking(False)
        self._channel = ours
        self._reader = asyncio.create_task(self._read(ours))
        return ours

    async def _read(self, channel: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        try:
            while data := await loop.sock_recv(channel, MAX_MESSAGE):
                message = json.loads(data)
                if "started" in message:
                    child = ForkedProcess(message["started"])
                    self._children[child.pid] = child
                    if self._started is not None and not self._started.done():
                        self._started.set_result(child)
                elif (ended := self._children.pop(message["exited"], None)) is not None:
                    ended.exited(message["code"])
        finally:
            # The launcher is gone, and its children with it (they die with their parent).
            for child in self._children.values():
                child.exited(-signal.SIGKILL)
            self._children.clear()
            if self._started is not None and not self._started.done():
                self._started.set_exception(
                    RuntimeError(f"the launcher stopped; see {self._log_path}")
                )
            channel.close()

    async def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            await self._process.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
