"""The public OpenAPI document: every answer documented, in one form for every mode.

FastAPI generates an app's document from its routes, and each route declares the
answers of its own rules (``responses=problems(409, {404: "No such order."})``). What
the chassis may answer on any public operation is added here, once: 401 where a token
is needed, 403 where an administrator's is, 404 where the path names a resource, 400
and 413 where there is a body, 422 as a problem (FastAPI documents a shape of its own), 429
with the rate-limit headers, and 408, 431, 500, 503 and 504 everywhere.

The document is then put in one canonical form (sorted; schemas nothing refers to
dropped; each operation named after its endpoint function), so that the gateway's
merge of the services' documents is the monolith's document byte for byte.
"""

import copy
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field
from starlette.routing import BaseRoute

from shoplab.platform.auth import Authenticator
from shoplab.platform.http.openapi_form import canonical, operations, refs
from shoplab.platform.http.problems import PROBLEM_JSON
from shoplab.platform.http.security_headers import SECURITY_HEADERS

Document = dict[str, Any]
Responses = dict[int | str, dict[str, Any]]

API_VERSION = "1.0.0"
SCHEMAS = "#/components/schemas/"
HEADERS = "#/components/headers/"
PUBLIC_PREFIXES = ("/api/", "/.well-known/")
"""The public API's paths. The others (the health probes) are the chassis's own: no
token, no rate limit, and no problem answers beyond what their routes declare."""

DESCRIPTION = """\
The public REST API of shoplab, the same in every deployment mode: the modular \
monolith, or the microservices behind the gateway.

**Tokens.** Register (`POST /api/auth/register`), exchange the email and password for \
a bearer token (`POST /api/auth/token`), and send it as `Authorization: Bearer <token>`. \
The administration routes need an administrator's token.

**Errors** are RFC 9457 problem details (`application/problem+json`), never a stack \
trace; a 422 lists in `errors` where the request does not match the schema.

**Rate limits.** Every answer under a rate-limit policy carries `RateLimit` and \
`RateLimit-Policy`; past a quota the answer is a 429 with `Retry-After`.

**Retries.** `POST /api/orders` honours an `Idempotency-Key` header: the same key with \
the same body places one order, however often it is sent.

**Security headers** on every answer: """ + ", ".join(
    f"`{name}: {value}`" for name, value in SECURITY_HEADERS
)

DESCRIPTIONS: dict[int, str] = {
    400: "The body cannot be read: it is not text in UTF-8.",
    401: "No valid bearer token: it is missing, expired, or not signed by shoplab.",
    403: "The token is valid, but the operation needs an administrator.",
    404: "Nothing is found at this path.",
    408: "The request took too long to arrive.",
    409: "The request conflicts with the state of the resource.",
    413: "The request body is larger than the server accepts.",
    422: "The request does not match the schema; `errors` says where.",
    429: "Too many requests under a rate-limit policy; ask again after `Retry-After` seconds.",
    431: "The request's headers are larger than the server accepts.",
    500: "An unexpected error; the answer names nothing of the server's internals.",
    503: "A service this request needs is unavailable; asking again later may work.",
    504: "A service this request needs did not answer in time.",
}
ANYWHERE = (408, 429, 431, 500, 503, 504)
"""What the server, the rate limiter, the error handlers or the gateway may answer on
any public operation."""
BEFORE_THE_LIMITER = frozenset({431})
"""Answered before a request reaches the rate limiter (so without its headers)."""
HEADERS_BY_STATUS: dict[int, tuple[str, ...]] = {401: ("WWW-Authenticate",), 429: ("Retry-After",)}
RATE_LIMIT_HEADERS = ("RateLimit", "RateLimit-Policy")

HEADER_DEFINITIONS: dict[str, Any] = {
    "WWW-Authenticate": {
        "description": "The scheme to authenticate with: `Bearer`.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "How many seconds to wait before asking again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit": {
        "description": "The room left in the policy's tightest quota, and the seconds until "
        'it grows back: `"<quota>";r=<requests>;t=<seconds>` '
        "(IETF draft-ietf-httpapi-ratelimit-headers).",
        "schema": {"type": "string"},
    },
    "RateLimit-Policy": {
        "description": "The quotas of the policy this request counts under: "
        '`"<quota>";q=<requests>;w=<seconds>`, one item per quota.',
        "schema": {"type": "string"},
    },
}


class SchemaIssue(BaseModel):
    """One place where the request does not match the schema."""

    loc: list[str] = Field(description="Where: `body`, `query`, `path` or `header`, then names.")
    msg: str = Field(description="What is wrong there.")


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = Field(description="A URI that names the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code of the answer.")
    detail: str = Field(description="What went wrong with this request.")
    errors: list[SchemaIssue] = Field(
        default_factory=list, description="422 only: every place the request is invalid."
    )


def problem_answer(description: str) -> dict[str, Any]:
    """One documented problem answer."""
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": SCHEMAS + Problem.__name__}}},
    }


def problems(*answers: int | Mapping[int, str]) -> Responses:
    """``responses=problems(409, {404: "No such order."})``: a route's problem answers,
    each described by its status's default unless a description is given."""
    declared: Responses = {}
    for answer in answers:
        described = answer if isinstance(answer, Mapping) else {answer: DESCRIPTIONS[answer]}
        for status, description in described.items():
            declared[status] = problem_answer(description)
    return declared


def info(title: str) -> dict[str, Any]:
    return {"title": title, "version": API_VERSION, "description": DESCRIPTION}


@dataclass(frozen=True)
class Endpoint:
    """What the document cannot tell about an operation but its route can."""

    name: str
    admin_only: bool


def install_public_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and so ``/api/openapi.json``) the completed, canonical document."""

    def openapi() -> Document:
        if app.openapi_schema is None:
            generated = get_openapi(
                title=app.title,
                version=API_VERSION,
                routes=app.routes,
                separate_input_output_schemas=app.separate_input_output_schemas,
            )
            app.openapi_schema = public_document(generated, endpoints(app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def endpoints(routes: Sequence[BaseRoute]) -> dict[tuple[str, str], Endpoint]:
    """``(path, method)`` → its endpoint, for every documented route."""
    found: dict[tuple[str, str], Endpoint] = {}
    for route in iter_route_contexts(routes):  # included routers' routes, as they are served
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        dependant: Dependant = route.dependant
        admin_only = any(_is_admin_check(each.call) for each in _dependencies(dependant))
        for method in route.methods or ():
            found[(str(route.path_format), method.lower())] = Endpoint(str(route.name), admin_only)
    return found


def public_document(generated: Document, known: Mapping[tuple[str, str], Endpoint]) -> Document:
    """``generated`` with every answer of the chassis documented, in canonical form."""
    document = copy.deepcopy(generated)
    document["info"] = info(document["info"]["title"])
    names = [endpoint.name for endpoint in known.values()]
    for path, method, operation in operations(document):
        endpoint = known.get((path, method))
        if endpoint is not None and names.count(endpoint.name) == 1:
            operation["operationId"] = endpoint.name
        _complete(operation, path, admin_only=endpoint is not None and endpoint.admin_only)
    components = document.setdefault("components", {})
    components["headers"] = copy.deepcopy(HEADER_DEFINITIONS)
    components.setdefault("schemas", {}).update(problem_schemas())
    return canonical(document)


def problem_schemas() -> dict[str, Any]:
    """The JSON schemas of ``Problem`` and what it refers to, named as components."""
    schema = Problem.model_json_schema(ref_template=SCHEMAS + "{model}", mode="serialization")
    definitions: dict[str, Any] = schema.pop("$defs", {})
    return {**definitions, Problem.__name__: schema}


def _complete(operation: dict[str, Any], path: str, *, admin_only: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if _is_fastapi_validation_error(responses.get("422")):
        responses["422"] = problem_answer(DESCRIPTIONS[422])
    if not path.startswith(PUBLIC_PREFIXES):
        return
    for chassis_status in _chassis_answers(operation, path, admin_only=admin_only):
        responses.setdefault(str(chassis_status), problem_answer(DESCRIPTIONS[chassis_status]))
    for code, response in responses.items():
        if code.isdigit():
            headers = response.setdefault("headers", {})
            for name in _headers_of(int(code)):
                headers.setdefault(name, {"$ref": HEADERS + name})


def _chassis_answers(operation: dict[str, Any], path: str, *, admin_only: bool) -> Iterator[int]:
    yield from ANYWHERE
    if operation.get("security"):
        yield 401
    if admin_only:
        yield 403
    if "{" in path:
        yield 404
    if "requestBody" in operation:
        yield from (400, 413)


def _headers_of(status: int) -> tuple[str, ...]:
    limited = () if status in BEFORE_THE_LIMITER else RATE_LIMIT_HEADERS
    return (*HEADERS_BY_STATUS.get(status, ()), *limited)


def _is_fastapi_validation_error(response: dict[str, Any] | None) -> bool:
    return response is not None and any(
        ref.endswith("/HTTPValidationError") for ref in refs(response)
    )


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for each in dependant.dependencies:
        yield each
        yield from _dependencies(each)


def _is_admin_check(call: object) -> bool:
    """The chassis's administrators-only dependency (``Depends(auth.admin)``)."""
    return getattr(call, "__func__", None) is Authenticator.admin
