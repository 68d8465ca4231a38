"""Identity: registration, login and the published verification keys."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest

from .api import System, assert_problem, expect_json, registration, unique_email


async def test_register_answers_201_with_customer_id(client: httpx.AsyncClient) -> None:
    """A new customer gets an id back and nothing else it did not ask for."""
    response = await client.post("/api/auth/register", json=registration())
    body = expect_json(response, 201)
    assert set(body) == {"customer_id"}
    assert isinstance(body["customer_id"], str)
    assert body["customer_id"]


async def test_register_gives_each_customer_a_distinct_id(client: httpx.AsyncClient) -> None:
    first = expect_json(await client.post("/api/auth/register", json=registration()), 201)
    second = expect_json(await client.post("/api/auth/register", json=registration()), 201)
    assert first["customer_id"] != second["customer_id"]


async def test_register_with_taken_email_is_409(client: httpx.AsyncClient) -> None:
    body = registration()
    expect_json(await client.post("/api/auth/register", json=body), 201)
    again = registration(email=body["email"], password="another-password", name="Someone Else")
    assert_problem(await client.post("/api/auth/register", json=again), 409)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("email", "missing-domain@"),
        ("email", ""),
        ("password", "x" * 7),
        ("password", "x" * 129),
        ("name", ""),
        ("name", "n" * 101),
        ("email", None),
        ("password", 12345678),
    ],
    ids=[
        "email-no-at",
        "email-no-domain",
        "email-empty",
        "password-7",
        "password-129",
        "name-empty",
        "name-101",
        "email-null",
        "password-number",
    ],
)
async def test_register_rejects_invalid_field_with_422(
    client: httpx.AsyncClient, field: str, value: Any
) -> None:
    """Invalid registrations are refused and leave the email free for a valid attempt."""
    body = registration(**{field: value})
    assert_problem(await client.post("/api/auth/register", json=body), 422)
    if field != "email":
        retry = registration(email=body["email"])
        expect_json(await client.post("/api/auth/register", json=retry), 201)


@pytest.mark.parametrize("missing", ["email", "password", "name"])
async def test_register_without_a_field_is_422(client: httpx.AsyncClient, missing: str) -> None:
    body = registration()
    del body[missing]
    assert_problem(await client.post("/api/auth/register", json=body), 422)


@pytest.mark.parametrize(
    ("field", "value"),
    [("password", "p" * 8), ("password", "p" * 128), ("name", "N"), ("name", "n" * 100)],
    ids=["password-8", "password-128", "name-1", "name-100"],
)
async def test_register_accepts_boundary_lengths(
    client: httpx.AsyncClient, field: str, value: str
) -> None:
    """The limits are inclusive: 8 and 128 character passwords, 1 and 100 character names."""
    body = registration(**{field: value})
    expect_json(await client.post("/api/auth/register", json=body), 201)
    login = await client.post(
        "/api/auth/token", json={"email": body["email"], "password": body["password"]}
    )
    expect_json(login, 200)


async def test_token_for_valid_credentials(client: httpx.AsyncClient) -> None:
    """Login answers a bearer token whose subject is the registered customer."""
    body = registration()
    created = expect_json(await client.post("/api/auth/register", json=body), 201)
    response = await client.post(
        "/api/auth/token", json={"email": body["email"], "password": body["password"]}
    )
    token = expect_json(response, 200)
    assert set(token) == {"access_token", "token_type", "expires_in"}
    assert token["token_type"] == "bearer"
    assert isinstance(token["expires_in"], int)
    assert token["expires_in"] > 0
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["sub"] == created["customer_id"]
    assert claims["role"] == "customer"
    for claim in ("exp", "iat", "iss", "aud"):
        assert claim in claims, claims
    assert claims["exp"] > claims["iat"]
    assert abs((claims["exp"] - claims["iat"]) - token["expires_in"]) <= 5


async def test_token_with_wrong_password_is_401(client: httpx.AsyncClient) -> None:
    body = registration()
    expect_json(await client.post("/api/auth/register", json=body), 201)
    response = await client.post(
        "/api/auth/token", json={"email": body["email"], "password": "wrong-password-123"}
    )
    assert_problem(response, 401)


async def test_token_for_unknown_email_is_401(client: httpx.AsyncClient) -> None:
    """An unknown email is indistinguishable from a wrong password (401, not 404)."""
    response = await client.post(
        "/api/auth/token", json={"email": unique_email(), "password": "whatever-password"}
    )
    assert_problem(response, 401)


async def test_admin_logs_in_with_configured_password(
    system: System, client: httpx.AsyncClient
) -> None:
    """The administrator account exists from the first start with the configured password."""
    response = await client.post(
        "/api/auth/token",
        json={"email": system.admin_email, "password": system.admin_password},
    )
    token = expect_json(response, 200)
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["role"] == "admin"


async def test_jwks_publishes_the_key_that_verifies_tokens(
    system: System, client: httpx.AsyncClient
) -> None:
    """Every token names a published key by kid, and that key really verifies it."""
    jwks = expect_json(await client.get("/.well-known/jwks.json"), 200)
    keys = jwks["keys"]
    assert isinstance(keys, list)
    assert keys
    by_kid = {key["kid"]: key for key in keys}
    private_members = {"d", "p", "q", "dp", "dq", "qi"}
    for key in keys:
        assert key["kty"] in {"OKP", "RSA"}, key
        assert not private_members & set(key), f"JWKS leaks private key material: {key}"

    customer = await system.register_customer(client)
    for token in (customer.token, await system.admin_token(client)):
        header = jwt.get_unverified_header(token)
        assert header["alg"] in {"EdDSA", "RS256"}, header
        assert header["kid"] in by_kid, (header, sorted(by_kid))
        unverified = jwt.decode(token, options={"verify_signature": False})
        key = jwt.PyJWK(by_kid[header["kid"]], algorithm=header["alg"])
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[header["alg"]],
            audience=unverified["aud"],
            issuer=unverified["iss"],
        )
        assert claims["sub"]
