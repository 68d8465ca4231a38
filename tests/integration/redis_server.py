"""The machine's Redis for integration tests, and a key prefix of its own per test.

``SHOPLAB_TEST_REDIS_URL`` names the server (default: the local one on 6379). Outside
CI a test is skipped when no server answers; in CI it fails instead, so a missing
server cannot hide behind a skip.
"""

import os
import socket
import uuid
from urllib.parse import urlsplit

import pytest

REDIS_URL_ENV = "SHOPLAB_TEST_REDIS_URL"
DEFAULT_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get(REDIS_URL_ENV, DEFAULT_URL)
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 3).close()
    except OSError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {url} ({error!r}); set {REDIS_URL_ENV}")
    return url


@pytest.fixture
def redis_prefix() -> str:
    """Keys of this test only: tests running at once never share a counter."""
    return f"test{uuid.uuid4().hex[:12]}"
