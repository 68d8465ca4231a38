"""Running the suite on several cores (pytest-xdist ``-n``) without tests stepping on each other.

``make test`` spreads the tests over one worker per core with ``--dist loadgroup``:
a group's tests all run on one worker. Two kinds of tests are grouped:

- the tests of one e2e deployment mode share one running system (a session fixture),
  so they go together and the system starts once;
- the tests that use the PostgreSQL server go together, so that their connection
  pools never exceed the server's ``max_connections`` at once.
"""

import pytest


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark each test with its group as it is collected, before xdist reads the marks."""
    group = _group(item)
    if group is not None:
        item.add_marker(pytest.mark.xdist_group(group))


def _group(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    values = list(callspec.params.values()) if callspec is not None else []
    if item.get_closest_marker("postgres") is not None or "postgres" in values:
        return "postgres"
    for value in values:
        if hasattr(value, "cli_mode"):  # an e2e ModeSpec
            return str(value.name)
    return None
