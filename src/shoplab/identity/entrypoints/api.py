"""Identity's public REST endpoints: registration, tokens and the JWKS."""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from shoplab.identity.service_layer import services
from shoplab.identity.service_layer.ports import PasswordHasher, TokenSigner
from shoplab.identity.service_layer.unit_of_work import IdentityUnitOfWork

Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]


class Registration(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    email: EmailStr = Field(max_length=320)
    password: Password
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Registered(BaseModel):
    customer_id: str


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    email: Annotated[str, StringConstraints(max_length=320)]
    password: Annotated[str, StringConstraints(max_length=128)]


class TokenAnswer(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


def build_router(
    new_uow: Callable[[], IdentityUnitOfWork],
    hasher: PasswordHasher,
    signer: TokenSigner,
    jwks: Callable[[], dict[str, Any]],
) -> APIRouter:
    router = APIRouter(tags=["identity"])

    @router.post("/api/auth/register", status_code=status.HTTP_201_CREATED)
    async def register(body: Registration) -> Registered:
        """Create a customer account."""
        customer_id = await services.register(
            new_uow(), hasher, body.email, body.password, body.name
        )
        return Registered(customer_id=customer_id)

    @router.post("/api/auth/token")
    async def token(body: Credentials) -> TokenAnswer:
        """Exchange an email and password for a bearer access token."""
        issued = await services.issue_token(new_uow(), hasher, signer, body.email, body.password)
        return TokenAnswer(access_token=issued.access_token, expires_in=issued.expires_in)

    @router.get("/.well-known/jwks.json")
    async def public_keys() -> dict[str, Any]:
        """The public keys that verify access tokens."""
        return jwks()

    return router
