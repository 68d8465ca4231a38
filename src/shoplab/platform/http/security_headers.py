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
from starlette.types import Message, Send

from shoplab.platform.http.docs_csp import docs_policy

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


RAW_SECURITY_HEADERS = tuple(
    (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in SECURITY_HEADERS
)
_RAW_REVEALING = frozenset(name.encode() for name in REVEALING_HEADERS)


def secured(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``raw`` with the security headers it lacks, without the ones that name software."""
    present = {name.lower() for name, _ in raw}
    kept = (
        [h for h in raw if h[0].lower() not in _RAW_REVEALING] if present & _RAW_REVEALING else raw
    )
    return [*kept, *(h for h in RAW_SECURITY_HEADERS if h[0] not in present)]


def secure(headers: MutableHeaders) -> None:
    """Add the security headers the answer lacks; drop the ones that name software."""
    headers.raw[:] = secured(headers.raw)


class DocsPage:
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
