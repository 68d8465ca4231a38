"""Security headers on every answer, whoever produced it (a route, a middleware, an error).

The API answers JSON only, so its policy is the strictest there is: no content of any
kind may load from an answer (``default-src 'none'``), no page may frame it, no
browser may guess another content type, leak the URL in a ``Referer`` or read the
answer from another site's page. The interactive docs page is the one HTML page and
gets a policy of its own (``docs_csp``). Answers are never stored by caches: they
carry tokens, orders and stock that change under them.

A header the app set itself is kept. ``Server`` and ``X-Powered-By`` are removed: they
name software, which helps only an attacker.

No ``Strict-Transport-Security``: the processes speak plain HTTP, and browsers ignore
HSTS on an answer that did not come over HTTPS. It belongs to whatever terminates TLS
for the public host name (an ingress, a load balancer), which knows that name.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shoplab.platform.http.docs_csp import DOCS_PATH, docs_policy

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
    ("Content-Security-Policy", API_POLICY),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
REVEALING_HEADERS = ("server", "x-powered-by")


def secure(headers: MutableHeaders) -> None:
    """Add the security headers the answer lacks; drop the ones that name software."""
    for name in REVEALING_HEADERS:
        del headers[name]
    for name, value in SECURITY_HEADERS:
        headers.setdefault(name, value)


class SecurityHeaders:
    """Pure ASGI, and outermost in ``create_app``, so that no answer escapes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == DOCS_PATH:
            await self.app(scope, receive, _DocsPage(send))
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                secure(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_secured)


class _DocsPage:
    """Holds the docs page back until its body is whole: its policy names its inline scripts."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._start: Message | None = None
        self._body: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._start = message
            return
        if message["type"] != "http.response.body" or self._start is None:
            await self._send(message)
            return
        self._body.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(self._body)
        headers = MutableHeaders(scope=self._start)
        secure(headers)
        if headers.get("content-type", "").startswith("text/html"):
            headers["Content-Security-Policy"] = docs_policy(body.decode("utf-8", "replace"))
        await self._send(self._start)
        await self._send({"type": "http.response.body", "body": body})
