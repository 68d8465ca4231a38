"""Argon2id password hashes, computed off the event loop (they cost tens of ms by design)."""

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1
"""OWASP's first recommended argon2id configuration (Password Storage Cheat Sheet): 19 MiB,
2 passes, 1 lane; about 20 ms of one core per hash. argon2-cffi's default (64 MiB, 3 passes,
4 lanes) costs ten times the CPU, which on a two-core machine makes every sign-in compete
with the orders. A hash records its parameters, so hashes made with others still verify."""


class Argon2Hasher:
    def __init__(self) -> None:
        self._hasher = PasswordHasher(
            time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM
        )
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
