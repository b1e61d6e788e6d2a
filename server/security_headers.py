"""Response headers that keep a browser from running what a result holds.

Results carry text recognised from arbitrary documents (sanitised, see
`worker.layout.sanitise`, but defence in depth costs a header): result routes get a CSP that
allows nothing and sandboxes the document, and may not be framed. `/ops` gets a CSP that allows
only its own inline script (by hash), its styles, and fetches to itself. Every response gets
`X-Content-Type-Options: nosniff`, so that a markdown or JSON body is never sniffed into HTML.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

RESULT_PATH = re.compile(r"^/v1/tasks/[^/]+/(result\.(md|json|zip)|images/)")
OPS_PATH = re.compile(r"^/ops(/|$)")
RESULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox"


def _inline_hashes(html: str, tag: str) -> list[str]:
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.DOTALL)
    return [f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks]


def ops_csp() -> str:
    """The dashboard's policy: its one inline script by hash; inline styles (the page sets
    meter widths and chart colours in `style` attributes, which cannot run code)."""
    template = files("server.ops").joinpath("ops.html").read_text(encoding="utf-8")
    scripts = " ".join(_inline_hashes(template, "script"))
    return (
        f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; img-src data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.ops_csp = ops_csp()

    def _extra(self, path: str) -> dict[str, str]:
        if RESULT_PATH.match(path):
            return {"content-security-policy": RESULT_CSP, "x-frame-options": "DENY"}
        if OPS_PATH.match(path):
            return {"content-security-policy": self.ops_csp, "x-frame-options": "DENY"}
        return {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._extra(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["x-content-type-options"] = "nosniff"
                for name, value in extra.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
