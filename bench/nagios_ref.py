"""nagios4's reference load: 500 HTTP checks every 10 s, nagios4 vs a real ``checkrunner run``.

Issue 3's target: at the load nagios4 was measured with (peer-bench/nagios4: 500 ``check_http``
services every 10 s against local nginx, 16.7 % of a core), checkrunner's total daemon CPU must
be <= 0.25x nagios4's and its start lateness p99 <= 10 ms. Both run here, one after the other,
against the same nginx (``servers.running``), over windows of the same length.

nagios4 (baseline): its own config in a temporary folder, written here the way the peer's
``gen_config.sh`` writes it (500 services, ``check_interval 10`` with ``interval_length=1``,
smart inter-check delay, so nagios spreads the checks over the interval), run in the
foreground as our child and stopped by PID. Run as root it drops to the ``nagios`` user, so its
folder is a world-traversable temporary folder of its own (not under the benchmark's 0700
one) owned by that user. CPU = utime+stime+cutime+cstime of the main process and its worker
processes (the workers fork ``check_http`` and reap it, so the plugins' CPU lands in their
cutime/cstime), as the peer's ``run_nagios4.py`` measures it. Checks/s and latency come from a
performance-data line that nagios writes per check (``$LASTSERVICECHECK$``: start, whole
seconds; ``$SERVICELATENCY$``: start - scheduled time, nagios' own lateness). The peer had
performance data off; one buffered line per check is small next to a fork+exec of check_http
(2.4 ms CPU), and it is nagios' nearest counterpart of storing a result.

checkrunner: 500 ``http`` checks on nginx's status JSON, each with its own ``every:``, which is
what a user moving these services from nagios writes (a check with ``every`` is a one-check
monitor). Two configs:

* **as written**: every check ``every: 10s``. Cadences align to midnight, so all 500 would be
  due at the same instant; the daemon spreads such a herd (more than 50 monitors sharing one
  cadence) by a stable offset per monitor within the period (scheduling/herds.py), as nagios
  spreads its checks. These are the headline rows.
* **spread periods**: check i ``every: 10 s·(0.95 + 0.1·i/500)`` (as the scheduler section
  spreads its monitors): the same mean rate, fire instants spread as nagios spreads them.

Per run: start the daemon, wait for ``started``, warm up, then measure over the window its
CPU (utime+stime+cutime+cstime from /proc), the results it stored (checks/s) and start
lateness = ``results.started_at - fires.scheduled_at`` from its store (readings.start_times);
fires still waiting when it stops count with their wait so far. The herd window opens half a
period after a herd instant, so it holds exactly ``window / 10 s`` herds.
"""

from __future__ import annotations

import contextlib
import grp
import math
import os
import pwd
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import scheduler
from configs import every_ms, write_config
from procs import BenchError, Daemon, children_of, progress, sleep_until, stop_pid
from readings import outcomes, results_between, start_times
from report import Row, Target, median, percentile
from servers import running

SERVICES = 500
PERIOD_S = 10.0
PLUGINS = Path("/usr/lib/nagios/plugins")
_TICK = os.sysconf("SC_CLK_TCK")
INSTALL = "apt-get install -y nagios4-core monitoring-plugins-basic"


@dataclass(frozen=True, slots=True)
class Params:
    #: checkrunner: seconds after ``started`` before the window (nagios gets ``nagios_warmup_s``:
    #: it schedules its first checks over one interval after start).
    warmup_s: float = 4.0
    nagios_warmup_s: float = 12.0
    #: The measured window, the same length for both; a multiple of the 10 s period.
    measure_s: float = 20.0
    runs: int = 2


def tree_cpu(pids: list[int]) -> float:
    """utime+stime+cutime+cstime of ``pids`` in seconds (a process that is gone counts 0)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += sum(int(field) for field in fields[11:15]) / _TICK
    return total


def nagios_binary() -> str | None:
    return (
        shutil.which("nagios4")
        or shutil.which("nagios")
        or next((path for path in ("/usr/sbin/nagios4", "/usr/sbin/nagios") if Path(path).exists()), None)
    )


def nagios_cfg(root: Path, user: str, group: str) -> str:
    """The main config: the peer's gen_config.sh settings, plus a query socket and a
    performance-data file in ``root`` (the Debian default socket path belongs to the system's
    nagios)."""
    var = root / "var"
    return f"""\
log_file={var}/nagios.log
cfg_file={root}/etc/objects.cfg
object_cache_file={var}/objects.cache
precached_object_file={var}/objects.precache
resource_file={root}/etc/resource.cfg
status_file={var}/status.dat
status_update_interval=5
nagios_user={user}
nagios_group={group}
check_external_commands=0
command_file={var}/rw/nagios.cmd
query_socket={var}/rw/nagios.qh
lock_file={var}/nagios.lock
temp_file={var}/nagios.tmp
temp_path={var}
check_result_path={var}/spool/checkresults
state_retention_file={var}/retention.dat
retain_state_information=0
interval_length=1
enable_notifications=0
enable_event_handlers=0
enable_flap_detection=0
process_performance_data=1
service_perfdata_file={var}/perf.tsv
service_perfdata_file_template=$LASTSERVICECHECK$\\t$SERVICELATENCY$\\t$SERVICESTATEID$
service_perfdata_file_mode=a
service_perfdata_file_processing_interval=0
execute_host_checks=0
execute_service_checks=1
accept_passive_service_checks=0
max_concurrent_checks=0
service_inter_check_delay_method=s
max_service_check_spread=1
service_interleave_factor=s
check_result_reaper_frequency=1
max_check_result_reaper_time=5
log_initial_states=0
log_service_retries=0
use_syslog=0
illegal_macro_output_chars=`~$&|'"<>
"""


def objects_cfg(port: int, services: int, period_s: float) -> str:
    """One host (not checked) and ``services`` check_http services every ``period_s``."""
    week = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
    days = "".join(f"  {day} 00:00-24:00\n" for day in week)
    head = f"""\
define command {{
  command_name check_nginx
  command_line $USER1$/check_http -H 127.0.0.1 -p {port} -u /status.json -e 200
}}
define command {{
  command_name noop
  command_line /bin/true
}}
define timeperiod {{
  timeperiod_name 24x7
  alias 24x7
{days}}}
define contact {{
  contact_name nobody
  host_notifications_enabled 0
  service_notifications_enabled 0
  host_notification_period 24x7
  service_notification_period 24x7
  host_notification_options n
  service_notification_options n
  host_notification_commands noop
  service_notification_commands noop
}}
define host {{
  host_name target
  address 127.0.0.1
  max_check_attempts 1
  check_period 24x7
  check_command noop
  active_checks_enabled 0
  contacts nobody
  notification_period 24x7
}}
"""
    service = """\
define service {{
  host_name target
  service_description http_{index}
  check_command check_nginx
  check_interval {period:g}
  retry_interval {period:g}
  max_check_attempts 1
  check_period 24x7
  contacts nobody
  notification_period 24x7
}}
"""
    return head + "".join(service.format(index=i, period=period_s) for i in range(1, services + 1))


def _identity() -> tuple[str, str]:
    """Who nagios runs as: run as root it refuses to stay root and drops to ``nagios``."""
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("nagios")
            grp.getgrnam("nagios")
        except KeyError as exc:
            raise BenchError(f"no 'nagios' user or group to run nagios4 as ({INSTALL})") from exc
        return "nagios", "nagios"
    return pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name


def write_nagios(root: Path, port: int) -> Path:
    """nagios4's folder tree and config under ``root``; returns the main config file."""
    user, group = _identity()
    for sub in ("etc", "var/rw", "var/spool/checkresults"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "etc" / "nagios.cfg").write_text(nagios_cfg(root, user, group))
    (root / "etc" / "resource.cfg").write_text(f"$USER1$={PLUGINS}\n")
    (root / "etc" / "objects.cfg").write_text(objects_cfg(port, SERVICES, PERIOD_S))
    if os.geteuid() == 0:
        root.chmod(0o755)
        uid, gid = pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid
        for path in [root, *root.rglob("*")]:
            os.chown(path, uid, gid)
    return root / "etc" / "nagios.cfg"


def nagios_run(port: int, params: Params) -> dict[str, float]:
    """nagios4 with 500 check_http services every 10 s against 127.0.0.1:``port``."""
    binary = nagios_binary()
    if binary is None or not (PLUGINS / "check_http").exists():
        raise BenchError(f"nagios4 or check_http is not installed ({INSTALL})")
    with tempfile.TemporaryDirectory(prefix="checkrunner-bench-nagios4-") as tmp:
        root = Path(tmp)
        config = write_nagios(root, port)
        verified = subprocess.run([binary, "-v", str(config)], capture_output=True, text=True, timeout=60)
        if verified.returncode != 0:
            problems = [line for line in verified.stdout.splitlines() if "Error" in line]
            raise BenchError(f"nagios4 -v refused the config: {(problems or ['?'])[0].strip()}")
        with (root / "out.log").open("wb") as out:
            proc = subprocess.Popen([binary, str(config)], stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 15
            while not children_of(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            if proc.poll() is not None or not children_of(proc.pid):
                tail = (root / "out.log").read_text(errors="replace").strip().splitlines()[-2:]
                raise BenchError(f"nagios4 did not start its workers: {' | '.join(tail)}")
            # Whole seconds: the performance-data lines carry the check's start in seconds.
            begin = float(math.ceil(time.time() + params.nagios_warmup_s))
            end = begin + params.measure_s
            sleep_until(begin)
            pids = [proc.pid, *children_of(proc.pid)]
            cpu0, wall0 = tree_cpu(pids), time.monotonic()
            sleep_until(end)
            cpu1, wall1 = tree_cpu(pids), time.monotonic()
            children = len(pids) - 1  # check workers and the command-file worker
        finally:
            stop_pid(proc, timeout=10)  # SIGTERM: nagios flushes the performance-data file
        lines = (root / "var" / "perf.tsv").read_text().splitlines()
    # One line per check: start (whole seconds), latency (seconds), state (0 = OK).
    latency_ms: list[float] = []
    states: list[int] = []
    for line in lines:
        parts = line.split("\t")
        if len(parts) == 3 and begin <= float(parts[0]) < end:
            latency_ms.append(float(parts[1]) * 1000)
            states.append(int(parts[2]))
    if not latency_ms:
        raise BenchError(f"nagios4 ran no check in the window ({len(lines)} performance-data lines)")
    return {
        "cpu_pct": 100 * (cpu1 - cpu0) / (wall1 - wall0),
        "checks_per_s": len(latency_ms) / (end - begin),
        "cpu_ms_per_check": 1000 * (cpu1 - cpu0) / len(latency_ms),
        "p99_ms": percentile(latency_ms, 99) or 0.0,
        "p50_ms": percentile(latency_ms, 50) or 0.0,
        "not_ok": float(sum(state != 0 for state in states)),
        "children": float(children),
    }


def statuses(db: Path, begin: float, end: float) -> int:
    """Results not ok among those started in [begin, end)."""
    low, high = (datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f") for t in (begin, end))
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM results WHERE started_at >= ? AND started_at < ? AND status != 0",
            (low, high),
        ).fetchone()
    return int(row[0])


def daemon_run(folder: Path, target: str, params: Params, aligned: bool, run: int) -> dict[str, float | None]:
    """checkrunner with 500 ``http`` checks, each with its own ``every`` (see the docstring)."""
    name = f"nagios-ref-{'herd' if aligned else 'spread'}-{run}"
    # The scheduler section's spread formula, with its job naming ("monitor:<check>").
    spread = scheduler.Params(jobs=SERVICES, period_s=PERIOD_S)
    checks = {
        f"c{i}": {
            "type": "http",
            "url": target,
            "every": f"{PERIOD_S:g}s" if aligned else every_ms(spread.period_ms(i, False)),
        }
        for i in range(SERVICES)
    }
    db = folder / f"{name}.db"
    config = write_config(folder, name, database=f"sqlite:///{db}", checks=checks, monitors={})
    with Daemon(config, stop_timeout=5) as daemon:
        daemon.wait_started(timeout=60)
        begin = time.time() + params.warmup_s
        if aligned:  # half a period after a herd instant: the window holds whole herds
            begin = (math.ceil(begin / PERIOD_S - 0.5) + 0.5) * PERIOD_S
        end = begin + params.measure_s
        sleep_until(begin)
        cpu0, wall0 = tree_cpu([daemon.pid]), time.monotonic()
        sleep_until(end)
        cpu1, wall1 = tree_cpu([daemon.pid]), time.monotonic()
        # Here check c<i> is its own job (an implicit monitor named after the check).
        due = scheduler.due_fires(spread, aligned, begin, end, prefix="c")
        expected = sum(len(times) for times in due.values())
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            settled = outcomes(db, begin, end)
            if settled["ran"] + settled["skipped"] + settled["missed"] >= expected:
                break
            time.sleep(0.5)
        stopped_at = time.time()
    measured = start_times(db, {job: job.split(":", 1)[1] for job in due}, due, stopped_at)
    late = measured.lateness_ms + measured.waiting_ms
    stored = results_between(db, begin, end)
    return {
        "cpu_pct": 100 * (cpu1 - cpu0) / (wall1 - wall0),
        "checks_per_s": stored / (end - begin),
        "cpu_ms_per_check": 1000 * (cpu1 - cpu0) / stored if stored else None,
        "p99_ms": percentile(late, 99),
        "p50_ms": percentile(late, 50),
        "not_ok": float(statuses(db, begin, end)),
        "not_run": float(expected - len(measured.lateness_ms)),
        "expected": float(expected),
    }


def measure(folder: Path, params: Params) -> list[Row]:
    nagios: list[dict[str, float]] = []
    ours: dict[bool, list[dict[str, float | None]]] = {True: [], False: []}
    missing = ""
    with running(folder) as servers:
        port = int(servers.target.split(":")[2].split("/")[0])
        for run in range(params.runs):
            if not missing:
                progress(f"nagios reference load run {run + 1}/{params.runs}: nagios4, {SERVICES} services")
                try:
                    nagios.append(nagios_run(port, params))
                except BenchError as exc:  # checkrunner's figures are still worth having
                    progress(f"nagios4 not measured: {exc}")
                    missing = f"not measured: {exc}"
            for aligned in (True, False):
                kind = "as written (every: 10s)" if aligned else "spread periods"
                progress(f"nagios reference load run {run + 1}/{params.runs}: checkrunner, {kind}")
                ours[aligned].append(daemon_run(folder, servers.target, params, aligned, run))
    return rows(nagios, ours, params, missing)


def rows(
    nagios: list[dict[str, float]],
    ours: dict[bool, list[dict[str, float | None]]],
    params: Params,
    missing: str,
) -> list[Row]:
    def med(results: list[dict[str, float | None]] | list[dict[str, float]], key: str) -> float | None:
        return median(result[key] for result in results)

    def counts(results: list[dict[str, float | None]] | list[dict[str, float]], key: str) -> str:
        return "/".join(f"{result[key] or 0:,.0f}" for result in results)

    load = f"({SERVICES} HTTP checks / {PERIOD_S:g} s)"
    parts = []
    if nagios:
        parts.append(
            f"nagios4: {SERVICES} check_http services every {PERIOD_S:g} s, spread by nagios; CPU = "
            f"utime+stime+cutime+cstime of its main process and {med(nagios, 'children'):.0f} children (its "
            f"check workers fork check_http) over {params.measure_s:g} s after a {params.nagios_warmup_s:g} s warm-up; "
            "latency = nagios' $SERVICELATENCY$ (start - scheduled) of every check in the window; non-OK "
            f"results per run {counts(nagios, 'not_ok')}"
        )
    if missing:
        parts.append(f"nagios4 {missing} (peer figure: 16.7 % of a core)")
    base = "; ".join(parts)
    notes = {
        True: f"checkrunner as a user writes it: {SERVICES} http checks each `every: {PERIOD_S:g}s` on the "
        f"same nginx; cadences align to midnight, so all {SERVICES} are due at one instant (a herd every "
        f"{PERIOD_S:g} s). CPU = utime+stime+cutime+cstime of the daemon over the same-length window; "
        "lateness = results.started_at - fires.scheduled_at from its store (fires still waiting at the "
        f"stop count with their wait so far); fires not run per run {counts(ours[True], 'not_run')}, "
        f"non-OK results {counts(ours[True], 'not_ok')}",
        False: f"spread periods: check i `every: {PERIOD_S:g} s·(0.95 + 0.1·i/{SERVICES})` (same mean rate, "
        f"fire instants spread as nagios spreads them); fires not run per run {counts(ours[False], 'not_run')}, "
        f"non-OK results {counts(ours[False], 'not_ok')}",
    }
    out: list[Row] = []
    for aligned, title in (
        (True, "nagios4 reference load"),
        (False, "nagios4 reference load, spread periods"),
    ):
        results = ours[aligned]
        out += [
            Row(
                f"{title} {load}: CPU vs nagios4",
                med(results, "cpu_pct"),
                med(nagios, "cpu_pct"),
                "%",
                Target(0.25, on="ratio", text="<= 0.25x nagios4"),
                note=notes[aligned],
            ),
            Row(
                f"{title}: start lateness p99",
                med(results, "p99_ms"),
                med(nagios, "p99_ms"),
                "ms",
                Target(10, text="<= 10 ms"),
                note=base,
            ),
            Row(
                f"{title}: CPU per check",
                med(results, "cpu_ms_per_check"),
                med(nagios, "cpu_ms_per_check"),
                "ms",
            ),
            Row(
                f"{title}: checks/s",
                med(results, "checks_per_s"),
                med(nagios, "checks_per_s"),
                "checks/s",
            ),
        ]
    return out
