"""The broker a command speaks to, and its failures as a message rather than a traceback."""

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from shoplab.cli.output import fail
from shoplab.platform.messaging.errors import BrokerError
from shoplab.platform.messaging.streams import Topology
from shoplab.platform.settings import PlatformSettings
from shoplab.runtime import state

T = TypeVar("T")


def topology() -> Topology:
    """The run's subjects and streams: ``SHOPLAB_BROKER_NAMESPACE`` prefixes them when set."""
    return Topology(PlatformSettings().broker_namespace)


def broker_url(data_dir: Path, broker: str | None) -> str:
    """``--broker`` when given, else the broker of the run in ``data_dir``."""
    if broker is not None:
        return broker
    run = state.read(data_dir.resolve())
    if run is None:
        fail(f"shoplab is not running from {data_dir}; give the broker with --broker.")
    if run.broker_url is None:
        fail(f"the run in {data_dir} ({run.mode}) has no broker.")
    return run.broker_url


def on_broker(call: Coroutine[Any, Any, T]) -> T:
    """Run a broker call; a broker that fails ends the command with its reason."""
    try:
        return asyncio.run(call)
    except BrokerError as error:
        fail(str(error))
