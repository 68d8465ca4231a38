"""Argon2id password hashes, computed off the event loop (they cost tens of ms by design)."""

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Hasher:
    def __init__(self) -> None:
        self._hasher = PasswordHasher()
        self._decoy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    @property
    def decoy_hash(self) -> str:
        return self._decoy_hash

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
