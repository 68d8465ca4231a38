"""``shoplab load``'s Locust command line, and its refusal when the script is missing."""

import sys
from pathlib import Path

import pytest

from shoplab.bench import load
from shoplab.bench.load import LoadUnavailable, locust_argv, run_load

URL = "http://127.0.0.1:9000"


def test_the_script_is_found_in_the_repository() -> None:
    assert load.LOCUSTFILE.is_file()
    assert load.LOCUSTFILE.parts[-2:] == ("bench", "locustfile.py")


def test_headless_run_with_a_time_limit() -> None:
    argv = locust_argv(URL, 5, 2.5, "30s", True, ["--csv", "out"])
    assert argv[:3] == [sys.executable, "-m", "locust"]
    assert argv[argv.index("-f") + 1] == str(load.LOCUSTFILE)
    assert argv[argv.index("--host") + 1] == URL
    assert argv[argv.index("--users") + 1] == "5"
    assert argv[argv.index("--spawn-rate") + 1] == "2.5"
    assert argv[argv.index("--run-time") + 1] == "30s"
    assert "--headless" in argv
    assert "--web-host" not in argv
    assert argv[-2:] == ["--csv", "out"]  # last, so the learner's options win


def test_web_ui_on_loopback_starts_at_once_when_timed() -> None:
    timed = locust_argv(URL, 1, 1, "1m", False, [])
    assert "--headless" not in timed
    assert timed[timed.index("--web-host") + 1] == "127.0.0.1"
    assert "--autostart" in timed  # Locust ignores --run-time for a test a person starts
    untimed = locust_argv(URL, 1, 1, None, False, [])
    assert "--run-time" not in untimed
    assert "--autostart" not in untimed


def test_refuses_to_run_without_the_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "LOCUSTFILE", tmp_path / "bench" / "locustfile.py")
    with pytest.raises(LoadUnavailable, match="clone of the"):
        run_load(URL, 1, 1, "1s", True, [])
