"""``shoplab load``: Locust against a running system, with the bench's workload.

Locust runs on gevent, which patches the standard library when imported: it runs in a
process of its own, never inside shoplab's. Its script is ``bench/locustfile.py`` in the
repository (not packaged), so this works from a clone installed with ``pip install -e``.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

LOCUSTFILE = Path(__file__).resolve().parents[3] / "bench" / "locustfile.py"
WEB_HOST = "127.0.0.1"
"""Locust's web UI listens on loopback only, unless ``extra`` says otherwise."""
STOP_GRACE_SECONDS = 30.0
"""How long Locust may take to print its summary after Ctrl-C."""


class LoadUnavailable(RuntimeError):
    """Locust or its script is missing: say what to install or where to run from."""


def locust_argv(
    url: str,
    users: int,
    spawn_rate: float,
    run_time: str | None,
    headless: bool,
    extra: list[str],
    locustfile: Path = LOCUSTFILE,
) -> list[str]:
    """The Locust command; ``extra`` goes last, so it may add or override any option."""
    argv = [sys.executable, "-m", "locust", "-f", str(locustfile), "--host", url]
    argv += ["--users", str(users), "--spawn-rate", str(spawn_rate)]
    if headless:
        argv.append("--headless")
    else:
        argv += ["--web-host", WEB_HOST]
    if run_time is not None:
        argv += ["--run-time", run_time]
        if not headless:
            argv.append("--autostart")  # Locust honours a run time only for a started test
    return [*argv, *extra]


def run_load(
    url: str,
    users: int,
    spawn_rate: float,
    run_time: str | None,
    headless: bool,
    extra: list[str],
) -> int:
    """Run Locust until it stops (run time over, or Ctrl-C) and return its exit code."""
    if importlib.util.find_spec("locust") is None:
        raise LoadUnavailable(f"Locust is not installed: {sys.executable} -m pip install locust")
    if not LOCUSTFILE.is_file():
        raise LoadUnavailable(
            f"no Locust script at {LOCUSTFILE}: `shoplab load` runs from a clone of the "
            "shoplab repository installed with `pip install -e .`; elsewhere run "
            "`locust -f <clone>/bench/locustfile.py --host URL`"
        )
    argv = locust_argv(url, users, spawn_rate, run_time, headless, extra, LOCUSTFILE)
    process = subprocess.Popen(argv)
    try:
        return process.wait()
    except KeyboardInterrupt:
        # The terminal sent SIGINT to Locust too: let it stop its users and print the summary.
        try:
            return process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()
