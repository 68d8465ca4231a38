"""Identity use cases: register, sign in, and make sure the administrator exists."""

import uuid

from shoplab.contracts.events import CustomerRegistered
from shoplab.identity.domain.model import (
    ADMIN_EMAIL,
    AccessToken,
    BadCredentials,
    Customer,
    EmailTaken,
    Role,
    normalize_email,
)
from shoplab.identity.service_layer.ports import PasswordHasher, SignInThrottle, TokenSigner
from shoplab.identity.service_layer.unit_of_work import IdentityUnitOfWork


async def register(
    uow: IdentityUnitOfWork,
    hasher: PasswordHasher,
    email: str,
    password: str,
    name: str,
    role: Role = Role.CUSTOMER,
) -> str:
    """Create an account and announce it; returns the new customer id."""
    password_hash = await hasher.hash(password)
    async with uow:
        email = normalize_email(email)
        if await uow.customers.by_email(email) is not None:
            raise EmailTaken
        customer = Customer(str(uuid.uuid4()), email, name, password_hash, role)
        await uow.customers.add(customer)
        await uow.publish(
            CustomerRegistered(customer_id=customer.customer_id, email=email, name=name)
        )
        await uow.commit()
        return customer.customer_id


async def issue_token(
    uow: IdentityUnitOfWork,
    hasher: PasswordHasher,
    signer: TokenSigner,
    throttle: SignInThrottle,
    email: str,
    password: str,
) -> AccessToken:
    """Sign in.

    Nothing tells an unknown email from a wrong password: an unknown email still costs
    one hash check (the same time), and failures are counted per email whether or not
    an account has it, so a suspended email proves nothing either. A suspended account
    is refused before its password is checked, even a right one: guessing must stop.
    """
    account = normalize_email(email)
    await throttle.check(account)
    async with uow.read_only():
        customer = await uow.customers.by_email(account)
    valid = await hasher.verify(customer.password_hash if customer else hasher.decoy_hash, password)
    if customer is None or not valid:
        await throttle.failed(account)
        raise BadCredentials
    return signer.issue(customer)


async def ensure_admin(uow: IdentityUnitOfWork, hasher: PasswordHasher, password: str) -> bool:
    """Create the administrator account unless it exists; True when it was created."""
    async with uow:
        if await uow.customers.by_email(ADMIN_EMAIL) is not None:
            return False
    try:
        await register(uow, hasher, ADMIN_EMAIL, password, "Administrator", Role.ADMIN)
    except EmailTaken:
        return False
    return True
