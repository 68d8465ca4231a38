"""Identity's ports in memory: its unit of work, and cheap stand-ins for hashing,
signing and the sign-in throttle (the real ones cost time or need Redis)."""

from shoplab.identity.domain.model import AccessToken, Customer, EmailTaken, SignInsSuspended
from shoplab.identity.service_layer.ports import PasswordHasher, SignInThrottle, TokenSigner
from shoplab.identity.service_layer.unit_of_work import CustomerRepository, IdentityUnitOfWork

from ..fakes import FakeRepository, FakeUnitOfWork


class FakeCustomerRepository(FakeRepository[Customer], CustomerRepository):
    """Customers by email: the unique index of the table."""

    async def by_email(self, email: str) -> Customer | None:
        return self._get(email)

    async def add(self, customer: Customer) -> None:
        if customer.email in self.rows:
            raise EmailTaken
        self._insert(customer.email, customer)


class FakeIdentityUnitOfWork(FakeUnitOfWork, IdentityUnitOfWork):
    customers: FakeCustomerRepository

    def __init__(self) -> None:
        self.customers = FakeCustomerRepository()
        super().__init__(self.customers)


class FakePasswordHasher(PasswordHasher):
    """A readable "hash", and a record of every hash it checked."""

    def __init__(self) -> None:
        self.checked: list[str] = []

    @property
    def decoy_hash(self) -> str:
        return "hashed:decoy"

    async def hash(self, password: str) -> str:
        return f"hashed:{password}"

    async def verify(self, password_hash: str, password: str) -> bool:
        self.checked.append(password_hash)
        return password_hash == f"hashed:{password}"


class FakeTokenSigner(TokenSigner):
    def issue(self, customer: Customer) -> AccessToken:
        return AccessToken(f"token-for-{customer.customer_id}", 900)


class FakeSignInThrottle(SignInThrottle):
    """Suspends an account after ``quota`` failed sign-ins."""

    def __init__(self, quota: int) -> None:
        self.quota = quota
        self.failures: dict[str, int] = {}

    async def check(self, account: str) -> None:
        if self.failures.get(account, 0) >= self.quota:
            raise SignInsSuspended(60)

    async def failed(self, account: str) -> None:
        self.failures[account] = self.failures.get(account, 0) + 1
