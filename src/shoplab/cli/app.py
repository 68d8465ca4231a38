"""The ``shoplab`` command: every command and group, registered on one Typer app.

Each module of this package holds one command or group and only parses and prints;
the supervisor (``runtime``) and the operator's tools (``operations``, ``bench``) do
the work. The order below is the order ``shoplab --help`` lists them in.
"""

import typer

from shoplab.cli.bench import bench_command, load_command
from shoplab.cli.dlq import dlq_app
from shoplab.cli.fault import fault
from shoplab.cli.history import history_app
from shoplab.cli.keys import keys_app
from shoplab.cli.logs import logs_command
from shoplab.cli.prometheus import prometheus_config_command
from shoplab.cli.run import down, status, up
from shoplab.cli.trace import trace_command

app = typer.Typer(
    help="shoplab: a runnable reference system for microservices.", no_args_is_help=True
)
app.command()(up)
app.command()(status)
app.command()(fault)
app.command()(down)
app.command("trace")(trace_command)
app.command("logs")(logs_command)
app.command("prometheus-config")(prometheus_config_command)
app.command("bench")(bench_command)
app.command("load", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
    load_command
)
app.add_typer(dlq_app, name="dlq")
app.add_typer(history_app, name="history")
app.add_typer(keys_app, name="keys")


def main() -> None:
    app()
