"""Identity's use cases on fakes: registering an account and signing in, without I/O.

Nothing may tell an unknown email from a wrong password: both are refused alike, both
cost one hash check, and both count against the email's sign-in quota.
"""

import pytest

from shoplab.contracts.events import CustomerRegistered
from shoplab.identity.domain.model import (
    ADMIN_EMAIL,
    BadCredentials,
    EmailTaken,
    Role,
    SignInsSuspended,
)
from shoplab.identity.service_layer import services

from .fakes import FakeIdentityUnitOfWork, FakePasswordHasher, FakeSignInThrottle, FakeTokenSigner


class Accounts:
    """Identity on fakes, with a sign-in quota of three failures."""

    def __init__(self) -> None:
        self.uow = FakeIdentityUnitOfWork()
        self.hasher = FakePasswordHasher()
        self.throttle = FakeSignInThrottle(quota=3)

    async def register(self, email: str, password: str = "correct horse") -> str:
        return await services.register(self.uow, self.hasher, email, password, "Ada")

    async def sign_in(self, email: str, password: str) -> str:
        token = await services.issue_token(
            self.uow, self.hasher, FakeTokenSigner(), self.throttle, email, password
        )
        return token.access_token


async def test_registering_stores_the_account_and_announces_it() -> None:
    accounts = Accounts()
    customer_id = await accounts.register(" Ada@Example.ORG ")
    stored = accounts.uow.customers.rows["ada@example.org"]
    assert (stored.customer_id, stored.password_hash) == (customer_id, "hashed:correct horse")
    assert accounts.uow.committed
    [registered] = accounts.uow.messages(CustomerRegistered)
    assert (registered.customer_id, registered.email) == (customer_id, "ada@example.org")


async def test_an_email_taken_in_another_case_is_refused_and_announces_nothing() -> None:
    accounts = Accounts()
    await accounts.register("ada@example.org")
    with pytest.raises(EmailTaken):
        await accounts.register("ADA@example.org")
    assert not accounts.uow.committed
    assert len(accounts.uow.published) == 1
    assert len(accounts.uow.customers.rows) == 1


async def test_signing_in_with_the_right_password_issues_a_token() -> None:
    accounts = Accounts()
    customer_id = await accounts.register("ada@example.org")
    assert await accounts.sign_in("ADA@example.org", "correct horse") == f"token-for-{customer_id}"
    assert accounts.throttle.failures == {}


async def test_a_wrong_password_is_refused_and_counted() -> None:
    accounts = Accounts()
    await accounts.register("ada@example.org")
    with pytest.raises(BadCredentials):
        await accounts.sign_in("ada@example.org", "wrong")
    assert accounts.throttle.failures == {"ada@example.org": 1}


async def test_an_unknown_email_costs_a_hash_check_and_is_counted_like_a_wrong_password() -> None:
    accounts = Accounts()
    with pytest.raises(BadCredentials):
        await accounts.sign_in("nobody@example.org", "anything")
    assert accounts.hasher.checked == [accounts.hasher.decoy_hash]
    assert accounts.throttle.failures == {"nobody@example.org": 1}


async def test_a_suspended_account_is_refused_before_its_password_is_checked() -> None:
    accounts = Accounts()
    await accounts.register("ada@example.org")
    for _ in range(3):
        with pytest.raises(BadCredentials):
            await accounts.sign_in("ada@example.org", "guess")
    checked = len(accounts.hasher.checked)
    with pytest.raises(SignInsSuspended):
        await accounts.sign_in("ada@example.org", "correct horse")
    assert len(accounts.hasher.checked) == checked


async def test_the_administrator_is_created_once() -> None:
    accounts = Accounts()
    assert await services.ensure_admin(accounts.uow, accounts.hasher, "s3cret")
    assert not await services.ensure_admin(accounts.uow, accounts.hasher, "other")
    admin = accounts.uow.customers.rows[ADMIN_EMAIL]
    assert (admin.role, admin.password_hash) == (Role.ADMIN, "hashed:s3cret")
