"""Identity's public REST endpoints: registration, tokens and the JWKS."""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from shoplab.identity.service_layer import services
from shoplab.identity.service_layer.ports import PasswordHasher, SignInThrottle, TokenSigner
from shoplab.identity.service_layer.unit_of_work import IdentityUnitOfWork
from shoplab.platform.http.openapi import problems

Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]


class Registration(BaseModel):
    """A new customer account."""

    model_config = ConfigDict(extra="forbid", strict=True)

    email: EmailStr = Field(max_length=320)
    password: Password
    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
        # Documents what the stripping implies: a name is more than blanks.
        Field(json_schema_extra={"pattern": r"\S"}),
    ]


class Registered(BaseModel):
    customer_id: str


class Credentials(BaseModel):
    """An account's email and password."""

    model_config = ConfigDict(extra="forbid", strict=True)

    email: Annotated[str, StringConstraints(max_length=320)]
    password: Annotated[str, StringConstraints(max_length=128)]


class TokenAnswer(BaseModel):
    """A bearer access token (a signed JWT) and its lifetime in seconds."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class JsonWebKey(BaseModel):
    """One public key (RFC 7517): Ed25519 (``kty`` OKP), named by ``kid``."""

    kty: str
    crv: str
    x: str
    kid: str
    use: str
    alg: str


class JsonWebKeySet(BaseModel):
    """The keys whose signatures an access token may carry (RFC 7517)."""

    keys: list[JsonWebKey]


def build_router(
    new_uow: Callable[[], IdentityUnitOfWork],
    hasher: PasswordHasher,
    signer: TokenSigner,
    throttle: SignInThrottle,
    jwks: Callable[[], dict[str, Any]],
) -> APIRouter:
    router = APIRouter(tags=["identity"])

    @router.post(
        "/api/auth/register",
        status_code=status.HTTP_201_CREATED,
        responses=problems(
            {
                409: "An account has this email already.",
                422: "The email is not valid, the password is not 8 to 128 characters long, "
                "or the name is not 1 to 100.",
            }
        ),
    )
    async def register(body: Registration) -> Registered:
        """Create a customer account."""
        customer_id = await services.register(
            new_uow(), hasher, body.email, body.password, body.name
        )
        return Registered(customer_id=customer_id)

    @router.post(
        "/api/auth/token",
        responses=problems(
            {
                401: "The email and password do not match an account.",
                429: "Too many attempts from this address, or too many failed sign-ins "
                "for this account.",
            }
        ),
    )
    async def token(body: Credentials) -> TokenAnswer:
        """Exchange an email and password for a bearer access token."""
        issued = await services.issue_token(
            new_uow(), hasher, signer, throttle, body.email, body.password
        )
        return TokenAnswer(access_token=issued.access_token, expires_in=issued.expires_in)

    @router.get(
        "/.well-known/jwks.json",
        response_model=None,
        responses={200: {"model": JsonWebKeySet, "description": "The published keys."}},
    )
    async def public_keys() -> dict[str, Any]:
        """The public keys that verify access tokens."""
        return jwks()

    return router
