"""HTTP and HTTPS front of the demo, the control endpoints and the ticker.

Routes (127.0.0.1 only):

* the imitated API: every GET path of :data:`demo.api.GET_ROUTES` and the POST actions of
  :data:`demo.api.ACTIONS` (a wrong method is 405), bent by the modes of the checks reading
  them; each API request is logged to ``app.log`` as an INFO line;
* ``GET /_demo/mode`` (every example check: mode, reachable modes, effect) and
  ``POST /_demo/mode`` with ``{"check": NAME | "all", "mode": ok|warning|critical|unknown}``
  (400 with ``{"error": "…"}`` when the mode is out of reach);
* ``POST /_demo/sink/NAME`` keeps the last 100 bodies (JSON or text) per name, as a stand-in
  for Slack, email and SMS; ``GET /_demo/sink/NAME`` lists them, newest first;
* ``GET /`` lists all of the above.

With ``smtp_port``, an SMTP receiver (:mod:`demo.smtpsink`) on 127.0.0.1 keeps each email it gets
in the ``email`` sink too (``{"title": subject, "from", "to", "body"}``), so a ``mailto://`` channel
works offline; a port it cannot bind is reported and the rest of the demo runs on.

The HTTPS port serves the same routes with a certificate from the demo's private CA, chosen per
connection by the ``cert`` check's mode. :func:`start` binds the ports and serves from
background threads; :meth:`Running.stop` shuts everything down cleanly.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from demo.api import ACTIONS, GET_ROUTES, HTML_PAGE
from demo.catalog import Unsupported
from demo.model import METRICS, hour_stats
from demo.smtpsink import SmtpSink
from demo.state import Demo

MAX_BODY = 256 * 1024
SINK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
HANDSHAKE_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    delay: float = 0.0
    allow: str = ""


def _json(status: int, payload: Any, delay: float = 0.0, allow: str = "") -> Reply:
    return Reply(status, (json.dumps(payload, indent=1) + "\n").encode(), delay=delay, allow=allow)


def _error(status: int, message: str, allow: str = "") -> Reply:
    return _json(status, {"error": message}, allow=allow)


def route(demo: Demo, method: str, path: str, body: bytes, content_type: str, now: datetime) -> Reply:
    """Answer one request (the whole routing table; no I/O besides the demo's own)."""
    path = path.split("?", 1)[0].rstrip("/") or "/"
    if path == "/":
        return _json(200, {"service": "checkrunner demo", "api": sorted(GET_ROUTES), "actions": sorted(ACTIONS),
                           "control": ["GET|POST /_demo/mode", "GET|POST /_demo/sink/NAME"]})  # fmt: skip
    if path == "/_demo/mode":
        return _control(demo, method, body, now)
    if path.startswith("/_demo/sink/"):
        return _sink(demo, method, path.removeprefix("/_demo/sink/"), body, content_type, now)
    if path in GET_ROUTES:
        if method not in ("GET", "HEAD"):
            return _error(405, f"{path} answers GET", allow="GET, HEAD")
        return _api(demo, path, now)
    if path in ACTIONS:
        if method != "POST":
            return _error(405, f"{path} is a maintenance action: POST it", allow="POST")
        return _action(demo, path, now)
    return _error(404, f"no such endpoint {path}; GET / lists them")


def _api(demo: Demo, path: str, now: datetime) -> Reply:
    fault = demo.fault(path, now)
    if fault.html:
        return Reply(200, HTML_PAGE.encode(), "text/html; charset=utf-8", fault.delay)
    if fault.status >= 500:
        return _json(fault.status, {"status": "unhealthy", "error": "service unavailable"}, fault.delay)
    return _json(200, GET_ROUTES[path](demo.bent_values(path, now), now), fault.delay)


def _action(demo: Demo, path: str, now: datetime) -> Reply:
    fault = demo.fault(path, now)
    if fault.html:
        return Reply(200, HTML_PAGE.encode(), "text/html; charset=utf-8")
    name = ACTIONS[path]
    if fault.status >= 500:
        return _json(
            fault.status, {"status": "failed", "action": name, "error": "job aborted: lock wait timeout"}
        )
    started = time.monotonic()
    result: dict[str, Any]
    if name == "database-optimize":
        result = demo.db.optimize()
    elif name == "logs-cleanup":
        result = demo.log.rotate(now)
    elif name == "cache-optimize":
        before = demo.values(now)["cache_hit_rate_percent"]
        with demo.lock:  # a warm cache: the walk restarts above its mean
            demo.factors["cache_hit_rate_percent"] = 1 + METRICS["cache_hit_rate_percent"].spread
        result = {"hit_rate_before": before, "hit_rate_after": demo.values(now)["cache_hit_rate_percent"]}
    elif name == "baseline-update":
        stats = {m: hour_stats(METRICS[m], now.hour) for m in ("avg_response_ms", "p95_response_ms")}
        result = {m: {"mean": round(mean, 1), "sigma": round(sd, 1)} for m, (mean, sd) in stats.items()}
    else:
        result = {"findings": demo.rng.randint(0, 3), "report_id": f"{name}-{now:%Y%m%d}"}
    elapsed = round((time.monotonic() - started) * 1000, 1)
    return _json(200, {"status": "completed", "action": name, "started_at": now.isoformat(timespec="seconds"),
                       "duration_ms": elapsed, "result": result})  # fmt: skip


def _control(demo: Demo, method: str, body: bytes, now: datetime) -> Reply:
    if method == "GET":
        return _json(200, demo.view(now))
    if method != "POST":
        return _error(405, "GET lists the modes, POST sets one", allow="GET, POST")
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return _error(400, 'send JSON: {"check": "api-latency", "mode": "critical"}')
    if not isinstance(request, dict) or not isinstance(request.get("check"), str) or not isinstance(request.get("mode"), str):  # fmt: skip
        return _error(400, 'send JSON: {"check": "api-latency", "mode": "critical"}')
    try:
        done = demo.set_mode(request["check"], request["mode"], now)
    except Unsupported as exc:
        return _error(400, str(exc))
    if done["check"] == "all":
        print(
            f"demo: all -> {done['mode']} ({len(done['changed'])} checks, {len(done['skipped'])} skipped)",
            flush=True,
        )
    else:
        print(f"demo: {done['check']} -> {done['mode']} ({done['effect']})", flush=True)
    return _json(200, done)


def _sink(demo: Demo, method: str, name: str, body: bytes, content_type: str, now: datetime) -> Reply:
    if not SINK_NAME.fullmatch(name):
        return _error(404, "sink names are letters, digits, '.', '_' and '-'")
    if method == "GET":
        return _json(200, {"name": name, "messages": demo.sink_get(name)})
    if method not in ("POST", "PUT"):
        return _error(405, "POST a message, GET the list", allow="GET, POST, PUT")
    text = body.decode("utf-8", errors="replace")
    try:
        payload: Any = json.loads(text)
    except ValueError:
        payload = text
    count = demo.sink_post(name, content_type, payload, now)
    title = payload.get("title", "") if isinstance(payload, dict) else ""
    print(f"demo: sink {name} <- {title or text[:80]!r}", flush=True)
    return _json(200, {"ok": True, "kept": count})


def make_handler(demo: Demo) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "checkrunner-demo/1.0"
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(_error(413, f"bodies are limited to {MAX_BODY} bytes"), close=True)
                return
            body = self.rfile.read(length) if length else b""
            now = datetime.now(demo.tz)
            started = time.monotonic()
            reply = route(demo, self.command, self.path, body, self.headers.get("Content-Type", ""), now)
            if reply.delay:
                time.sleep(reply.delay)
            self._send(reply)
            if not self.path.startswith("/_demo"):
                took = round((time.monotonic() - started) * 1000)
                demo.log.write(now, "INFO", f"[api] {self.command} {self.path} {reply.status} {took}ms")

        def _send(self, reply: Reply, close: bool = False) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            if reply.allow:
                self.send_header("Allow", reply.allow)
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: API requests go to app.log, control events to stdout."""

    return Handler


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-request is not the demo's problem: one line, no traceback."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError | ssl.SSLError):
            print(f"demo: error serving {client_address[0]}: {error!r}", file=sys.stderr, flush=True)


class TlsServer(QuietServer):
    """HTTPS whose certificate is chosen per connection (the handshake runs in the request thread)."""

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 context: Callable[[], ssl.SSLContext]) -> None:  # fmt: skip
        self.context = context
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        assert isinstance(request, socket.socket)
        request.settimeout(HANDSHAKE_TIMEOUT_S)
        try:
            wrapped = self.context().wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client gave up the handshake (e.g. it does not trust the certificate)
        try:
            super().finish_request(wrapped, client_address)
        finally:
            wrapped.close()


class Running:
    """A started demo: its state, its servers and their threads. ``stop()`` shuts all down."""

    def __init__(self, demo: Demo, servers: list[QuietServer], smtp: SmtpSink | None = None) -> None:
        self.demo = demo
        self.servers = servers
        self.smtp = smtp.start() if smtp is not None else None
        self.halt = threading.Event()
        self.threads = [
            threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
            for s in servers
        ]
        self.threads.append(threading.Thread(target=_ticker, args=(demo, self.halt), daemon=True))
        for thread in self.threads:
            thread.start()

    @property
    def ports(self) -> list[int]:
        return [int(server.server_address[1]) for server in self.servers]

    def stop(self) -> None:
        self.halt.set()
        for server in self.servers:
            server.shutdown()
            server.server_close()
        for thread in self.threads:
            thread.join(timeout=5)
        if self.smtp is not None:
            self.smtp.stop()
        self.demo.close()


def start(data_dir: Path, port: int, tls_port: int | None, tz: ZoneInfo, ping_url: str | None = None,
          seed: int | None = None, smtp_port: int | None = None) -> Running:  # fmt: skip
    """Bind the ports (0 = any free one; ``tls_port``/``smtp_port`` None = no HTTPS/SMTP) and start
    serving. Raises OSError when an HTTP(S) port cannot be bound."""
    demo = Demo(data_dir, tz, datetime.now(tz), seed=seed, ping_url=ping_url)
    handler = make_handler(demo)
    servers: list[QuietServer] = []
    try:
        servers.append(QuietServer(("127.0.0.1", port), handler))
        if tls_port is not None:
            servers.append(TlsServer(("127.0.0.1", tls_port), handler, demo.tls_context))
    except OSError:
        for server in servers:
            server.server_close()
        demo.close()
        raise
    running = Running(demo, servers, _smtp_sink(demo, smtp_port))
    ports = running.ports
    https = f" and https://127.0.0.1:{ports[1]} (CA {data_dir / 'ca.pem'})" if len(ports) > 1 else ""
    print(f"demo: serving http://127.0.0.1:{ports[0]}{https}; app log {data_dir / 'app.log'}, "
          f"app db {data_dir / 'app.db'}", flush=True)  # fmt: skip
    if running.smtp is not None:
        print(f"demo: SMTP sink on 127.0.0.1:{running.smtp.port}; GET /_demo/sink/email lists what it got",
              flush=True)  # fmt: skip
    return running


def _smtp_sink(demo: Demo, port: int | None) -> SmtpSink | None:
    if port is None:
        return None

    def keep(sender: str, recipients: list[str], message: EmailMessage) -> None:
        part = message.get_body(("plain", "html"))
        body = part.get_content() if part is not None else ""
        title = str(message.get("Subject", ""))
        payload = {"title": title, "from": sender, "to": recipients, "body": body}
        demo.sink_post("email", "message/rfc822", payload, datetime.now(demo.tz))
        print(f"demo: sink email <- {title!r}", flush=True)

    try:
        return SmtpSink(port, keep)
    except OSError as exc:  # the API matters more than the email sink: say so and go on
        print(f"demo: no SMTP sink: cannot bind 127.0.0.1:{port}: {exc.strerror or exc}", file=sys.stderr,
              flush=True)  # fmt: skip
        return None


def _ticker(demo: Demo, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        try:
            demo.tick(datetime.now(demo.tz))
        except Exception as exc:  # the demo keeps serving; say what went wrong
            print(f"demo: tick failed: {exc!r}", file=sys.stderr, flush=True)
