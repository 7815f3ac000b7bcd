"""Local servers for the HTTP benchmark: nginx (the target) and blackbox_exporter (the baseline).

Both bind 127.0.0.1 on ports free at start, run in the foreground as our children, keep their
files in the given folder, and are stopped by PID when the context exits, even on failure.
nginx serves a small JSON document (the same one peer-bench used) with one worker and no
access log, so that the target costs little; blackbox_exporter gets one ``http_2xx`` module.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from procs import BenchError, free_port, stop_pid, wait_port

STATUS_JSON = (
    '{"status":"ok","service":"bench","version":"1.0.0","uptime_s":12345,"checks":{"db":"ok","cache":"ok"}}\n'
)

NGINX_CONF = """\
# Workers run as we do (a root master would drop them to "nobody", who cannot read our 0700 folder).
user {user};
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 8192; use epoll; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 65;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    types {{ application/json json; }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {root}/www;
    }}
}}
"""

BLACKBOX_CONF = """\
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
"""


@dataclass(frozen=True, slots=True)
class Servers:
    #: The URL the checks and the probes fetch.
    target: str
    #: blackbox_exporter's probe URL for ``target``, or None when it is not installed.
    probe: str | None
    blackbox_pid: int | None


def _start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)


@contextlib.contextmanager
def running(folder: Path) -> Iterator[Servers]:
    """nginx and (if installed) blackbox_exporter; BenchError when nginx is missing."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        raise BenchError("nginx is not installed (apt-get install -y nginx-light)")
    root = folder / "nginx"
    (root / "www").mkdir(parents=True, exist_ok=True)
    (root / "www" / "status.json").write_text(STATUS_JSON)
    port = free_port()
    user = pwd.getpwuid(os.geteuid()).pw_name
    (root / "nginx.conf").write_text(NGINX_CONF.format(root=root, port=port, user=user))
    started: list[subprocess.Popen[bytes]] = []
    try:
        started.append(
            _start([nginx, "-e", str(root / "error.log"), "-c", str(root / "nginx.conf")], root / "out.log")
        )
        wait_port(port, 10)
        target = f"http://127.0.0.1:{port}/status.json"
        blackbox = shutil.which("prometheus-blackbox-exporter")
        probe, blackbox_pid = None, None
        if blackbox is not None:
            conf = folder / "blackbox.yml"
            conf.write_text(BLACKBOX_CONF)
            bb_port = free_port()
            argv = [blackbox, f"--config.file={conf}", f"--web.listen-address=127.0.0.1:{bb_port}"]
            started.append(_start([*argv, "--log.level=warn"], folder / "blackbox.log"))
            wait_port(bb_port, 10)
            probe = f"http://127.0.0.1:{bb_port}/probe?module=http_2xx&target={target}"
            blackbox_pid = started[-1].pid
        yield Servers(target, probe, blackbox_pid)
    finally:
        # nginx's master stops its worker on SIGTERM ("fast shutdown"); all by PID.
        for proc in reversed(started):
            stop_pid(proc, timeout=10)
