"""What identity needs from outside: password hashing, token signing, a sign-in throttle."""

from typing import Protocol

from shoplab.identity.domain.model import AccessToken, Customer


class PasswordHasher(Protocol):
    @property
    def decoy_hash(self) -> str:
        """A hash of a random password: checked when an email is unknown, to spend the same time."""
        ...

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """False for a wrong password; never raises for one."""
        ...


class TokenSigner(Protocol):
    def issue(self, customer: Customer) -> AccessToken: ...


class SignInThrottle(Protocol):
    """Counts failed sign-ins per account and suspends an account's sign-ins past a quota."""

    async def check(self, account: str) -> None:
        """Raise ``SignInsSuspended`` while ``account`` (a normalized email) may not sign in."""
        ...

    async def failed(self, account: str) -> None:
        """Count one failed sign-in for ``account``."""
        ...
