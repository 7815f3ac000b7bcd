"""The HTTP clients of http checks: httpx's API on the aiohttp transport of ``httptransport.py``.

One shared client per process (``shared_client``, the engine's ``ctx.http``) reuses a TLS
context and keep-alive connections across runs; a check with its own TLS settings (a
``ca_file``, ``verify_tls: false``) gets a private client of the same kind (``http_client``).

Every client keeps no cookies: a Set-Cookie from one checked system must never ride along to
the next check, and not storing them at all also saves httpx's per-response cookie parsing.
Redirects are followed by the plugin (it bounds the hops), never by the client.
"""

from __future__ import annotations

import http.cookiejar
import ssl
import urllib.request

import httpx

from checkrunner.plugins.httptransport import AiohttpTransport

USER_AGENT = "checkrunner"


class _NoCookieJar(http.cookiejar.CookieJar):
    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        return None

    def extract_cookies(self, response: object, request: urllib.request.Request) -> None:
        return None


class _NoCookies(httpx.Cookies):
    """A cookie store that stays empty (httpx asks it after every response)."""

    def __init__(self) -> None:
        super().__init__(_NoCookieJar())

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        return None


class _Client(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` whose cookie store is always empty and cannot be replaced."""

    _NONE = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._NONE

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        return None  # httpx's __init__ assigns one; a checker keeps none


def http_client(*, verify: ssl.SSLContext | bool = True, timeout: float = 10.0) -> httpx.AsyncClient:
    """A client for http checks: no cookies, no redirects, ``User-Agent: checkrunner``.

    ``timeout`` is httpx's per-phase default (each request passes the check's own). The
    connection pool is unbounded: the engine's global and per-host limits already bound the
    requests in flight, so the pool never queues one (a pool limit below the engine's
    concurrency would show up as pool timeouts counted against the target)."""
    return _Client(
        transport=AiohttpTransport(verify=verify),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        timeout=timeout,
    )


def shared_client() -> httpx.AsyncClient:
    """The client for ``ctx.http``, shared by every verified http check of the process."""
    return http_client()
