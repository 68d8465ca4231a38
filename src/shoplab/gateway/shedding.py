"""Load shedding at the edge: while orders is full, placements are refused here.

Orders admits a placement only while it can settle it (``orders.service_layer.admission``)
and refuses the rest with 503 and ``Retry-After``. Under four times the load it can
settle, most placements are such refusals, and each one still costs the gateway a forward
and orders a request: the refusals alone can take a core from the sagas, and the settled
rate falls. So the gateway remembers a refusal: for ``hold_seconds`` after orders answers
a placement 503 with ``Retry-After``, the gateway answers every placement with that same
refusal itself, before counting, verifying or forwarding anything. The first placement
after the hold goes to orders again, which admits it or refuses it (and so holds again).

A 503 the gateway gives itself while orders cannot be reached (it carries ``Retry-After``
too) holds the same way: for that tenth of a second the answer would be the same.

The hold is short (a tenth of a second by default) beside how long a saga takes under
load, so orders' own bound, not the gateway, decides how many placements are in flight:
the gateway only spares orders the refusals it would have given anyway. Each gateway
instance holds on what it has seen itself.
"""

import time
from collections.abc import Callable

from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SHED = Counter(
    "shoplab_gateway_shed_total",
    "Placements refused at the gateway while the orders service refuses them for overload.",
)
SHED_ROUTES = frozenset({("POST", "/api/orders")})
"""The requests that orders' admission refuses: placements."""
REPLAYED_HEADERS = frozenset({b"content-type", b"content-length", b"retry-after"})
"""What a replayed refusal keeps of orders' answer: not another caller's quota headers."""


class Refusal:
    """The last refusal orders gave: its status, headers and body, replayed while held."""

    __slots__ = ("body", "start", "until")

    def __init__(self) -> None:
        self.start: Message = {}
        self.body = b""
        self.until = 0.0


class Shedding:
    """ASGI gate: answers placements with orders' last overload refusal while it holds."""

    def __init__(self, app: ASGIApp, hold_seconds: float) -> None:
        self.app = app
        self.hold_seconds = hold_seconds
        self._refusal = Refusal()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.hold_seconds <= 0
            or scope["type"] != "http"
            or (scope["method"], scope["path"]) not in SHED_ROUTES
        ):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal
        if time.monotonic() < refusal.until:
            SHED.inc()
            await send({**refusal.start, "headers": list(refusal.start["headers"])})
            await send({"type": "http.response.body", "body": refusal.body})
            return
        await self.app(scope, receive, _Watched(send, self._hold))

    def _hold(self, start: Message, body: bytes) -> None:
        refusal = self._refusal
        refusal.start, refusal.body = start, body
        refusal.until = time.monotonic() + self.hold_seconds


class _Watched:
    """The ``send`` of one placement: a 503 with ``Retry-After`` arms the hold."""

    __slots__ = ("_body", "_hold", "_send", "_start")

    def __init__(self, send: Send, hold: Callable[[Message, bytes], None]) -> None:
        self._send = send
        self._hold = hold
        self._start: Message | None = None
        self._body = b""

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start" and _overloaded(message):
            headers = [(n, v) for n, v in message["headers"] if n.lower() in REPLAYED_HEADERS]
            self._start = {**message, "headers": headers}
        elif message["type"] == "http.response.body" and self._start is not None:
            self._body += message.get("body", b"")
            if not message.get("more_body", False):
                self._hold(self._start, self._body)
        await self._send(message)


def _overloaded(start: Message) -> bool:
    return start["status"] == 503 and any(
        name.lower() == b"retry-after" for name, _ in start.get("headers", ())
    )
