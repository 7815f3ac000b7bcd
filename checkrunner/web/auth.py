"""Token authentication for everything but ``/healthz`` and ``/ping/…`` (pure ASGI middleware).

With ``server.token`` set, a request must carry it as ``Authorization: Bearer <token>`` or as
the password of HTTP Basic auth (any user name), so a browser prompts for it and can open the
status page. Anything else is ``401`` with ``WWW-Authenticate: Basic`` (the browser prompt).
Without a token, everything is open (the server refuses a non-loopback address in that case,
see server.py). The token is read from the current config on every request, so a reload that
changes it applies at once. Comparison is constant-time.

``/healthz`` is open for load balancers and Docker; ``/ping/{name}`` checks the heartbeat's
own key instead (a cron job should not hold the admin token).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

OPEN_PATHS = ("/healthz",)
OPEN_PREFIXES = ("/ping/",)
CHALLENGE = 'Basic realm="checkrunner", charset="UTF-8"'


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def same(given: str, expected: str) -> bool:
    """Constant-time comparison (on bytes: ``compare_digest`` refuses non-ASCII str)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8"))


def authorized(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header value carries ``token`` (Bearer, or Basic password)."""
    if not header:
        return False
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return same(credentials, token)
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        _user, sep, password = decoded.partition(":")
        return bool(sep) and same(password, token)
    return False


class TokenAuth:
    def __init__(self, app: ASGIApp, token: Callable[[], str | None]) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = self.token()
        if scope["type"] != "http" or not token or is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        if authorized(header, token):
            await self.app(scope, receive, send)
            return
        response = PlainTextResponse(
            "401 unauthorized: send the server token (Bearer, or as the Basic auth password)\n",
            status_code=401,
            headers={"WWW-Authenticate": CHALLENGE, "Cache-Control": "no-store"},
        )
        await response(scope, receive, send)
