"""The preloaded parent forks shoplab's Python processes: arguments, environment, socket,
output and exit codes arrive as with a fresh interpreter, and its death takes its children."""

import asyncio
import json
import os
import signal
import socket
from pathlib import Path

from shoplab.runtime.launcher import ForkedProcess, Launcher

PROBE = "tests.integration.runtime.launched_probe"


async def test_a_forked_child_gets_its_arguments_environment_socket_and_log(
    tmp_path: Path,
) -> None:
    launcher = Launcher(tmp_path / "launcher.log")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    out = tmp_path / "out.json"
    try:
        env = {**os.environ, "PROBE": "here"}
        child = await launcher.spawn(
            PROBE, [str(out), "3"], env, tmp_path / "child.log", listener.fileno()
        )
        assert await asyncio.wait_for(child.wait(), 30) == 3
        seen = json.loads(out.read_text())
        assert seen["argv"][1:] == [str(out), "3"]
        assert seen["probe"] == "here"
        assert seen["listen_fd"] is not None
        assert seen["preloaded"], "the chassis was imported before the fork"
        assert seen["frozen"] > 10_000, "what was preloaded is out of the collector's reach"
        assert launcher.pid is not None
        assert launcher.pid != child.pid
        assert "probe says hello" in (tmp_path / "child.log").read_text()
    finally:
        listener.close()
        await launcher.stop()


async def _spawn(launcher: Launcher, tmp_path: Path, name: str, code: int) -> ForkedProcess:
    args = [str(tmp_path / name), str(code)]
    return await launcher.spawn(PROBE, args, dict(os.environ), tmp_path / f"{name}.log", None)


async def test_a_killed_child_is_reported_and_the_launcher_forks_again(tmp_path: Path) -> None:
    launcher = Launcher(tmp_path / "launcher.log")
    try:
        sleeper = await _spawn(launcher, tmp_path, "a", 99)
        os.kill(sleeper.pid, signal.SIGKILL)
        assert await asyncio.wait_for(sleeper.wait(), 30) == -signal.SIGKILL
        again = await _spawn(launcher, tmp_path, "b", 0)
        assert await asyncio.wait_for(again.wait(), 30) == 0
    finally:
        await launcher.stop()


async def test_when_the_launcher_dies_its_children_die_and_a_new_one_starts(
    tmp_path: Path,
) -> None:
    launcher = Launcher(tmp_path / "launcher.log")
    try:
        sleeper = await _spawn(launcher, tmp_path, "a", 99)
        assert launcher._process is not None
        launcher._process.kill()
        assert await asyncio.wait_for(sleeper.wait(), 30) == -signal.SIGKILL
        for _ in range(100):  # the kernel ends the orphan at once (PR_SET_PDEATHSIG)
            try:
                os.kill(sleeper.pid, 0)
            except ProcessLookupError:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the child outlived its launcher")
        again = await _spawn(launcher, tmp_path, "b", 0)
        assert await asyncio.wait_for(again.wait(), 30) == 0
    finally:
        await launcher.stop()
