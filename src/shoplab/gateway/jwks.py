"""The identity service's public keys, cached at the edge.

The gateway verifies every customer token, so it cannot ask identity for the
keys each time. ``JwksCache`` loads them on first use and keeps them. A token
whose ``kid`` is unknown may mean identity rotated its key, so the cache asks
again, but at most once per ``min_refresh_seconds``: a stream of tokens with
made-up kids must not become a stream of requests to identity. Identity publishes
a new key longer than that before signing with it, so a genuine new ``kid`` is
always in the next refresh (``identity/adapters/signing_keys.py``). The keys come
only from identity's JWKS: a token's own ``jku`` or ``x5u`` is never followed.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import jwt
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shoplab.platform.auth import JWKS_MIN_REFRESH_SECONDS

log = structlog.get_logger(__name__)

FetchJwks = Callable[[], Awaitable[Mapping[str, Any]]]
Clock = Callable[[], float]


class JwksCache:
    """Ed25519 public keys by ``kid``, from a JWKS document that ``fetch`` returns.

    Until a first load succeeds, every call tries it and its failure reaches the
    caller (no key, no verification). A later refresh that fails keeps the keys
    already known, and still counts against the once-per-interval rule.
    """

    def __init__(
        self,
        fetch: FetchJwks,
        *,
        min_refresh_seconds: float = JWKS_MIN_REFRESH_SECONDS,
        clock: Clock = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._min_refresh = min_refresh_seconds
        self._clock = clock
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    def current(self) -> Mapping[str, Ed25519PublicKey]:
        """The keys known now; the synchronous source ``TokenVerifier`` reads."""
        return self._keys

    async def ensure(self, kid: str) -> None:
        """Make sure the keys are loaded, and refreshed if ``kid`` is unknown and it is time."""
        if kid in self._keys:
            return
        async with self._lock:
            if kid in self._keys:
                return
            now = self._clock()
            if self._fetched_at is None:
                self._keys = await self._load()
                self._fetched_at = now
            elif now - self._fetched_at >= self._min_refresh:
                self._fetched_at = now
                try:
                    self._keys = await self._load()
                except Exception:
                    log.warning("jwks refresh failed, keeping the known keys", exc_info=True)

    async def _load(self) -> dict[str, Ed25519PublicKey]:
        keys = _ed25519_keys(await self._fetch())
        log.info("jwks loaded", kids=sorted(keys))
        return keys


def _ed25519_keys(document: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    keys = jwt.PyJWKSet.from_dict(dict(document)).keys
    return {
        key.key_id: key.key for key in keys if key.key_id and isinstance(key.key, Ed25519PublicKey)
    }
