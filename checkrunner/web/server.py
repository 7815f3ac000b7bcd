"""Serving the web surface from the daemon's own event loop (uvicorn, no thread, no process).

:class:`WebSurface` is what the daemon holds: the metrics (its Observer), the liveness pulse
(/healthz), the app, and the uvicorn server. Rules it keeps:

* **Exposure**: a non-loopback ``server.listen`` without ``server.token`` is refused (one
  clear line) unless ``server.allow_anonymous: true``.
* **Binding** happens here, on a socket we create, so a port in use is one error line
  (:class:`~checkrunner.core.errors.UsageError`, the daemon exits 2) instead of uvicorn's
  ``sys.exit(1)``.
* **Signals** belong to the daemon (SIGTERM/SIGINT/SIGHUP): uvicorn's handlers are switched off.
* **Logs**: uvicorn's access log is off (it would record query strings, where ping keys
  travel); ours logs paths only (guards.py). uvicorn's logging config is not applied, so its
  error lines go through the daemon's redacting formatter.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
from collections.abc import Generator

import uvicorn

from checkrunner.config.model import Server
from checkrunner.core.errors import UsageError
from checkrunner.engine import Engine
from checkrunner.web.app import create_app
from checkrunner.web.context import WebContext
from checkrunner.web.health import Liveness
from checkrunner.web.metrics import Metrics

log = logging.getLogger("checkrunner.web")

#: Seconds to wait for the server to start, and for open requests when stopping.
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


def split_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8090`` for IPv6) -> (host, port). The config validated the shape."""
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_exposure(server: Server) -> None:
    """Refuse to serve an unauthenticated surface beyond this machine (UsageError, one line)."""
    host, _port = split_listen(server.listen)
    if not is_loopback(host) and not server.token and not server.allow_anonymous:
        raise UsageError(
            f"server.listen {server.listen} is reachable from other machines and server.token is "
            'empty: set server.token (e.g. token: "${CHECKRUNNER_TOKEN}"), listen on 127.0.0.1, '
            "or set server.allow_anonymous: true"
        )


def bind(listen: str) -> socket.socket:
    """A listening socket on ``listen``; UsageError (one line) when that is impossible."""
    host, port = split_listen(listen)
    try:
        return socket.create_server((host, port), family=_family(host), backlog=128)
    except OSError as exc:
        # create_server appends "(while attempting to bind …)": the errno's text says it all.
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise UsageError(f"cannot listen on {listen} (server.listen): {reason.lower()}") from None


def _family(host: str) -> socket.AddressFamily:
    try:
        return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        return socket.AF_INET


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._stop_requested = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The daemon owns SIGTERM/SIGINT/SIGHUP; uvicorn must not replace its handlers.
        yield

    async def main_loop(self) -> None:
        # uvicorn wakes ten times a second to look at should_exit; an idle daemon should not
        # (it was a third of its idle CPU): once a second (the Date header's resolution), and
        # at once when stop() asks.
        while not await self.on_tick(0):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), 1.0)

    def request_stop(self) -> None:
        self.should_exit = True
        self._stop_requested.set()


class WebSurface:
    """The daemon's web room: build it with the engine, then :meth:`start` / :meth:`stop`."""

    def __init__(self, engine: Engine) -> None:
        self.metrics = Metrics()
        self.liveness = Liveness(engine.clock)
        self.context = WebContext(engine, self.metrics, self.liveness)
        self.app = create_app(self.context)
        self._server: _Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self._ticking: asyncio.Task[None] | None = None
        self.port: int | None = None

    async def start(self, server: Server) -> None:
        """Check exposure, bind, seed metrics and serve; UsageError (one line) on failure."""
        check_exposure(server)
        sock = bind(server.listen)
        self.port = int(sock.getsockname()[1])
        store = self.context.store
        self.metrics.seed((await asyncio.to_thread(store.load_states)).values())
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            server_header=False,
            lifespan="off",
            limit_concurrency=200,
            timeout_graceful_shutdown=int(STOP_TIMEOUT),
        )
        # access_log=False only unhooks uvicorn's access logger from its parents; a handler
        # attached to it directly would still receive query strings (ping keys): silence it.
        logging.getLogger("uvicorn.access").disabled = True
        self._server = _Server(config)
        self._ticking = asyncio.create_task(self.liveness.run(), name="web-liveness")
        self._serving = asyncio.create_task(self._server.serve(sockets=[sock]), name="web-server")
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        while not self._server.started:
            if self._serving.done() or asyncio.get_running_loop().time() > deadline:
                sock.close()
                raise UsageError(f"cannot serve on {server.listen}: the web server did not start")
            await asyncio.sleep(0.01)
        log.info("web listening on http://%s:%d/", split_listen(server.listen)[0], self.port)

    async def stop(self) -> None:
        self.liveness.stopping = True
        if self._ticking is not None:
            self._ticking.cancel()
        if self._server is not None and self._serving is not None:
            self._server.request_stop()
            try:
                await asyncio.wait_for(asyncio.shield(self._serving), STOP_TIMEOUT + 2)
            except TimeoutError:
                self._serving.cancel()
                log.warning("web server did not stop within %ss", STOP_TIMEOUT + 2)
        if self.context.tasks:
            await asyncio.wait(list(self.context.tasks), timeout=STOP_TIMEOUT)
