"""Real peers on 127.0.0.1 for the notify tests.

* ``smtp`` — an aiosmtpd SMTP server (plain, AUTH LOGIN/PLAIN allowed without TLS) that keeps what
  it receives; ``smtp.url`` is the Apprise ``mailto://`` URL that reaches it.
* ``webhooks`` — a factory of small HTTP servers that record JSON POSTs and answer with the status
  the test sets, or hang until the test ends.
* ``refused_port`` — a port bound but not listening, so a connection is refused at once (and no
  other process can take the port while the test runs).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

SMTP_USER = "alerts"
SMTP_PASSWORD = "Sm7pPassw0rd42"
#: Longest a hanging webhook holds a request; the fixture releases it sooner at teardown.
HANG_LIMIT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Mailbox:
    port: int
    received: list[EmailMessage] = field(default_factory=list)

    @property
    def url(self) -> str:
        # mode=insecure: plain SMTP, no STARTTLS; from= because "alerts@127.0.0.1" is no address.
        return (
            f"mailto://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{self.port}"
            "?mode=insecure&from=alerts@example.com&to=ops@example.com"
        )

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        return "250 OK"


def _authenticate(
    server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    accepted = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=accepted)


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    mailbox = Mailbox(port=free_port())
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=mailbox.port,
        authenticator=_authenticate,
        auth_require_tls=False,
        ready_timeout=5.0,
    )
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@dataclass
class Webhook:
    port: int
    status: int = 200
    hang: bool = False
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"


def _handler(hook: Webhook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            hook.received.append((self.path, json.loads(self.rfile.read(length) or b"{}")))
            if hook.hang:
                hook.release.wait(HANG_LIMIT_S)
            self.send_response(hook.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler


@pytest.fixture
def webhooks() -> Iterator[Callable[[], Webhook]]:
    started: list[tuple[Webhook, ThreadingHTTPServer, threading.Thread]] = []

    def start() -> Webhook:
        server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
        server.daemon_threads = True
        hook = Webhook(port=server.server_address[1])
        server.RequestHandlerClass = _handler(hook)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        started.append((hook, server, thread))
        return hook

    yield start
    for hook, server, thread in started:
        hook.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def refused_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
