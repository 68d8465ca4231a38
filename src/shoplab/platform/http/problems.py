"""RFC 9457 problem details for every error, mapped from error categories in one place.

No answer ever carries a stack trace, SQL or a host name: unexpected errors are
logged with their trace and answered with a generic 500.
"""

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from shoplab.platform import errors
from shoplab.platform.http.allowed_methods import allowed_methods

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://shoplab.local/problems/"

STATUS_BY_CATEGORY: dict[type[errors.DomainError], int] = {
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.InvalidInput: 422,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.TooManyRequests: 429,
    errors.Unavailable: 503,
}

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    409: "Conflict",
    413: "Content too large",
    422: "Invalid request",
    429: "Too many requests",
    431: "Request header fields too large",
    500: "Internal error",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem-details response; ``type`` is derived from the title."""
    title = title or _TITLES.get(status, "Error")
    body = {
        "type": PROBLEM_TYPE_BASE + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_for(error: errors.DomainError) -> int:
    for category, status in STATUS_BY_CATEGORY.items():
        if isinstance(error, category):
            return status
    return 400


def problem_response(error: errors.DomainError) -> JSONResponse:
    """The problem answer for a domain error, also usable from plain ASGI middleware."""
    status = status_for(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(error, errors.TooManyRequests | errors.Unavailable):
        headers = {"Retry-After": str(error.retry_after_seconds)}
    return problem(status, str(error), title=error.title, headers=headers)


async def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, errors.DomainError)
    return problem_response(error)


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    issues = [
        {"loc": [str(part) for part in issue.get("loc", ())], "msg": issue.get("msg", "")}
        for issue in error.errors()
    ]
    return problem(422, "The request does not match the expected schema.", errors=issues)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    if isinstance(error.__cause__, RecursionError):  # FastAPI's 400 for a body json cannot read
        return _too_deep()
    detail = error.detail if isinstance(error.detail, str) else _TITLES.get(error.status_code, "")
    headers = dict(error.headers or {})
    allow = allowed_methods(request.app.routes, request.scope) if error.status_code == 405 else None
    if allow is not None:
        headers["Allow"] = allow
    return problem(error.status_code, detail, headers=headers)


def _too_deep() -> JSONResponse:
    """A JSON body nested deeper than the parser recurses: invalid, like any unreadable JSON."""
    issue = {"loc": ["body"], "msg": "JSON nested too deeply"}
    return problem(422, "The JSON body is nested too deeply.", errors=[issue])


async def _unexpected_error(_request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error", error_type=type(error).__name__)
    return problem(500, "The server could not complete the request.")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
