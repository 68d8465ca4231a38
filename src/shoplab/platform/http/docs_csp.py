"""The content security policy of the interactive docs page, made from the page itself.

Swagger UI's page (FastAPI's ``get_swagger_ui_html``) loads its script and style sheet
from a CDN, its icon from FastAPI's site, and starts with an inline script; the UI
then fetches the OpenAPI document and sends the requests one tries, to this origin.
The policy allows exactly those: the origins the page's tags name, and the inline
scripts by their SHA-256 hash, so any other script, injected or not, stays blocked.
Styles also allow ``'unsafe-inline'``: Swagger UI sets inline styles as it renders
(a style cannot run code); its CSS draws its icons from ``data:`` images.
"""

import base64
import hashlib
from html.parser import HTMLParser
from urllib.parse import urlsplit

DOCS_PATH = "/api/docs"


class _PageSources(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: set[str] = set()
        self.styles: set[str] = set()
        self.images: set[str] = set()
        self.inline_scripts: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {name: value or "" for name, value in attrs}
        rel = named.get("rel", "").split()
        if tag == "script" and "src" in named:
            self.scripts.add(_origin(named["src"]))
        elif tag == "script":
            self._in_inline_script = True
            self.inline_scripts.append("")
        elif tag == "link" and "stylesheet" in rel:
            self.styles.add(_origin(named.get("href", "")))
        elif tag == "link" and "icon" in rel:
            self.images.add(_origin(named.get("href", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script:
            self.inline_scripts[-1] += data


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "'self'"


def _hash(script: str) -> str:
    digest = hashlib.sha256(script.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def docs_policy(page: str) -> str:
    """The policy for ``page``: its own sources, nothing else."""
    sources = _PageSources()
    sources.feed(page)
    sources.close()
    scripts = sorted(sources.scripts) + [_hash(s) for s in sources.inline_scripts]
    directives = [
        "default-src 'none'",
        f"script-src {' '.join(scripts)}",
        f"style-src {' '.join(sorted(sources.styles))} 'unsafe-inline'",
        f"img-src {' '.join(sorted(sources.images))} data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
    return "; ".join(directives)
