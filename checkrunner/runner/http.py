"""The HTTP client shared by every http check of a process.

One pool reused across runs saves a TLS context and a connection per check. It keeps no
cookies: a Set-Cookie from one checked system must never ride along to the next check.
"""

from __future__ import annotations

import http.cookiejar
import urllib.request

import httpx


class _NoCookies(http.cookiejar.CookieJar):
    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        return None

    def extract_cookies(self, response: object, request: urllib.request.Request) -> None:
        return None


def shared_client(max_connections: int = 200) -> httpx.AsyncClient:
    """A client for ``ctx.http``: redirects are followed by the plugin, not by httpx."""
    return httpx.AsyncClient(
        cookies=_NoCookies(),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        headers={"User-Agent": "checkrunner"},
    )
