"""The web surface served by ``checkrunner run``: /healthz, /metrics, the status page, the
JSON API and heartbeat pings (DESIGN.md "Web surface").

Public surface::

    WebSurface(engine)            # metrics + liveness + app + uvicorn server; start(server) / stop()
    create_app(context)           # the Starlette app alone (tests, embedding)
    WebContext, Metrics, Liveness
    ping_key(config, store, name) # a heartbeat's ping key (configured, or generated and stored)
    ping_url(server, name, key)   # its full URL (server.public_url or http://<listen>)
    check_exposure(server)        # refuses a non-loopback listen without a token

It sits above the engine and below the daemon: it may read the store and ask the engine to
evaluate a check (after a ping), never reach into the daemon.
"""

from checkrunner.web.app import create_app
from checkrunner.web.context import WebContext
from checkrunner.web.health import Liveness
from checkrunner.web.metrics import Metrics
from checkrunner.web.ping import ping_key, ping_url
from checkrunner.web.server import WebSurface, check_exposure

__all__ = [
    "Liveness",
    "Metrics",
    "WebContext",
    "WebSurface",
    "check_exposure",
    "create_app",
    "ping_key",
    "ping_url",
]
