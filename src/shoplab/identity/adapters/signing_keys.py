"""Identity's token signing keys: a ring of Ed25519 keys in the data folder, rotated on command.

Each key is a PKCS#8 PEM file in ``<data-dir>/keys/jwt-signing/``, created private and
never rewritten, named after the moment it starts signing and its ``kid`` (the RFC 7638
thumbprint of the public key): ``20260102T030405Z-<kid>.pem``. A key's life, which makes
a rotation invisible to clients:

- it is published in the JWKS as soon as its file exists;
- it signs from the moment in its name, ``PUBLISH_AHEAD_SECONDS`` after its creation:
  longer than a verifier caching the JWKS waits between two refreshes, so a verifier that
  meets the new ``kid`` can already fetch it;
- it retires when the next key starts signing, and stays published for as long as a token
  it signed can be valid (the token lifetime plus the leeway), then drops out.

Identity reads the folder again whenever its modification time changes (one ``stat`` per
use), so ``shoplab keys rotate`` works on a running system as well as on a stopped one.
"""

import base64
import fcntl
import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shoplab.platform.auth import ALGORITHM, JWKS_MIN_REFRESH_SECONDS, LEEWAY_SECONDS
from shoplab.platform.secret_files import write_new_secret

log = structlog.get_logger(__name__)

KEYS_FOLDER = Path("keys") / "jwt-signing"
LEGACY_KEY_FILE = Path("keys") / "jwt-signing.pem"
"""The one key of data folders made before the ring; moved into it on first use."""
PUBLISH_AHEAD_SECONDS = JWKS_MIN_REFRESH_SECONDS + 10
"""How long a new key is published before it signs: a JWKS refresh, plus a margin."""
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
SETTLED_NS = 2_000_000_000
"""A folder changed this recently is read again at every use: some file systems keep
modification times to the second or two, so a second change could leave it unchanged."""

Clock = Callable[[], float]
Status = Literal["next", "signing", "retired"]


@dataclass(frozen=True)
class RingKey:
    kid: str
    private_key: Ed25519PrivateKey
    public_key: Ed25519PublicKey
    signs_from: datetime
    path: Path

    def jwk(self) -> dict[str, str]:
        return {**_public_jwk(self.public_key), "kid": self.kid, "use": "sig", "alg": ALGORITHM}


@dataclass(frozen=True)
class KeyState:
    """A published key at one moment: ``next`` (published ahead), ``signing`` or ``retired``."""

    key: RingKey
    status: Status
    published_until: datetime | None
    """When it leaves the JWKS: its successor's start plus the retention; None without one."""


def timeline(keys: Sequence[RingKey], now: datetime, retention: timedelta) -> list[KeyState]:
    """The published keys at ``now``, oldest first.

    The signing key is the last one whose time has come (the first one, if none has
    yet); each key retires when its successor starts signing, and leaves the JWKS
    ``retention`` later.
    """
    ordered = sorted(keys, key=lambda key: (key.signs_from, key.kid))
    started = [index for index, key in enumerate(ordered) if key.signs_from <= now]
    signing = started[-1] if started else 0
    states: list[KeyState] = []
    for index, key in enumerate(ordered):
        successor = ordered[index + 1] if index + 1 < len(ordered) else None
        until = successor.signs_from + retention if successor is not None else None
        status: Status = "retired" if index < signing else "signing" if index == signing else "next"
        if until is None or until > now:
            states.append(KeyState(key, status, until))
    return states


class KeyRing:
    """The signing keys of one data folder, as identity and ``shoplab keys`` see them.

    ``publish_ahead_seconds`` is how far ahead ``rotate`` schedules a new key (tests
    shorten it); ``clock`` tells the time, in seconds since the epoch.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        token_ttl_seconds: int,
        publish_ahead_seconds: float = PUBLISH_AHEAD_SECONDS,
        clock: Clock = time.time,
    ) -> None:
        self.data_dir = data_dir
        self.folder = data_dir / KEYS_FOLDER
        self.retention = timedelta(seconds=token_ttl_seconds + LEEWAY_SECONDS)
        self._ahead = timedelta(seconds=publish_ahead_seconds)
        self._clock = clock
        self._keys: list[RingKey] = []
        self._stamp: int | None = None

    @classmethod
    def load_or_create(
        cls,
        data_dir: Path,
        *,
        token_ttl_seconds: int,
        publish_ahead_seconds: float = PUBLISH_AHEAD_SECONDS,
        clock: Clock = time.time,
    ) -> "KeyRing":
        """The folder's ring, after moving a single-key folder's key in, or creating a first key."""
        ring = cls(
            data_dir,
            token_ttl_seconds=token_ttl_seconds,
            publish_ahead_seconds=publish_ahead_seconds,
            clock=clock,
        )
        with _locked(ring.folder):
            if not _key_files(ring.folder) and ring._migrate() is None:
                ring._create(_second(ring.now(), math.floor))
        ring._reload()
        if not ring._keys:
            raise ValueError(f"{ring.folder} holds no usable signing key")
        return ring

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def states(self) -> list[KeyState]:
        return timeline(self._current(), self.now(), self.retention)

    def signing_key(self) -> RingKey:
        return next(state.key for state in self.states() if state.status == "signing")

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        return {state.key.kid: state.key.public_key for state in self.states()}

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        return {"keys": [state.key.jwk() for state in self.states()]}

    def rotate(self) -> RingKey:
        """A new key, published now and signing ``publish_ahead_seconds`` from now.

        In an empty ring (a stopped system never started) it signs at once.
        """
        with _locked(self.folder):
            if _key_files(self.folder) or self._migrate() is not None:
                key = self._create(_second(self.now() + self._ahead, math.ceil))
            else:
                key = self._create(_second(self.now(), math.floor))
        self._reload()
        return key

    def prune(self) -> list[RingKey]:
        """Delete the keys no longer published: every token they signed has expired."""
        with _locked(self.folder):
            self._reload()
            published = {state.key.kid for state in self.states()}
            dropped = [key for key in self._keys if key.kid not in published]
            for key in dropped:
                key.path.unlink(missing_ok=True)
        self._reload()
        return dropped

    def _current(self) -> list[RingKey]:
        stamp = _folder_stamp(self.folder)
        if stamp is None or stamp != self._stamp:
            self._reload()
        return self._keys

    def _reload(self) -> None:
        stamp = _folder_stamp(self.folder)
        keys = [key for path in _key_files(self.folder) if (key := _read_key(path)) is not None]
        if keys:  # an emptied or removed folder leaves the keys in use as they are
            self._keys = keys
        settled = stamp is not None and time.time_ns() - stamp > SETTLED_NS
        self._stamp = stamp if settled else None

    def _create(self, signs_from: datetime) -> RingKey:
        private_key = Ed25519PrivateKey.generate()
        key = _ring_key(private_key, signs_from, self.folder)
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_new_secret(key.path, pem)
        return key

    def _migrate(self) -> RingKey | None:
        """Move a single-key data folder's key into the ring, signing since it was made."""
        legacy = self.data_dir / LEGACY_KEY_FILE
        try:
            pem, made = legacy.read_bytes(), legacy.stat().st_mtime
        except FileNotFoundError:
            return None
        since = _second(datetime.fromtimestamp(min(made, self._clock()), UTC), math.floor)
        key = _ring_key(_private_key(pem, legacy), since, self.folder)
        write_new_secret(key.path, pem)
        legacy.unlink(missing_ok=True)
        log.info("signing key moved into the key ring", kid=key.kid, path=str(key.path))
        return key


def _second(moment: datetime, rounding: Callable[[float], int]) -> datetime:
    """``moment`` to a whole second, as a key's file name keeps it."""
    return datetime.fromtimestamp(rounding(moment.timestamp()), UTC)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One writer at a time: two identity instances starting at once make one first key."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _folder_stamp(folder: Path) -> int | None:
    try:
        return folder.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _key_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.glob("*.pem") if not path.name.startswith("."))


def _read_key(path: Path) -> RingKey | None:
    """The key in ``path``; None, and the keys in use kept, for a file that is not a key."""
    try:
        signs_from = datetime.strptime(path.name.split("-", 1)[0], STAMP_FORMAT)
        private_key = _private_key(path.read_bytes(), path)
    except FileNotFoundError:  # pruned by a rotation meanwhile
        return None
    except ValueError:
        log.error("not a signing key, ignored", path=str(path), exc_info=True)
        return None
    return _ring_key(private_key, signs_from.replace(tzinfo=UTC), path.parent)


def _ring_key(private_key: Ed25519PrivateKey, signs_from: datetime, folder: Path) -> RingKey:
    public_key = private_key.public_key()
    kid = _thumbprint(public_key)
    path = folder / f"{signs_from.strftime(STAMP_FORMAT)}-{kid}.pem"
    return RingKey(kid, private_key, public_key, signs_from, path)


def _private_key(pem: bytes, path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def _public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
    }


def _thumbprint(key: Ed25519PublicKey) -> str:
    canonical = json.dumps(_public_jwk(key), sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
