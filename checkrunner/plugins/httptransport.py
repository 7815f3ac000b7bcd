"""An httpx transport on aiohttp: httpx stays the API plugins see, aiohttp moves the bytes.

Why: httpcore 1.0's pool scans every pooled connection on each request (a readability probe
and ``getpeername`` per connection), so one shared ``httpx.AsyncClient`` costs more CPU per
request the more connections it holds (~3 ms at 100). aiohttp's connector takes an idle
connection from a per-host deque in O(1) and its parser is in C; under httpx's request and
response objects a request costs ~0.3 ms CPU at any concurrency against a local nginx,
where httpcore's shared pool costs ~0.6 ms at 10 connections and ~3 ms at 1,000.
The ``httpx-aiohttp`` package does the same in principle, but its 0.2 release maps a dropped
connection to ``ConnectTimeout``, keeps aiohttp's cookie jar and loses the OS error a
one-line summary needs; this module is small enough to own.

Contract kept (tests/plugins/test_http_transport.py pins each point):

* errors are httpx's: ``ConnectError``/``ConnectTimeout`` (connecting, DNS, TLS),
  ``ReadTimeout``, ``ReadError``, ``RemoteProtocolError``, with the original ``OSError`` or
  ``ssl`` error as ``__cause__`` (``plugins/net.py::known_failure`` walks the chain);
* bodies arrive as sent (``auto_decompress=False``): httpx decodes gzip/deflate once;
* no cookie jar (``DummyCookieJar``), no redirects (the plugin follows them), no netrc or
  proxy from the environment: a check sees exactly what its options say;
* the wire request is httpx's: its headers (User-Agent, Accept-Encoding, ...) and body,
  nothing added by aiohttp;
* a pooled connection the server closed is not used (``_Connector``: the check httpcore
  makes, on one connection); a request that meets a connection dropped in that very instant
  is retried once on a new one by aiohttp when its method is idempotent, and fails otherwise
  (it may have been applied; RFC 9112 section 9.3.1), as with httpcore.
"""

from __future__ import annotations

import select
import ssl
import weakref
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
from multidict import CIMultiDict
from yarl import URL

#: Headers aiohttp would add when missing: the request carries httpx's set or none at all.
_NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
#: Limits on a response's head, near h11's (httpcore accepts a 100 KiB head).
MAX_HEADER_LINE = 65536
MAX_HEADERS = 256
#: Seconds an idle pooled connection is kept (aiohttp's default; nginx keeps 75 s).
KEEPALIVE_S = 15.0
#: Stale pooled connections dropped for one request before it takes the next one unchecked.
MAX_STALE = 32


class _Connector(aiohttp.TCPConnector):
    """aiohttp's connector, plus httpcore's check before a connection is used: an idle HTTP/1.1
    connection whose socket is readable has been closed by the server (EOF waiting) or sent
    something unasked, so it is dropped instead of carrying the request. aiohttp alone checks
    only whether the loop has already seen the close, which misses a server that closes right
    after its response without ``Connection: close`` (the next request, a POST, would fail).
    One ``select`` on the chosen connection: O(1), unlike httpcore's scan of the whole pool.
    A new connection is not checked: TLS 1.3 session tickets may be waiting on it, harmlessly."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: Connections that have carried a request: only these can have gone stale in the pool.
        self._carried: weakref.WeakSet[Any] = weakref.WeakSet()

    async def connect(self, req: Any, *args: Any, **kwargs: Any) -> aiohttp.connector.Connection:
        for _ in range(MAX_STALE):
            connection = await super().connect(req, *args, **kwargs)
            protocol = connection.protocol
            if protocol is None or protocol not in self._carried:
                if protocol is not None:
                    self._carried.add(protocol)
                return connection
            transport = protocol.transport
            sock = transport.get_extra_info("socket") if transport is not None else None
            if sock is None or not select.select([sock], [], [], 0)[0]:
                return connection
            connection.close()
        return await super().connect(req, *args, **kwargs)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One ``aiohttp.ClientSession`` behind httpx; use it on one event loop.

    The pool has no limit on purpose: the engine's global and per-host limits bound the
    requests in flight, so a request never waits for a pool slot (and httpx's ``pool``
    timeout never applies). Idle connections are at most the peak concurrency per host and
    close after ``KEEPALIVE_S``."""

    def __init__(self, *, verify: ssl.SSLContext | bool = True) -> None:
        if verify is True:
            self._ssl: ssl.SSLContext = ssl.create_default_context()
        elif verify is False:
            self._ssl = ssl.create_default_context()
            self._ssl.check_hostname = False
            self._ssl.verify_mode = ssl.CERT_NONE
        else:
            self._ssl = verify
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}
        self._closed = False

    def _open(self) -> aiohttp.ClientSession:
        """The session, made on first use: aiohttp binds it to the running loop."""
        if self._closed:
            raise RuntimeError("the transport is closed")
        connector = _Connector(ssl=self._ssl, limit=0, limit_per_host=0, keepalive_timeout=KEEPALIVE_S)
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=_NO_AUTO_HEADERS,
            auto_decompress=False,
            trust_env=False,
            timeout=aiohttp.ClientTimeout(total=None),
            max_line_size=MAX_HEADER_LINE,
            max_field_size=MAX_HEADER_LINE,
            max_headers=MAX_HEADERS,
        )
        return self._session

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        """httpx's per-phase timeouts: ``connect`` bounds DNS + TCP + TLS, ``read`` each wait
        for data. aiohttp has no write timeout; the check's own deadline bounds the whole."""
        phases = request.extensions.get("timeout", {})
        key = (phases.get("connect"), phases.get("read"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            if len(self._timeouts) > 64:  # a few distinct check timeouts in practice
                self._timeouts.clear()
            connect, read = key
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(
                total=None, connect=connect, sock_connect=connect, sock_read=read
            )
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        headers = CIMultiDict(request.headers.multi_items())
        try:
            body: bytes | None = request.content
        except httpx.RequestNotRead:  # a streamed body: sent with its length, not chunked
            body = await request.aread()
            headers.popall("Transfer-Encoding", None)
            headers["Content-Length"] = str(len(body))
        url = request.url
        if url.userinfo:  # httpx turned it into an Authorization header; aiohttp would refuse both
            url = url.copy_with(username=None, password=None)
        try:
            response = await session.request(
                request.method,
                URL(str(url), encoded=True),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=self._timeout(request),
                server_hostname=request.extensions.get("sni_hostname"),
            )
        except (aiohttp.ClientError, OSError) as exc:
            raise _mapped(exc, request) from _root(exc)
        except ValueError as exc:  # a request aiohttp will not write (h11 would refuse it too)
            raise httpx.LocalProtocolError(str(exc), request=request) from exc
        extensions: dict[str, Any] = {
            "http_version": b"HTTP/1.0" if response.version == aiohttp.HttpVersion10 else b"HTTP/1.1",
        }
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("latin-1", "replace")
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=_Body(response, request),
            extensions=extensions,
        )

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None


class _Body(httpx.AsyncByteStream):
    """A response body as it arrives; closing it early closes the connection (aiohttp
    returns a connection to the pool only when its response was read to the end)."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request
        self._received = 0  # bytes of (still encoded) body, for the broken-off message

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        try:
            while chunk := await content.readany():
                self._received += len(chunk)
                yield chunk
        except (aiohttp.ClientError, OSError) as exc:
            lost = self._lost()
            if isinstance(exc, aiohttp.ClientPayloadError) and lost is not None:
                raise httpx.ReadError(str(lost), request=self._request) from lost
            raise _mapped(exc, self._request, body=self) from _root(exc)

    def _lost(self) -> OSError | None:
        """The OS error that ended the connection mid-body, if one did. aiohttp keeps only
        its errno there (as ``ClientOSError``); ``OSError(errno, strerror)`` rebuilds the
        matching subclass (``ConnectionResetError``) that summaries recognise."""
        connection = self._response.connection
        protocol = connection.protocol if connection is not None else None
        lost = protocol.exception() if protocol is not None else None  # (a protocol has a len)
        if isinstance(lost, OSError) and lost.errno:
            return _os_error(lost)
        return None

    def broken_off(self) -> str:
        """httpcore's words for a body cut short, so summaries read the same as before."""
        length = self._response.headers.get("Content-Length")
        if length is not None and length.isdigit():
            detail = f"received {self._received} bytes, expected {length}"
        else:
            detail = "incomplete chunked read"
        return f"peer closed connection without sending complete message body ({detail})"

    async def aclose(self) -> None:
        self._response.release()


def _root(exc: BaseException) -> BaseException:
    """The OS or TLS error under an aiohttp error (kept as the httpx error's cause), so the
    chain reads httpx error -> OSError/SSLError, with aiohttp's wrapper as context only."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return exc.certificate_error
    if isinstance(exc, aiohttp.ClientConnectorError):
        return exc.os_error
    cause = exc.__cause__
    if isinstance(exc, aiohttp.ClientError) and isinstance(cause, OSError):
        return cause
    if isinstance(exc, aiohttp.ClientOSError) and exc.errno:
        return _os_error(exc)
    return exc


def _os_error(exc: OSError) -> OSError:
    """A plain OSError for aiohttp's ``ClientOSError``: Python picks the subclass by errno."""
    return OSError(exc.errno, exc.strerror) if isinstance(exc, aiohttp.ClientError) else exc


def _mapped(exc: BaseException, request: httpx.Request, *, body: _Body | None = None) -> httpx.TransportError:
    """The httpx error for an aiohttp (or OS) error; the caller chains the root cause."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(str(exc) or "timed out connecting", request=request)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(str(exc) or "timed out reading", request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(_root(exc)) or str(exc), request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        if body is not None:
            return httpx.RemoteProtocolError(body.broken_off(), request=request)
        return httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    if isinstance(exc, aiohttp.ClientPayloadError):
        message = body.broken_off() if body is not None else str(exc)
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, aiohttp.ClientResponseError):  # an unparsable status line or header
        text = " ".join((exc.message or str(exc)).split())  # aiohttp draws a caret on lines below
        return httpx.RemoteProtocolError(f"invalid HTTP response: {text}", request=request)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(str(exc), request=request)
    if isinstance(exc, OSError):  # connected, then reset or failed: httpcore says ReadError
        return httpx.ReadError(str(_root(exc)) or type(exc).__name__, request=request)
    return httpx.TransportError(str(exc) or type(exc).__name__, request=request)
