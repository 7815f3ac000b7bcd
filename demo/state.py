"""The running demo's state: walks, modes and their side effects, sinks, app data (thread-safe).

:class:`Demo` is what the HTTP handlers and the ticker share. ``tick(now)`` advances the walks
(one step per second), writes traffic lines to ``app.log``, adds database rows, repeats the
log lines of bent log checks and runs the nightly backup (03:00 local; pinging
``DEMO_BACKUP_PING_URL`` when set). ``set_mode`` applies a mode to one check (or ``all``) and
raises :class:`~demo.catalog.Unsupported` with a one-line reason when it cannot. Every method
takes ``now`` (aware, in the demo's timezone); only the server edges read the clock.
"""

from __future__ import annotations

import random
import ssl
import threading
import urllib.parse
import urllib.request
from collections import deque
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from demo import tlscerts
from demo.api import current_values
from demo.appdata import AppDb, AppLog
from demo.catalog import (
    LOG_NOISE,
    TARGETS,
    Fault,
    Mode,
    Target,
    Unsupported,
    check_mode,
    http_fault,
    supported_modes,
)
from demo.model import METRICS, step, traffic

SINK_KEEP = 100
#: INFO lines per second at peak traffic.
LINES_PER_S = 0.4
BACKUP_HOUR = 3
DELIVERY_PATH = TARGETS["delivery"].path
PING_TIMEOUT_S = 5.0


def fail_url(url: str) -> str:
    """The failure form of a heartbeat ping URL: ``/ping/NAME?key=K`` -> ``/ping/NAME/fail?key=K``."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/fail"))


def previous_backup(now: datetime) -> datetime:
    """The latest nightly backup time (BACKUP_HOUR local) at or before ``now``."""
    today = now.replace(hour=BACKUP_HOUR, minute=0, second=0, microsecond=0)
    return today if today <= now else today - timedelta(days=1)


class Demo:
    def __init__(self, data_dir: Path, tz: ZoneInfo, now: datetime, seed: int | None = None,
                 ping_url: str | None = None) -> None:  # fmt: skip
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir, self.tz, self.ping_url = data_dir, tz, ping_url
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.modes: dict[str, Mode] = dict.fromkeys(TARGETS, "ok")
        self.factors = dict.fromkeys(METRICS, 1.0)
        self.started = self.last_tick = now
        self.last_backup = previous_backup(now)
        self.sinks: dict[str, deque[dict[str, Any]]] = {}
        self.noise_due: dict[tuple[str, Mode], datetime] = {}
        self.log = AppLog(data_dir / "app.log")
        self.db = AppDb(data_dir / "app.db", tz, self.rng)
        self.db.catch_up(now)
        self.contexts: dict[str, ssl.SSLContext] = {}
        for mode, pem in tlscerts.prepare(data_dir, now).items():
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(pem)
            self.contexts[mode] = context
        self.log.write(now, "INFO", f"[app] demo service started data={data_dir}")

    # -- numbers --------------------------------------------------------------------------
    def values(self, now: datetime) -> dict[str, float | int | str]:
        with self.lock:
            return current_values(now, self.factors, self.started, self.last_backup)

    def fault(self, path: str, now: datetime) -> Fault:
        """The merged faults of every bent http target reading ``path``."""
        with self.lock:
            bent = [(t, self.modes[t.check]) for t in TARGETS.values() if t.path == path and t.kind == "http"]
        faults = [http_fault(target, mode, now.hour) for target, mode in bent if mode != "ok"]
        if not faults:
            return Fault()
        overrides: dict[str, float | int | str] = {}
        for one in faults:
            overrides.update(one.overrides)
        return Fault(
            "; ".join(one.effect for one in faults), overrides, max(one.delay for one in faults),
            max(one.status for one in faults), any(one.html for one in faults),
        )  # fmt: skip

    def bent_values(self, path: str, now: datetime) -> dict[str, float | int | str]:
        """The numbers as the endpoint ``path`` shows them: mode overrides applied."""
        return self.values(now) | dict(self.fault(path, now).overrides)

    def tls_context(self) -> ssl.SSLContext:
        with self.lock:
            return self.contexts[self.modes["cert"]]

    def tick(self, now: datetime) -> None:
        seconds = max(0.0, (now - self.last_tick).total_seconds())
        with self.lock:
            for _ in range(min(max(int(seconds), 1), 60)):
                for name, metric in METRICS.items():
                    if metric.spread:
                        self.factors[name] = step(self.factors[name], metric.spread, self.rng)
            due = [
                key for key, when in self.noise_due.items() if when <= now and self.modes[key[0]] == key[1]
            ]
            for key in due:
                self.noise_due[key] = now + timedelta(seconds=LOG_NOISE[key].every_s)
        for key in due:
            self._noise(key, now, 1)
        self._traffic_lines(now, seconds)
        self.db.tick(self.last_tick, now)
        self.last_tick = now
        with self.lock:
            backup_due = now - self.last_backup >= timedelta(days=1)
            if backup_due:
                self.last_backup = previous_backup(now)
        if backup_due:
            self.log.write(now, "INFO", "[backup] nightly database backup completed")
            if self.ping_url:
                threading.Thread(target=self._background_ping, args=(self.ping_url,), daemon=True).start()

    def _traffic_lines(self, now: datetime, seconds: float) -> None:
        local = now.astimezone(self.tz)
        expected = LINES_PER_S * traffic(local.hour + local.minute / 60) * min(seconds, 60.0)
        count = int(expected) + (1 if self.rng.random() < expected % 1 else 0)
        rate = float(self.bent_values(DELIVERY_PATH, now)["delivery_success_rate_percent"])
        for _ in range(count):
            conv, inst = self.rng.randint(10_000, 99_999), self.rng.randint(1, 3)
            pick = self.rng.random()
            if pick < 0.4:
                status = "success" if self.rng.random() * 100 < rate else "failed"
                text = f"DELIVERY_TRACE action=result status={status} conv=conv_{conv} instance=kumon-prod-{inst}"
            elif pick < 0.6:
                text = f"OUTBOX_TRACE phase=planner conv=conv_{conv} items={self.rng.randint(1, 3)}"
            elif pick < 0.75:
                text = f"INSTANCE_TRACE conv=conv_{conv} instance=kumon-prod-{inst} resolved=true"
            else:
                text = f"[api] POST /api/v1/evolution/webhook 200 {self.rng.randint(40, 400)}ms"
            self.log.write(now, "INFO", text)

    def _noise(self, key: tuple[str, Mode], now: datetime, count: int) -> None:
        noise = LOG_NOISE[key]
        for _ in range(count):
            level, _, text = noise.line.partition(" ")
            self.log.write(now, level, text.format(conv=f"conv_{self.rng.randint(10_000, 99_999)}"))

    def _ping(self, url: str) -> None:
        """GET the ping URL; raises Unsupported with a one-line reason (the key is not shown)."""
        try:
            with urllib.request.urlopen(url, timeout=PING_TIMEOUT_S) as answer:
                answer.read(1024)
        except OSError as exc:
            raise Unsupported(f"could not ping {urllib.parse.urlsplit(url).path}: {exc}") from None

    def _background_ping(self, url: str) -> None:
        try:
            self._ping(url)
        except Unsupported as exc:
            print(f"demo: nightly backup: {exc}", flush=True)

    # -- modes ----------------------------------------------------------------------------
    def set_mode(self, check: str, mode: str, now: datetime) -> dict[str, Any]:
        if check == "all":
            changed, skipped = {}, {}
            for name in TARGETS:
                try:
                    changed[name] = self.set_mode(name, mode, now)["effect"]
                except Unsupported as exc:
                    skipped[name] = str(exc)
            return {"check": "all", "mode": mode, "changed": changed, "skipped": skipped}
        target = TARGETS.get(check)
        if target is None:
            raise Unsupported(f"unknown check {check!r}: GET /_demo/mode lists the example checks")
        new = check_mode(target, mode)
        self._apply(target, new, now)
        with self.lock:
            self.modes[check] = new
        self._after_log_change(now)
        return {"check": check, "mode": new, "effect": self.describe(target, new, now)}

    def _apply(self, target: Target, mode: Mode, now: datetime) -> None:
        if target.kind == "heartbeat":
            if self.ping_url:
                self._ping(self.ping_url if mode == "ok" else fail_url(self.ping_url))
            elif mode != "ok":
                raise Unsupported(
                    "nightly-backup pings checkrunner: start the demo with "
                    "DEMO_BACKUP_PING_URL=$(checkrunner ping-url nightly-backup)"
                )
        elif target.kind == "sql":
            if mode == "ok":
                self.db.release(target.path)
            else:
                rows = None if mode == "unknown" else target.warning if mode == "warning" else target.critical
                self.db.hold(target.path, int(rows) if rows is not None else None)
        elif target.kind == "log" and (key := (target.check, mode)) in LOG_NOISE:
            self._noise(key, now, LOG_NOISE[key].burst)
            with self.lock:
                self.noise_due[key] = now + timedelta(seconds=LOG_NOISE[key].every_s)

    def _after_log_change(self, now: datetime) -> None:
        """app.log stays aside while any log check is in unknown mode."""
        with self.lock:
            hold = any(self.modes[t.check] == "unknown" for t in TARGETS.values() if t.kind == "log")
        if hold:
            self.log.hold()
        else:
            self.log.release()

    def describe(self, target: Target, mode: Mode, now: datetime) -> str:
        if target.kind == "http":
            return http_fault(target, mode, now.hour).effect
        if mode == "ok":
            return "normal"
        if target.kind == "log":
            if mode == "unknown":
                return "app.log moved aside to app.log.held: the file is missing"
            noise = LOG_NOISE[(target.check, mode)]
            return f"{noise.burst} line(s) now, then one every {noise.every_s:g} s: {noise.line.split(' conv=')[0]}"
        if target.kind == "sql":
            rows = target.warning if mode == "warning" else target.critical
            if mode == "unknown":
                return f"table {target.path} set aside: the query fails"
            return f"table {target.path} set aside behind a stand-in with its {rows} newest rows"
        if target.kind == "tls":
            days = target.warning if mode == "warning" else target.critical
            return f"HTTPS presents a certificate with {days} days left"
        return "failure ping sent"

    def view(self, now: datetime) -> dict[str, Any]:
        with self.lock:
            modes = dict(self.modes)
        return {
            "modes": modes,
            "checks": {
                name: {"mode": modes[name], "modes": list(supported_modes(t)),
                       "effect": self.describe(t, modes[name], now)}
                for name, t in TARGETS.items()
            },
        }  # fmt: skip

    # -- sinks ----------------------------------------------------------------------------
    def sink_post(self, name: str, content_type: str, body: Any, now: datetime) -> int:
        with self.lock:
            box = self.sinks.setdefault(name, deque(maxlen=SINK_KEEP))
            box.appendleft({"received_at": now.isoformat(timespec="seconds"), "content_type": content_type,
                            "body": body})  # fmt: skip
            return len(box)

    def sink_get(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.sinks.get(name, ()))

    def close(self) -> None:
        self.log.close()
        self.db.close()
