"""Real loopback peers for the check-plugin tests: TCP/TLS servers, a small HTTP/1.1 server
and certificates.

Every peer listens on 127.0.0.1 on a port the OS picks, lives for one test and is closed,
together with every connection it accepted and every handler still running, when the test
ends. Fixtures (all usable from any ``tests/checks/test_*.py``):

``tcp_server``   ``await tcp_server(handler, ssl=None) -> Peer``; ``handler(reader, writer)``
                 is an asyncio stream callback. A client that goes away (reset, TLS alert)
                 ends the handler quietly; any other exception fails the test at teardown.
``http_server``  ``await http_server({"/path": Reply(...) | handler}, ssl=None) -> HttpPeer``;
                 one request per connection (``Connection: close``), unknown paths are 404,
                 received requests are kept in ``peer.requests``. A handler
                 ``async (Request, writer) -> Reply | None`` returns the reply to send, or
                 None when it wrote (or deliberately broke) the response itself.
``closed_port``  a port on 127.0.0.1 where nothing listens.
``HangupWatch``  a ``tcp_server`` handler recording when a client connects and hangs up.
``pki``          a private CA in ``tmp_path`` issuing leaf certificates (``cryptography``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

StreamHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

#: What a vanished client looks like on the server side; not a test failure.
_CLIENT_GONE = (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.LimitOverrunError)


@dataclass
class Peer:
    """A listening loopback server and what it accepted."""

    host: str
    port: int
    tls: bool
    server: asyncio.Server
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    writers: set[asyncio.StreamWriter] = field(default_factory=set)
    errors: list[BaseException] = field(default_factory=list)

    async def close(self) -> None:
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.server.wait_closed()


def abort_with_reset(writer: asyncio.StreamWriter) -> None:
    """Close a connection with a TCP RST (SO_LINGER 0) instead of a clean FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@dataclass
class HangupWatch:
    """A stream handler that notes when a client connects and when it hangs up (EOF)."""

    connected: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connected.set()
        while await reader.read(65536):  # b"" once the client closed its side
            pass
        self.closed.set()


@pytest.fixture
async def tcp_server() -> AsyncIterator[Callable[..., Awaitable[Peer]]]:
    peers: list[Peer] = []

    async def start(handler: StreamHandler, *, ssl: ssl.SSLContext | None = None) -> Peer:
        peer: Peer

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            peer.tasks.add(task)
            peer.writers.add(writer)
            try:
                await handler(reader, writer)
                # A clean close flushes what the handler wrote (an abort would drop it).
                writer.close()
                async with asyncio.timeout(1):
                    await writer.wait_closed()
            except (*_CLIENT_GONE, TimeoutError):
                pass
            except Exception as exc:  # reported at teardown: a broken peer must fail its test
                peer.errors.append(exc)
            finally:
                peer.writers.discard(writer)
                writer.transport.abort()  # a no-op after a clean close
                peer.tasks.discard(task)

        server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=ssl)
        port = server.sockets[0].getsockname()[1]
        peer = Peer("127.0.0.1", port, ssl is not None, server)
        peers.append(peer)
        return peer

    yield start
    for peer in peers:
        await peer.close()
    errors = [error for peer in peers for error in peer.errors]
    assert not errors, f"a loopback peer failed: {errors[0]!r}"


# --- HTTP/1.1 -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


@dataclass(frozen=True)
class Reply:
    """A complete response. ``body`` bytes/str are sent as is; anything else as JSON."""

    status: int = 200
    body: Any = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    reason: str | None = None

    def encode(self, *, head_only: bool = False) -> bytes:
        headers = {"Connection": "close"}
        if isinstance(self.body, bytes):
            payload = self.body
        elif isinstance(self.body, str):
            payload = self.body.encode()
            headers["Content-Type"] = "text/plain; charset=utf-8"
        else:
            payload = json.dumps(self.body).encode()
            headers["Content-Type"] = "application/json"
        headers["Content-Length"] = str(len(payload))
        headers.update(self.headers)
        reason = self.reason if self.reason is not None else _REASONS.get(self.status, "Status")
        head = f"HTTP/1.1 {self.status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return head.encode("latin-1") + b"\r\n" + (b"" if head_only else payload)


_REASONS = {200: "OK", 204: "No Content", 301: "Moved Permanently", 302: "Found", 307: "Temporary Redirect"}
_REASONS |= {401: "Unauthorized", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}

HttpHandler = Callable[[Request, asyncio.StreamWriter], Awaitable[Reply | None]]
Route = Reply | HttpHandler


@dataclass
class HttpPeer:
    peer: Peer
    requests: list[Request] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.peer.port

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        scheme = "https" if self.peer.tls else "http"
        return f"{scheme}://{host}:{self.peer.port}{path}"


async def read_request(reader: asyncio.StreamReader) -> Request:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(method, target, headers, body)


@pytest.fixture
async def http_server(
    tcp_server: Callable[..., Awaitable[Peer]],
) -> Callable[..., Awaitable[HttpPeer]]:
    async def start(routes: Mapping[str, Route], *, ssl: ssl.SSLContext | None = None) -> HttpPeer:
        received: list[Request] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            request = await read_request(reader)
            received.append(request)
            route = routes.get(request.path, Reply(404, "no such path"))
            reply = route if isinstance(route, Reply) else await route(request, writer)
            if reply is not None:
                writer.write(reply.encode(head_only=request.method == "HEAD"))
                await writer.drain()

        peer = await tcp_server(handle, ssl=ssl)
        return HttpPeer(peer, received)

    return start


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on (bound then released; the kernel does not reuse it at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- certificates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CertFiles:
    cert: Path
    key: Path
    not_after: dt.datetime

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def _name(common_name: str | None) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else [])


def _general_names(names: Sequence[str]) -> Iterator[x509.GeneralName]:
    for name in names:
        try:
            yield x509.IPAddress(ipaddress.ip_address(name))
        except ValueError:
            yield x509.DNSName(name)


class Pki:
    """A throw-away certificate authority writing PEM files into ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.name = _name("Checkrunner Test CA")
        now = dt.datetime.now(dt.UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.ca_file = folder / "ca.pem"
        self.ca_file.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))

    def issue(
        self,
        common_name: str | None = "localhost",
        *,
        sans: Sequence[str] = ("localhost", "127.0.0.1"),
        not_after: dt.timedelta | dt.datetime = dt.timedelta(days=90),
        self_signed: bool = False,
    ) -> CertFiles:
        """A leaf certificate valid until ``not_after`` (an instant, or a delta from now;
        negative = already expired), issued a day before now or before it expired."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        expires = (
            not_after if isinstance(not_after, dt.datetime) else (now + not_after).replace(microsecond=0)
        )
        not_before = min(dt.timedelta(days=-1), expires - now - dt.timedelta(days=1))
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name) if self_signed else self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + not_before)
            .not_valid_after(expires)
            .add_extension(x509.SubjectAlternativeName(list(_general_names(sans))), critical=False)
        )
        cert = builder.sign(key if self_signed else self._key, hashes.SHA256())
        stem = self.folder / f"{common_name or 'no-cn'}-{cert.serial_number:x}"
        cert_path, key_path = stem.with_suffix(".crt"), stem.with_suffix(".key")
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return CertFiles(cert_path, key_path, expires)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    folder = tmp_path / "pki"
    folder.mkdir()
    return Pki(folder)
