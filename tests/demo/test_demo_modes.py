"""Every mode of every example check yields exactly that status, against a real demo process.

The oracle reads the check from schedules.yaml and judges what the demo serves the way
DESIGN.md says checkrunner does (a failed expect is critical, a non-JSON body where JSON is
needed is unknown, thresholds decide the rest). A few cases also go through checkrunner's own
runner and plugins, so the demo, the example and the product are seen to agree.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime
from functools import cache

import pytest

from checkrunner.config import Config, load_config
from checkrunner.core.status import Status, worst
from checkrunner.plugins.contract import CheckContext
from checkrunner.plugins.values import ValueSpec, compile_jsonpath, jsonpath_values
from checkrunner.runner.check import run_check
from demo.catalog import TARGETS, supported_modes
from tests.demo.support import REPO, TZ, DemoProc, example, get, render, verdict

# jsonpath-ng builds its parser tables on every parse (~60 ms): parse each expression once.
_jsonpath = cache(compile_jsonpath)
_value_spec = cache(ValueSpec.parse)


def _baseline_rule(check: str) -> bool:
    spec = example()["checks"][check]
    return any("baseline" in str(spec.get(key, "")) for key in ("warn", "crit"))


def http_status(check: str, demo: DemoProc) -> Status:
    spec = example()["checks"][check]
    status, _, body, seconds = get(render(spec["url"], demo.base), spec.get("method", "GET"))
    expect = spec.get("expect", {})
    if status != expect.get("status", status if 200 <= status < 300 else 200):
        return Status.CRITICAL
    value = seconds * 1000
    if "value" in spec or "json" in expect:
        try:
            document = json.loads(body)
        except ValueError:
            return Status.UNKNOWN
        for path, wanted in expect.get("json", {}).items():
            if jsonpath_values(_jsonpath(path), document) != [wanted]:
                return Status.CRITICAL
        if "value" in spec:
            value = _value_spec(spec["value"]).from_json(document)
    return verdict(check, value, datetime.now(TZ))


def command_status(check: str, demo: DemoProc) -> Status:
    spec = example()["checks"][check]
    run = subprocess.run(
        [sys.executable, *spec["run"][1:]], cwd=REPO, env={**os.environ, "DEMO_API": demo.base},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    codes = {0: "ok"} | {int(code): status for code, status in spec.get("exit_codes", {}).items()}
    own = Status.parse(codes.get(run.returncode, "critical"))
    if "value" not in spec:
        return own
    match = re.search(spec["value"]["regex"], run.stdout)
    if match is None:
        return Status.UNKNOWN
    return worst([own, verdict(check, float(match[1]), datetime.now(TZ))])


def log_status(check: str, demo: DemoProc, offset: int) -> Status:
    path = demo.data / "app.log"
    if not path.exists():
        return Status.UNKNOWN
    with path.open("rb") as log:
        log.seek(offset)
        added = log.read().decode()
    pattern = re.compile(example()["checks"][check]["pattern"])
    count = sum(1 for line in added.splitlines() if pattern.search(line))
    return verdict(check, count, datetime.now(TZ))


def sql_status(check: str, demo: DemoProc) -> Status:
    with sqlite3.connect(demo.data / "app.db") as db:
        try:
            (value,) = db.execute(example()["checks"][check]["query"]).fetchone()
        except sqlite3.Error:
            return Status.UNKNOWN
    return verdict(check, value, datetime.now(TZ))


def tls_status(check: str, demo: DemoProc) -> Status:
    context = ssl.create_default_context(cafile=demo.data / "ca.pem")
    with socket.create_connection(("127.0.0.1", demo.tls_port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:  # fmt: skip
        cert = tls.getpeercert()
    assert cert is not None
    days = (ssl.cert_time_to_seconds(str(cert["notAfter"])) - time.time()) / 86400
    return verdict(check, days, datetime.now(TZ))


CASES = [
    (name, mode)
    for name, target in sorted(TARGETS.items())
    if target.kind in ("http", "log", "sql", "tls")
    for mode in supported_modes(target)
    # Baseline rules fire on a share of healthy samples by design (~2% above 2 sigma).
    if not (mode == "ok" and _baseline_rule(name))
]


@pytest.mark.parametrize(("check", "mode"), CASES, ids=[f"{c}-{m}" for c, m in CASES])
def test_setting_a_mode_gives_the_example_check_that_status(
    demo_proc: DemoProc, check: str, mode: str
) -> None:
    log = demo_proc.data / "app.log"
    offset = log.stat().st_size
    answer = demo_proc.set(check, mode)
    assert answer == {"check": check, "mode": mode, "effect": answer["effect"]}
    kind, run_type = TARGETS[check].kind, example()["checks"][check]["type"]
    if kind == "http":
        got = http_status(check, demo_proc) if run_type == "http" else command_status(check, demo_proc)
    elif kind == "log":
        got = log_status(check, demo_proc, offset)
    elif kind == "sql":
        got = sql_status(check, demo_proc)
    else:
        got = tls_status(check, demo_proc)
    assert got is Status.parse(mode), answer["effect"]


def test_back_to_ok_restores_the_table_the_log_and_the_endpoint(demo_proc: DemoProc) -> None:
    rows_before = sql_value("recent-content", demo_proc)
    for check in ("recent-content", "error-logs", "api-latency"):
        demo_proc.set(check, "unknown")
    demo_proc.set("all", "ok")
    assert sql_value("recent-content", demo_proc) >= rows_before
    assert (demo_proc.data / "app.log").exists() and not (demo_proc.data / "app.log.held").exists()
    assert http_status("api-latency", demo_proc) is Status.OK


def sql_value(check: str, demo: DemoProc) -> int:
    with sqlite3.connect(demo.data / "app.db") as db:
        (value,) = db.execute(example()["checks"][check]["query"]).fetchone()
    assert isinstance(value, int)
    return value


@pytest.mark.parametrize(
    ("mode", "path"),
    [("critical", "/ping/nightly-backup/fail?key=k3y"), ("ok", "/ping/nightly-backup?key=k3y")],
    ids=["critical-sends-a-failure-ping", "ok-sends-a-success-ping"],
)
def test_the_heartbeat_modes_ping_checkrunner(demo_proc: DemoProc, mode: str, path: str) -> None:
    demo_proc.set("nightly-backup", mode)
    assert demo_proc.recorder.paths[-1] == path


# Through checkrunner's own config loader, runner and plugins: the demo and the product agree.
@pytest.fixture(scope="session")
def product(demo_proc: DemoProc) -> Config:
    env = {**os.environ, "API_BASE": demo_proc.base, "APP_DB_URL": f"sqlite:///{demo_proc.data / 'app.db'}"}
    return load_config(REPO / "schedules.yaml", env)


PRODUCT = [("api-latency", "critical"), ("api-health", "unknown"), ("delivery", "warning"),
           ("recent-content", "critical"), ("cert", "warning"), ("optimize-db", "critical")]  # fmt: skip


@pytest.mark.parametrize(("check", "mode"), PRODUCT, ids=[f"{c}-{m}" for c, m in PRODUCT])
async def test_checkrunner_itself_sees_the_mode(
    demo_proc: DemoProc, product: Config, check: str, mode: str
) -> None:
    spec = product.checks[check]
    if check == "cert":  # the example's fixed port 8443 and relative CA, moved to this demo
        options = {"port": demo_proc.tls_port, "ca_file": str(demo_proc.data / "ca.pem")}
        spec = replace(spec, options=spec.options.model_copy(update=options))
    demo_proc.set(check, mode)
    context = CheckContext(check=check, now=datetime.now(TZ), timeout=spec.timeout.total_seconds(),
                           base_dir=REPO, tz=TZ)  # fmt: skip
    outcome = await run_check(spec, context)
    assert outcome.result.status is Status.parse(mode), outcome.result.summary


def test_the_example_file_validates_with_checkrunner_without_warnings(product: Config) -> None:
    assert product.warnings == ()
    assert set(product.checks) == set(TARGETS)
