"""Customer accounts and the rules for signing in."""

from dataclasses import dataclass
from enum import StrEnum

from shoplab.platform.errors import Conflict, TooManyRequests, Unauthorized

ADMIN_EMAIL = "admin@shoplab.local"


class Role(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("An account with this email exists already.")


class BadCredentials(Unauthorized):
    """One answer for an unknown email and a wrong password: neither is revealed."""

    def __init__(self) -> None:
        super().__init__("The email or the password is wrong.")


class SignInsSuspended(TooManyRequests):
    """Too many failed sign-ins for one email, known or not: the same answer for both."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"Too many failed sign-ins for this account; try again in {retry_after_seconds} s.",
            retry_after_seconds,
        )


def normalize_email(email: str) -> str:
    """Emails are compared without case: ``Ada@X.io`` and ``ada@x.io`` are one account."""
    return email.strip().lower()


@dataclass(frozen=True)
class Customer:
    customer_id: str
    email: str
    name: str
    password_hash: str
    role: Role = Role.CUSTOMER


@dataclass(frozen=True)
class AccessToken:
    """A signed bearer token and how many seconds it stays valid."""

    access_token: str
    expires_in: int
