"""The command check with real subprocesses: exit codes, values, limits, and process groups
that die with the check (timeout, cancellation, leftovers)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from checkrunner.core.result import Observation
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext, CheckPlugin
from checkrunner.plugins.registry import discover
from tests.processes import is_gone, pid_in, read_pid, wait_gone

PLUGIN: CheckPlugin[Any] = discover(entry_points_too=False).get("command")  # type: ignore[assignment]
PY = sys.executable


def ctx(base_dir: Path, timeout: float = 5.0) -> CheckContext:
    return CheckContext(check="t", now=datetime.now(UTC), timeout=timeout, base_dir=base_dir)


async def run(raw: dict[str, Any], base_dir: Path, limit_s: float = 5.0) -> Observation:
    return await PLUGIN.run(PLUGIN.Options.model_validate(raw), ctx(base_dir, limit_s))


def sh(script: str) -> list[str]:
    return ["/bin/sh", "-c", script]


# --- processes that must not outlive the check ------------------------------------------


@pytest.fixture
def spawned(tmp_path: Path) -> Any:
    """Pid files the scripts write; whatever a failed test left running is killed here."""
    files: list[Path] = []

    def pidfile(name: str) -> Path:
        path = tmp_path / f"{name}.pid"
        files.append(path)
        return path

    yield pidfile
    for path in files:
        if (pid := pid_in(path)) is not None and not is_gone(pid):
            os.kill(pid, signal.SIGKILL)


# --- options ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"run": "echo hi"}, "give run: as a list [prog, arg, …]; commands never run in a shell"),
        ({"run": []}, "at least 1 item"),
        ({"run": ["true"], "exit_codes": {1: "bad"}}, "unknown status 'bad'"),
        ({"run": ["true"], "exit_codes": {"x": "ok"}}, "exit code 'x' is not a number 0..255"),
        ({"run": ["true"], "exit_codes": {256: "ok"}}, "exit code 256 is not a number 0..255"),
        ({"run": ["true"], "value": {"perfdata": "time"}}, "a command's value is {regex: ...}"),
        ({"run": ["true"], "value": {"regex": "(unclosed"}}, "invalid regex"),
        ({"run": ["true"], "value": {"regex": "(a)(b)"}}, "exactly one capture group"),
        ({"run": ["true"], "value": "$[?(@"}, "invalid JSONPath"),
        ({"run": ["true"], "max_output": "lots"}, "expected a positive size"),
        ({"run": ["true"], "max_output": 0}, "expected a positive size"),
        ({"run": ["true"], "shell": True}, "Extra inputs are not permitted"),
    ],
    ids=[
        "a string run is refused because nothing runs in a shell",
        "an empty run is refused",
        "an unknown status name is refused",
        "a non-numeric exit code is refused",
        "an exit code above 255 is refused",
        "a perfdata value is refused",
        "a regex that does not compile is refused",
        "a regex with two groups is refused",
        "a JSONPath that does not parse is refused",
        "a size without a number is refused",
        "a zero size is refused",
        "an unknown key is refused",
    ],
)
def test_invalid_options_are_config_errors(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PLUGIN.Options.model_validate(raw)
    assert message in str(caught.value)


def test_options_read_yaml_numbers_and_sizes_as_a_person_means_them() -> None:
    options = PLUGIN.Options.model_validate(
        {"run": ["sleep", 5], "env": {"RETRIES": 3}, "exit_codes": {"1": "warning"}, "max_output": "1KiB"}
    )
    assert options.run == ["sleep", "5"]
    assert options.env == {"RETRIES": "3"}
    assert options.exit_codes == {1: Status.WARNING}
    assert options.max_output == 1024


def test_option_errors_do_not_echo_secret_input() -> None:
    with pytest.raises(ValidationError) as caught:
        PLUGIN.Options.model_validate({"run": "echo", "env": {"API_TOKEN": "hunter2-secret"}})
    assert "hunter2-secret" not in str(caught.value)


# --- outcomes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "status", "summary", "value"),
    [
        ({"run": sh("echo hello; echo world")}, Status.OK, "hello (exit 0)", None),
        ({"run": sh("echo failed; exit 1")}, Status.CRITICAL, "failed (exit 1)", None),
        (
            {"run": sh("echo slow; exit 1"), "exit_codes": {1: "warning"}},
            Status.WARNING,
            "slow (exit 1)",
            None,
        ),
        ({"run": sh("exit 7"), "exit_codes": {1: "warning"}}, Status.CRITICAL, "exit 7, no output", None),
        ({"run": sh("exit 0"), "exit_codes": {0: "critical"}}, Status.CRITICAL, "exit 0, no output", None),
        ({"run": sh("echo boom >&2; exit 2")}, Status.CRITICAL, "boom (exit 2)", None),
        ({"run": sh("echo; echo '  second  '")}, Status.OK, "second (exit 0)", None),
        (
            {"run": sh("echo rate=97.5%"), "value": {"regex": r"rate=([\d.]+)"}},
            Status.OK,
            "rate=97.5% (exit 0)",
            97.5,
        ),
        (
            {"run": sh('echo \'{"a": {"b": 3}}\''), "value": "$.a.b"},
            Status.OK,
            '{"a": {"b": 3}} (exit 0)',
            3.0,
        ),
        (
            {"run": sh("echo nothing here"), "value": {"regex": r"rate=(\d+)"}},
            Status.UNKNOWN,
            r"regex rate=(\d+) matched nothing in the output (exit 0)",
            None,
        ),
        (
            {"run": sh("echo not json"), "value": "$.a"},
            Status.UNKNOWN,
            "output is not JSON, cannot apply JSONPath $.a (exit 0)",
            None,
        ),
        (
            {"run": sh("echo down; exit 2"), "value": {"regex": r"rate=(\d+)"}},
            Status.CRITICAL,
            "down (exit 2)",
            None,
        ),
        ({"run": sh("kill -KILL $$")}, Status.CRITICAL, "killed by SIGKILL", None),
    ],
    ids=[
        "exit 0 is ok and the summary is the first line",
        "a non-zero exit is critical",
        "exit_codes turns exit 1 into a warning",
        "a code exit_codes does not name stays critical",
        "exit_codes can invert exit 0",
        "stderr is the summary when stdout is empty",
        "blank lines are skipped for the summary",
        "a regex value reads the number",
        "a JSONPath value reads stdout as JSON",
        "a regex that matches nothing is unknown",
        "a JSONPath over text output is unknown",
        "a missing value does not hide a critical exit",
        "death by a signal is critical",
    ],
)
async def test_exit_code_and_output_decide_the_observation(
    raw: dict[str, Any], status: Status, summary: str, value: float | None, tmp_path: Path
) -> None:
    observation = await run(raw, tmp_path)
    assert (observation.status, observation.summary, observation.value) == (status, summary, value)


async def test_metrics_and_detail_carry_exit_code_and_both_streams(tmp_path: Path) -> None:
    observation = await run({"run": sh("echo out; echo err >&2; exit 3")}, tmp_path)
    assert observation.metrics == {"exit_code": 3.0}
    assert observation.detail == "stdout:\nout\nstderr:\nerr"


async def test_a_signal_is_reported_as_the_shell_exit_code(tmp_path: Path) -> None:
    observation = await run({"run": sh("kill -TERM $$")}, tmp_path)
    assert (observation.summary, observation.metrics) == ("killed by SIGTERM", {"exit_code": 143.0})


@pytest.mark.parametrize(
    ("run_", "cwd", "summary"),
    [
        (["no-such-program-xyz"], None, "command not found: no-such-program-xyz"),
        (["./data.txt"], None, "permission denied: ./data.txt (not executable?)"),
        (["true"], "missing", "working directory not found: {tmp}/missing"),
    ],
    ids=["a missing program", "a file without the execute bit", "a missing working directory"],
)
async def test_a_program_that_cannot_start_is_unknown(
    run_: list[str], cwd: str | None, summary: str, tmp_path: Path
) -> None:
    (tmp_path / "data.txt").write_text("not a program\n")
    observation = await run({"run": run_, "cwd": cwd}, tmp_path)
    assert observation.status is Status.UNKNOWN
    assert observation.summary == summary.format(tmp=tmp_path)


async def test_relative_paths_resolve_against_the_config_folder_and_cwd(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "probe.py").write_text("import os; print('in', os.path.basename(os.getcwd()))\n")
    from_base = await run({"run": [PY, "scripts/probe.py"]}, tmp_path)
    from_cwd = await run({"run": [PY, "probe.py"], "cwd": "scripts"}, tmp_path)
    assert from_base.summary == f"in {tmp_path.name} (exit 0)"
    assert from_cwd.summary == "in scripts (exit 0)"


async def test_env_is_added_and_secret_named_values_are_masked(tmp_path: Path) -> None:
    raw = {
        "run": sh('echo "$GREETING $API_TOKEN"; echo "$HOME" >&2'),
        "env": {"GREETING": "hi", "API_TOKEN": "s3cr3t-t0ken"},
    }
    observation = await run(raw, tmp_path)
    assert observation.summary == "hi **** (exit 0)"
    assert "s3cr3t-t0ken" not in (observation.detail or "")
    assert os.environ["HOME"] in (observation.detail or "")  # the daemon's environment is kept


async def test_output_beyond_max_output_is_drained_not_buffered(tmp_path: Path) -> None:
    # 4 MB through a 64 KiB pipe: a reader that stopped would deadlock the writer.
    raw = {"run": [PY, "-c", "import sys; sys.stdout.write('x' * 4_000_000); print('END', file=sys.stderr)"]}
    observation = await run({**raw, "max_output": "1KiB"}, tmp_path)
    assert observation.status is Status.OK
    assert observation.detail is not None
    assert observation.detail.startswith("stdout (first 1024 of 4000000 bytes):\n" + "x" * 100)
    assert observation.detail.endswith("stderr:\nEND")


# --- process groups -----------------------------------------------------------------------


async def test_timeout_kills_the_whole_process_group(tmp_path: Path, spawned: Any) -> None:
    pidfile = spawned("grandchild")
    script = f"sleep 30 & echo $! > {pidfile}; sleep 30"
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"^timed out after 0\.5s; process group killed$"):
        await run({"run": sh(script)}, tmp_path, limit_s=0.5)
    assert time.monotonic() - started < 2.0
    assert await wait_gone(await read_pid(pidfile))


async def test_children_ignoring_sigterm_are_killed_after_the_grace(tmp_path: Path, spawned: Any) -> None:
    pidfile = spawned("stubborn")
    script = f"trap '' TERM; sleep 30 & echo $! > {pidfile}; wait; sleep 30"
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await run({"run": sh(script)}, tmp_path, limit_s=0.3)
    assert time.monotonic() - started < 2.5
    assert await wait_gone(await read_pid(pidfile))


async def test_cancellation_kills_the_whole_process_group(tmp_path: Path, spawned: Any) -> None:
    pidfile = spawned("cancelled")
    task = asyncio.create_task(run({"run": sh(f"sleep 30 & echo $! > {pidfile}; sleep 30")}, tmp_path))
    pid = await read_pid(pidfile)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_gone(pid)


@pytest.mark.parametrize(
    "script",
    [
        "sleep 30 > /dev/null 2>&1 & echo $! > {pidfile}; echo started",
        "sleep 30 & echo $! > {pidfile}; echo started",
    ],
    ids=["a background child that closed the pipes", "a background child that holds the pipes"],
)
async def test_leftover_children_die_when_the_program_exits(
    script: str, tmp_path: Path, spawned: Any
) -> None:
    pidfile = spawned("leftover")
    started = time.monotonic()
    observation = await run({"run": sh(script.format(pidfile=pidfile))}, tmp_path)
    assert observation.summary == "started (exit 0)"
    assert time.monotonic() - started < 1.5  # the held pipe does not wait for the child
    assert await wait_gone(await read_pid(pidfile))
