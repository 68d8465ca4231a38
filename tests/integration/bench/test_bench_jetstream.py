"""The raw JetStream baseline against a real embedded nats-server it starts and stops itself."""

import contextlib
import os
import tempfile
from pathlib import Path

import pytest

from shoplab.bench.jetstream import measure_jetstream

MESSAGES = 300


def _child_servers(folder: Path) -> list[int]:
    """Process ids of this test process's nats-server children configured under ``folder``
    (other tests of the same worker run servers of their own)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if name == "nats-server" and parent == os.getpid():
            with contextlib.suppress(OSError):
                if str(folder) in (entry / "cmdline").read_text(errors="replace"):
                    found.append(int(entry.name))
    return found


@pytest.mark.parametrize("fsync", [False, True], ids=["page-cache", "fsync"])
async def test_every_message_is_published_and_consumed_once(
    fsync: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    baseline = await measure_jetstream(messages=MESSAGES, payload_bytes=128, fsync=fsync)

    assert (baseline.messages, baseline.payload_bytes, baseline.fsync) == (MESSAGES, 128, fsync)
    assert baseline.consumed == 2 * MESSAGES  # both publishing phases, each message once
    assert baseline.redelivered == 0
    assert baseline.unacknowledged == 0
    assert baseline.publish_awaited_per_second > 0
    assert baseline.publish_pipelined_per_second > 0
    assert baseline.consume_per_second > 0
    assert os.listdir(tmp_path) == [], "the server's store was left behind"
    assert _child_servers(tmp_path) == [], "the server was left running"


async def test_refuses_to_measure_nothing() -> None:
    with pytest.raises(ValueError, match="at least one message"):
        await measure_jetstream(messages=0)
