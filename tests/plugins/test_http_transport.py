"""The aiohttp transport under httpx's API, against real keep-alive HTTP/1.1 peers on 127.0.0.1.

The peers here keep connections open between requests (tests/checks/conftest.py's server
closes after each one), so reuse, stale connections and the pool can be observed.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import ssl
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from checkrunner.plugins.httpclient import http_client, shared_client
from tests.checks.conftest import Pki

#: Bound on every test's network waits; each test finishes far sooner when correct.
DEADLINE_S = 10.0


@dataclass
class Seen:
    """One request as the peer received it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    #: The connection it came on, numbered from 0 in accept order.
    connection: int


#: Answers one request by writing to ``writer``; returns False to close the connection.
Handler = Callable[[Seen, asyncio.StreamWriter], Awaitable[bool]]


async def reply(
    writer: asyncio.StreamWriter,
    body: bytes = b"ok",
    status: str = "200 OK",
    headers: dict[str, str] | None = None,
    head_only: bool = False,
) -> bool:
    fields = {"Content-Length": str(len(body)), **(headers or {})}
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
    writer.write(head.encode("latin-1") + (b"" if head_only else body))
    await writer.drain()
    return True


async def ok(request: Seen, writer: asyncio.StreamWriter) -> bool:
    return await reply(writer, head_only=request.method == "HEAD")


def abort_with_reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@dataclass
class Peer:
    """A keep-alive HTTP/1.1 server: requests are read one after another on each connection."""

    handler: Handler
    ssl: ssl.SSLContext | None = None
    requests: list[Seen] = field(default_factory=list)
    connections: int = 0
    #: Connections ended (the client closed it, or the handler did).
    hangups: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> Peer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def url(self, path: str = "/") -> str:
        return f"{'https' if self.ssl else 'http'}://127.0.0.1:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = self.connections
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._requests(reader, writer, number)
        except asyncio.CancelledError:  # closed by the test (asyncio would log a cancelled handler)
            pass
        finally:
            self.hangups += 1
            self._tasks.discard(task)
            writer.transport.abort()

    async def _requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int
    ) -> None:
        for _ in range(10_000):  # requests on one connection
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
                return
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in filter(None, lines[1:]):
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            seen = Seen(method, target, headers, body, number)
            self.requests.append(seen)
            try:
                if not await self.handler(seen, writer):
                    return
            except ConnectionError:  # the client hung up mid-response
                return

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._server.wait_closed()


StartPeer = Callable[..., Awaitable[Peer]]


@pytest.fixture
async def peer() -> AsyncIterator[StartPeer]:
    started: list[Peer] = []

    async def start(handler: Handler = ok, *, tls: ssl.SSLContext | None = None) -> Peer:
        started.append(await Peer(handler, tls).start())
        return started[-1]

    yield start
    for each in started:
        await each.close()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with shared_client() as shared:
        yield shared


async def fetch(client: httpx.AsyncClient, method: str, url: str, **kwargs: object) -> httpx.Response:
    """One request the way checks/http.py sends it (streamed, body read, closed)."""
    request = client.build_request(method, url, **kwargs)  # type: ignore[arg-type]
    async with asyncio.timeout(DEADLINE_S):
        response = await client.send(request, stream=True)
        try:
            await response.aread()
        finally:
            await response.aclose()
    return response


def chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and len(found) < 10:
        found.append(cause)
        cause = cause.__cause__ or cause.__context__
    return found


# --- the wire request and keep-alive -------------------------------------------------------


@pytest.mark.parametrize("kind", ["shared", "private"])
async def test_requests_carry_httpx_headers_only_and_reuse_one_connection(peer: StartPeer, kind: str) -> None:
    server = await peer()
    async with shared_client() if kind == "shared" else http_client(verify=False, timeout=5) as client:
        for _ in range(5):
            assert (await fetch(client, "GET", server.url("/a?b=%20c"))).text == "ok"
    assert server.connections == 1
    first = server.requests[0]
    assert first.target == "/a?b=%20c"
    assert set(first.headers) == {"host", "accept", "accept-encoding", "connection", "user-agent"}
    assert first.headers["user-agent"] == "checkrunner"


@pytest.mark.parametrize(
    ("kwargs", "body", "content_type"),
    [
        ({"content": b"hello"}, b"hello", None),
        ({"json": {"a": [1, 2]}}, b'{"a":[1,2]}', "application/json"),
        ({}, b"", None),
    ],
    ids=["bytes", "json", "no body"],
)
async def test_request_bodies_are_sent_as_httpx_built_them(
    peer: StartPeer,
    client: httpx.AsyncClient,
    kwargs: dict[str, object],
    body: bytes,
    content_type: str | None,
) -> None:
    server = await peer()
    await fetch(client, "POST", server.url(), **kwargs)
    (seen,) = server.requests
    assert seen.body.replace(b" ", b"") == body
    assert seen.headers.get("content-type") == content_type
    assert seen.headers["content-length"] == str(len(seen.body))


async def test_credentials_in_the_url_become_basic_auth(peer: StartPeer, client: httpx.AsyncClient) -> None:
    server = await peer()
    await fetch(client, "GET", server.url().replace("://", "://ops:p%40ss@"))
    assert server.requests[0].headers["authorization"] == "Basic b3BzOnBAc3M="  # ops:p@ss


async def test_head_and_chunked_responses_keep_the_connection(
    peer: StartPeer, client: httpx.AsyncClient
) -> None:
    async def chunked(request: Seen, writer: asyncio.StreamWriter) -> bool:
        if request.method == "HEAD":
            return await reply(writer, b"x" * 1000, head_only=True)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for part in (b"one ", b"two ", b"three"):
            writer.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        return True

    server = await peer(chunked)
    head = await fetch(client, "HEAD", server.url())
    assert (head.headers["content-length"], head.content) == ("1000", b"")
    assert (await fetch(client, "GET", server.url())).content == b"one two three"
    assert server.connections == 1


async def stale_after_each_response(request: Seen, writer: asyncio.StreamWriter) -> bool:
    """Answer as if keeping the connection open, then close it at once (no Connection: close)."""
    await reply(writer)
    return False


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH"])
@pytest.mark.parametrize("body", [None, b"data"], ids=["no body", "a body"])
async def test_a_connection_the_server_closed_is_not_used_again(
    peer: StartPeer, client: httpx.AsyncClient, method: str, body: bytes | None
) -> None:
    server = await peer(stale_after_each_response)
    for _ in range(3):
        assert (await fetch(client, method, server.url(), content=body)).status_code == 200
    assert (len(server.requests), server.connections) == (3, 3)


async def test_a_connection_closed_while_idle_is_replaced(peer: StartPeer, client: httpx.AsyncClient) -> None:
    async def close_when_idle(request: Seen, writer: asyncio.StreamWriter) -> bool:
        await reply(writer)
        await asyncio.sleep(0.05)  # then the server's keep-alive timeout
        return False

    server = await peer(close_when_idle)
    await fetch(client, "POST", server.url(), content=b"1")
    await asyncio.sleep(0.2)
    assert (await fetch(client, "POST", server.url(), content=b"2")).status_code == 200
    assert server.connections == 2


@pytest.mark.parametrize(("method", "retried"), [("GET", True), ("POST", False)])
async def test_a_request_lost_with_its_connection_is_retried_only_when_idempotent(
    peer: StartPeer, client: httpx.AsyncClient, method: str, retried: bool
) -> None:
    async def drop_second_request(request: Seen, writer: asyncio.StreamWriter) -> bool:
        first_on_connection = sum(seen.connection == request.connection for seen in server.requests) == 1
        return await reply(writer) if first_on_connection else False

    server = await peer(drop_second_request)
    await fetch(client, method, server.url())
    if retried:
        assert (await fetch(client, method, server.url())).status_code == 200
        assert len(server.requests) == 3
    else:  # it may have been applied: RFC 9112 9.3.1 forbids resending it
        with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected without sending a response"):
            await fetch(client, method, server.url())
        assert len(server.requests) == 2


# --- bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "sent", "expected"),
    [
        ("gzip", gzip.compress(b"payload" * 100), b"payload" * 100),
        ("deflate", zlib.compress(b"payload" * 100), b"payload" * 100),
        ("gzip", gzip.compress(gzip.compress(b"payload")), gzip.compress(b"payload")),
    ],
    ids=["gzip", "deflate", "a doubly gzipped body is decoded once"],
)
async def test_content_encoding_is_decoded_exactly_once(
    peer: StartPeer, client: httpx.AsyncClient, encoding: str, sent: bytes, expected: bytes
) -> None:
    async def encoded(request: Seen, writer: asyncio.StreamWriter) -> bool:
        return await reply(writer, sent, headers={"Content-Encoding": encoding})

    server = await peer(encoded)
    response = await fetch(client, "GET", server.url())
    assert response.content == expected
    assert response.headers["content-length"] == str(len(sent))


async def test_no_cookie_is_ever_sent_back(peer: StartPeer, client: httpx.AsyncClient) -> None:
    async def set_cookie(request: Seen, writer: asyncio.StreamWriter) -> bool:
        return await reply(writer, headers={"Set-Cookie": "session=secret; Path=/"})

    server = await peer(set_cookie)
    url = server.url().replace("127.0.0.1", "localhost")  # cookie jars ignore IP addresses
    first = await fetch(client, "GET", url + "login")
    assert first.cookies.get("session") == "secret"  # the response shows it ...
    await fetch(client, "GET", url + "next")
    client.cookies = {"forced": "1"}  # ... and the client keeps none, not even when told to
    await fetch(client, "GET", url + "again")
    assert [seen.headers.get("cookie") for seen in server.requests] == [None, None, None]
    assert not client.cookies


async def test_a_body_read_up_to_a_cap_stops_the_download(peer: StartPeer, client: httpx.AsyncClient) -> None:
    sent = 0

    async def endless(request: Seen, writer: asyncio.StreamWriter) -> bool:
        nonlocal sent
        if request.target == "/small":
            return await reply(writer)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 67108864\r\n\r\n")
        for _ in range(1024):  # 64 MiB at most
            writer.write(b"x" * 65536)
            await writer.drain()
            sent += 65536
        return True

    server = await peer(endless)
    request = client.build_request("GET", server.url("/big"))
    got = 0
    async with asyncio.timeout(DEADLINE_S):
        response = await client.send(request, stream=True)
        async for chunk in response.aiter_bytes():
            got += len(chunk)
            if got >= 2**20:
                break
        await response.aclose()
        for _ in range(100):  # the server notices the hang-up
            if server.hangups:
                break
            await asyncio.sleep(0.02)
    assert server.hangups == 1
    assert sent < 16 * 2**20
    await fetch(client, "GET", server.url("/small"))  # on a new connection: the cut one is gone
    assert server.connections == 2


# --- failures as httpx errors, with the OS error kept as the cause -------------------------


async def test_a_refused_connection_is_a_connect_error(client: httpx.AsyncClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(httpx.ConnectError) as caught:
        await fetch(client, "GET", f"http://127.0.0.1:{port}/")
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


async def test_an_unknown_host_is_a_connect_error(client: httpx.AsyncClient) -> None:
    with pytest.raises(httpx.ConnectError) as caught:
        await fetch(client, "GET", "http://nohost.invalid/")
    assert isinstance(caught.value.__cause__, socket.gaierror)


async def test_tls_is_verified_unless_told_otherwise(peer: StartPeer, tmp_path: Path) -> None:
    pki = Pki(tmp_path)
    server = await peer(tls=pki.issue(self_signed=True).server_context())
    async with shared_client() as verified, http_client(verify=False) as unverified:
        with pytest.raises(httpx.ConnectError) as caught:
            await fetch(verified, "GET", server.url())
        assert (await fetch(unverified, "GET", server.url())).text == "ok"
    cause = caught.value.__cause__
    assert isinstance(cause, ssl.SSLCertVerificationError), chain(caught.value)
    assert "self-signed certificate" in cause.verify_message

    private = await peer(tls=pki.issue().server_context())
    async with http_client(verify=ssl.create_default_context(cafile=str(pki.ca_file))) as with_ca:
        assert (await fetch(with_ca, "GET", private.url())).text == "ok"


async def test_a_stalled_tls_handshake_is_a_connect_timeout(client: httpx.AsyncClient) -> None:
    # A socket that listens but never accepts: the kernel completes the TCP handshake, and
    # nobody ever answers the TLS ClientHello.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        started = asyncio.get_running_loop().time()
        with pytest.raises(httpx.ConnectTimeout):
            await fetch(client, "GET", f"https://127.0.0.1:{port}/", timeout=httpx.Timeout(5, connect=0.2))
        assert asyncio.get_running_loop().time() - started < 2


async def test_a_silent_server_is_a_read_timeout(peer: StartPeer, client: httpx.AsyncClient) -> None:
    async def silent(request: Seen, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(DEADLINE_S)
        return False

    server = await peer(silent)
    started = asyncio.get_running_loop().time()
    with pytest.raises(httpx.ReadTimeout):
        await fetch(client, "GET", server.url(), timeout=httpx.Timeout(5, read=0.2))
    assert asyncio.get_running_loop().time() - started < 2


async def reset_before_response(request: Seen, writer: asyncio.StreamWriter) -> bool:
    abort_with_reset(writer)
    return False


async def reset_mid_body(request: Seen, writer: asyncio.StreamWriter) -> bool:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n" + b"x" * 100)
    await writer.drain()
    await asyncio.sleep(0.05)
    abort_with_reset(writer)
    return False


async def close_mid_body(request: Seen, writer: asyncio.StreamWriter) -> bool:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n" + b"x" * 100)
    await writer.drain()
    return False


async def close_mid_chunks(request: Seen, writer: asyncio.StreamWriter) -> bool:
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
    await writer.drain()
    return False


async def hang_up(request: Seen, writer: asyncio.StreamWriter) -> bool:
    return False


async def garbage(request: Seen, writer: asyncio.StreamWriter) -> bool:
    writer.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
    await writer.drain()
    return False


@pytest.mark.parametrize(
    ("handler", "error", "message", "cause"),
    [
        (reset_before_response, httpx.ReadError, "Connection reset by peer", ConnectionResetError),
        (reset_mid_body, httpx.ReadError, "Connection reset by peer", ConnectionResetError),
        (
            close_mid_body,
            httpx.RemoteProtocolError,
            r"^peer closed connection without sending complete message body \(received 100 bytes, expected 10000\)$",
            None,
        ),
        (
            close_mid_chunks,
            httpx.RemoteProtocolError,
            r"^peer closed connection without sending complete message body \(incomplete chunked read\)$",
            None,
        ),
        (hang_up, httpx.RemoteProtocolError, r"^Server disconnected without sending a response\.$", None),
        (
            garbage,
            httpx.RemoteProtocolError,
            r"^invalid HTTP response: Bad status line: Expected HTTP/",
            None,
        ),
    ],
    ids=[
        "a reset before the response",
        "a reset mid-body",
        "a close mid-body",
        "a close mid-chunks",
        "a hang-up",
        "not http",
    ],
)
async def test_broken_responses_are_httpx_errors(
    peer: StartPeer,
    client: httpx.AsyncClient,
    handler: Handler,
    error: type[httpx.TransportError],
    message: str,
    cause: type[BaseException] | None,
) -> None:
    server = await peer(handler)
    with pytest.raises(error, match=message) as caught:
        await fetch(client, "GET", server.url())
    if cause is not None:
        assert isinstance(caught.value.__cause__, cause), chain(caught.value)
    assert caught.value.request.url == server.url()


async def test_cancelling_mid_body_closes_the_connection(peer: StartPeer, client: httpx.AsyncClient) -> None:
    async def slow_body(request: Seen, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(500):  # a byte every 20 ms: writing fails soon after the client hangs up
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.02)
        return True

    server = await peer(slow_body)
    task = asyncio.create_task(fetch(client, "GET", server.url()))
    for _ in range(200):
        if server.requests:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):
        if server.hangups:
            break
        await asyncio.sleep(0.02)
    assert (server.hangups, len(server.requests)) == (1, 1)


# --- concurrency ----------------------------------------------------------------------------


async def test_a_thousand_concurrent_requests_are_all_in_flight_at_once(
    peer: StartPeer, client: httpx.AsyncClient
) -> None:
    """The server answers nobody until all 1,000 requests have arrived: a pool that queued
    requests (like a max_connections below the engine's concurrency) would time out here."""
    count = 1000
    arrived = asyncio.Event()

    async def all_together(request: Seen, writer: asyncio.StreamWriter) -> bool:
        if len(server.requests) == count:
            arrived.set()
        await arrived.wait()
        return await reply(writer, json.dumps({"n": request.target}).encode())

    server = await peer(all_together)
    async with asyncio.timeout(30):
        responses = await asyncio.gather(*(fetch(client, "GET", server.url(f"/{i}")) for i in range(count)))
    assert [response.json()["n"] for response in responses] == [f"/{i}" for i in range(count)]
    assert server.connections == count
    # Then the pool serves a second wave on the same connections.
    async with asyncio.timeout(30):
        await asyncio.gather(*(fetch(client, "GET", server.url(f"/{i}")) for i in range(count)))
    assert server.connections == count
