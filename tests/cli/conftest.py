"""Fixtures for the end-to-end tests of the one-shot CLI.

``cli`` (a :class:`Cli`) owns one test's world: a ``tmp_path`` that is also the working
directory, a loopback HTTP peer (:class:`Peer`) whose JSON answers a test sets per path and
which accepts every POST (the ``ops`` channel delivers there), and two ways to run
``checkrunner``:

* ``cli(*args)`` calls ``checkrunner.cli.main:main(args)`` in this process and returns an
  :class:`Outcome` (exit code, stdout, stderr); an argparse ``SystemExit`` becomes its code.
* ``cli.spawn(*args)`` runs ``python -m checkrunner`` in a subprocess (PYTHONPATH = the
  repository, cwd = tmp_path), bounded by :data:`SPAWN_TIMEOUT_S`.

``cli.write(body)`` writes ``schedules.yaml`` (``HEADER`` first: timezone, a SQLite database
in tmp_path, the ``ops`` channel and a default route, so that a well-formed body validates
without warnings); ``header=False`` writes ``body`` alone. In both, ``{db}`` and ``{peer}``
stand for the database URL and the peer's ``host:port``.

The process environment is isolated per test: ``CHECKRUNNER_CONFIG`` and
``CHECKRUNNER_DATABASE_URL`` are unset unless a test sets them with ``cli.setenv``.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from checkrunner.cli.main import main

REPO = Path(__file__).resolve().parents[2]
#: Upper bound of one ``python -m checkrunner`` run (imports alone take about a second).
SPAWN_TIMEOUT_S = 30.0
#: How long the peer's serving thread may take to stop.
PEER_STOP_TIMEOUT_S = 5.0

HEADER = """\
timezone: America/Sao_Paulo
database: "{db}"
channels:
  ops: {url: "json://{peer}/hook"}
alerting: {default: [ops]}
"""


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


# --- the loopback peer --------------------------------------------------------------------


@dataclass
class Peer:
    """A threaded HTTP/1.1 server on 127.0.0.1: ``GET path`` answers ``routes[path]``
    (status, body; a body that is not ``bytes`` is sent as JSON), unknown paths are 404;
    every POST is recorded in ``posts`` and answered 200."""

    server: ThreadingHTTPServer
    routes: dict[str, tuple[int, Any]] = field(default_factory=dict)
    posts: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host!s}:{port}"

    def url(self, path: str) -> str:
        return f"http://{self.address}{path}"

    def answer(self, path: str, body: Any, status: int = 200) -> None:
        self.routes[path] = (status, body)


def _handler(peer: Peer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            status, body = peer.routes.get(self.path, (404, b"no such path"))
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            kind = "application/octet-stream" if isinstance(body, bytes) else "application/json"
            self._reply(status, payload, kind)

        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length", "0"))
            peer.posts.append((self.path, self.rfile.read(size)))
            self._reply(200, b"{}", "application/json")

        def _reply(self, status: int, payload: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
            self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the test output stays about checkrunner

    return Handler


@pytest.fixture
def peer() -> Iterator[Peer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    made = Peer(server)
    server.RequestHandlerClass = _handler(made)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield made
    finally:
        server.shutdown()
        server.server_close()
        thread.join(PEER_STOP_TIMEOUT_S)


# --- running checkrunner ------------------------------------------------------------------


@dataclass
class Cli:
    tmp: Path
    peer: Peer
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.tmp / 'checkrunner.db'}"

    def fill(self, text: str) -> str:
        return text.replace("{db}", self.db_url).replace("{peer}", self.peer.address)

    def write(self, body: str, *, header: bool = True, name: str = "schedules.yaml") -> Path:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.fill((HEADER if header else "") + body), encoding="utf-8")
        return path

    def setenv(self, name: str, value: str) -> None:
        self.monkeypatch.setenv(name, value)

    def __call__(self, *args: str) -> Outcome:
        """``checkrunner ARGS`` in this process. main() configures the root logger for its
        run (a handler on the captured stderr); it is put back so later tests do not log
        into a closed capture stream."""
        self.capsys.readouterr()  # drop what the test printed before
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: --help, usage errors
            code = exc.code if isinstance(exc.code, int) else 2
        finally:
            for handler in list(root.handlers):
                root.removeHandler(handler)
            for handler in handlers:
                root.addHandler(handler)
            root.setLevel(level)
        captured = self.capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    def spawn(self, *args: str, env: dict[str, str] | None = None) -> Outcome:
        """``python -m checkrunner ARGS`` in a subprocess with this test's environment."""
        full = {k: v for k, v in os.environ.items() if not k.startswith("CHECKRUNNER_")}
        full |= {"PYTHONPATH": str(REPO), **(env or {})}
        done = subprocess.run(
            [sys.executable, "-m", "checkrunner", *args],
            cwd=self.tmp,
            env=full,
            capture_output=True,
            text=True,
            timeout=SPAWN_TIMEOUT_S,
        )
        return Outcome(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def cli(
    tmp_path: Path, peer: Peer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CHECKRUNNER_CONFIG", raising=False)
    monkeypatch.delenv("CHECKRUNNER_DATABASE_URL", raising=False)
    return Cli(tmp_path, peer, capsys, monkeypatch)
