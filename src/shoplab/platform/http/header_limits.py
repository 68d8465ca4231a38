"""A limit on the size of a request's header fields: 431 before any route runs.

The size counted is what the fields weigh on the wire (``name: value`` and its line
end, for each field). httptools, the parser uvicorn uses here, has no limit of its
own: the connection-level ceiling in ``edge_protocol`` bounds what a head may hold in
memory while it arrives, and this middleware gives the precise limit and the answer.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

from shoplab.platform.http.problems import problem

FIELD_OVERHEAD = len(b": \r\n")


def header_bytes(headers: list[tuple[bytes, bytes]]) -> int:
    return sum(len(name) + len(value) + FIELD_OVERHEAD for name, value in headers)


class HeaderSizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or header_bytes(scope["headers"]) <= self.max_bytes:
            await self.app(scope, receive, send)
            return
        refusal = problem(
            431,
            f"The request's header fields are larger than {self.max_bytes} bytes together.",
            headers={"Connection": "close"},
        )
        await refusal(scope, receive, send)
