"""``shoplab ...``: the command line (see ``app`` for the list of commands)."""

from shoplab.cli.app import app, main

__all__ = ["app", "main"]
