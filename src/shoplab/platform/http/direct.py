"""Hot routes answered without FastAPI's dependency injection, their OpenAPI unchanged.

Solving a route's dependencies (the token, the headers, the body) costs FastAPI more per
request than the rest of the chassis together. A route of a ``DirectRoute`` router may
name a direct handler (``@served_directly(handler)``, under the route decorator): it takes
the request as it is (the caller the guard or the rate limits verified is in its state)
and answers the requests it recognises as well formed, returning what the endpoint would
return. Any other request (no caller, a body that does not validate, a header out of
bounds) it declines with ``None``, and FastAPI's own handler answers it, so every 401, 403
and 422 keeps FastAPI's shape. The endpoint stays declared with its signature: the
OpenAPI document is made from it, byte for byte as before.
"""

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from shoplab.platform.auth import ADMIN, CUSTOMER, VERIFIED_CALLER, Principal


@dataclass(frozen=True, slots=True)
class Answered:
    """What the endpoint would return, and the headers it would set on its response."""

    content: Any
    headers: Mapping[str, str] = field(default_factory=dict)


DirectHandler = Callable[[Request], Awaitable[Answered | None]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_DIRECT = "__served_directly__"
DECLINED = "shoplab.direct.declined"
"""Set in the scope when the direct handler declined a request: the route asks it no more."""


def served_directly(handler: DirectHandler) -> Callable[[Endpoint], Endpoint]:
    """Mark an endpoint as answered by ``handler`` first (see the module's docstring)."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _DIRECT, handler)
        return endpoint

    return mark


def verified_caller(
    request: Request, allowed: tuple[str, ...] = (ADMIN, CUSTOMER)
) -> Principal | None:
    """The caller the guard or the rate limits verified, when ``allowed``; else None (the
    endpoint's ``Authenticator`` then answers as it does)."""
    found = request.scope.get("state", {}).get(VERIFIED_CALLER)
    return found if isinstance(found, Principal) and found.role in allowed else None


class DirectRoute(APIRoute):
    """An ``APIRoute`` that lets its endpoint's direct handler answer first, if it has one.

    The app's ``DirectLane`` calls the handler before the router when it can; this route
    still does when a request reaches it through the router.
    """

    @property
    def direct(self) -> DirectHandler | None:
        """The endpoint's direct handler, if it has one."""
        handler: DirectHandler | None = getattr(self.endpoint, _DIRECT, None)
        return handler

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        direct = self.direct
        if direct is None:
            return handler

        async def answer(request: Request) -> Response:
            if request.scope.get(DECLINED):  # the lane asked already
                return await handler(request)
            answered = await direct(request)
            if answered is None:
                return await handler(request)
            return self.response_of(answered)

        return answer

    def response_of(self, answered: Answered) -> Response:
        """The response FastAPI makes of an endpoint's return value: its response model's JSON."""
        assert self.response_field is not None, "a direct route declares its response model"
        content = self.response_field.serialize_json(
            answered.content,
            include=self.response_model_include,
            exclude=self.response_model_exclude,
            by_alias=self.response_model_by_alias,
            exclude_unset=self.response_model_exclude_unset,
            exclude_defaults=self.response_model_exclude_defaults,
            exclude_none=self.response_model_exclude_none,
        )
        response = Response(
            content, status_code=self.status_code or 200, media_type="application/json"
        )
        for name, value in answered.headers.items():
            response.headers.raw.append((name.lower().encode("latin-1"), value.encode("latin-1")))
        return response
