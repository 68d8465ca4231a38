"""``shoplab keys``: identity's token signing keys, shown and rotated.

The rules of a rotation (when a new key signs, how long an old one stays published)
are the key ring's; see ``operations.keys``.
"""

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from shoplab.cli.options import DataDir
from shoplab.identity.adapters.signing_keys import LEGACY_KEY_FILE, KeyState
from shoplab.operations.keys import ring_of

keys_app = typer.Typer(
    help="Identity's token signing keys: the key ring and its rotation.", no_args_is_help=True
)


@keys_app.command("rotate")
def rotate_command(data_dir: DataDir = Path(".shoplab")) -> None:
    """Create a new signing key; tokens signed by the current one stay valid until they expire."""
    console = Console()
    ring = ring_of(data_dir)
    key = ring.rotate()
    dropped = ring.prune()
    now = ring.now()
    if key.signs_from <= now:
        console.print(f"New signing key [bold]{key.kid}[/bold]: signs from now.")
    else:
        wait = round((key.signs_from - now).total_seconds())
        console.print(
            f"New signing key [bold]{key.kid}[/bold]: published now, signs from "
            f"{_moment(key.signs_from)} (in {wait} s)."
        )
    if dropped:
        kids = ", ".join(key.kid for key in dropped)
        console.print(f"Deleted the key(s) whose tokens have all expired: {kids}.")
    console.print(_table(ring.states()))


@keys_app.command("list")
def list_command(data_dir: DataDir = Path(".shoplab")) -> None:
    """Show the published keys: which one signs, which one is next, which ones retire."""
    console = Console()
    ring = ring_of(data_dir)
    states = ring.states()
    if states:
        console.print(_table(states))
    elif (data_dir / LEGACY_KEY_FILE).exists():
        console.print(
            f"One key, in {data_dir / LEGACY_KEY_FILE}: it joins the ring in {ring.folder} "
            "at identity's next start or at `shoplab keys rotate`."
        )
    else:
        console.print(f"No signing key in {ring.folder}: identity creates one at its start.")
        raise typer.Exit(1)


def _table(states: list[KeyState]) -> Table:
    table = Table(title="Published keys (the JWKS)", title_justify="left")
    for column in ("kid", "status", "signs from", "published until"):
        table.add_column(column)
    for state in states:
        until = "-" if state.published_until is None else _moment(state.published_until)
        table.add_row(state.key.kid, state.status, _moment(state.key.signs_from), until)
    return table


def _moment(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
