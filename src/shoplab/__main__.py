"""``python -m shoplab`` is the ``shoplab`` command."""

from shoplab.cli import main

main()
