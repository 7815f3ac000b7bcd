"""run_process with real subprocesses, through both spawn paths: the pidfd one (no thread per
child) and the asyncio fallback, called directly. Output caps and totals, separate streams,
process groups that die on timeout and cancellation, no leaked descriptors, threads or zombies."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from checkrunner.plugins import pidfd
from checkrunner.plugins.process import (
    DRAIN_AFTER_EXIT,
    KILL_GRACE,
    CannotStart,
    Finished,
    run_process,
    run_process_fallback,
)
from tests.processes import is_gone, pid_in, read_pid, wait_gone

PY = sys.executable
Runner = Callable[..., Awaitable[Finished]]
needs_pidfd = pytest.mark.skipif(not pidfd.available(), reason="pidfd_open is unavailable here")


@pytest.fixture(
    params=[
        pytest.param(run_process, marks=needs_pidfd, id="pidfd"),
        pytest.param(run_process_fallback, id="fallback"),
    ]
)
def runner(request: pytest.FixtureRequest, tmp_path: Path) -> Runner:
    """``run(argv, limit_s=5, cap=64 KiB, cwd=tmp_path, env={})`` through one spawn path."""
    spawn: Any = request.param

    async def run(
        argv: list[str], limit_s: float = 5.0, cap: int = 65536, cwd: Path | None = None, env: Any = None
    ) -> Finished:
        result: Finished = await spawn(argv, cwd or tmp_path, env or {}, limit_s, cap)
        return result

    return run


def sh(script: str) -> list[str]:
    return ["/bin/sh", "-c", script]


def is_reaped(pid: int) -> bool:
    """True when ``pid`` has been waited for: not even a zombie is left (our own children)."""
    return not Path(f"/proc/{pid}").exists()


@pytest.fixture
def pidfiles(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Pid files the scripts write; whatever a failed test left running is killed here."""
    made: list[Path] = []

    def pidfile(name: str) -> Path:
        made.append(tmp_path / f"{name}.pid")
        return made[-1]

    yield pidfile
    for path in made:
        if (pid := pid_in(path)) is not None and not is_gone(pid):
            os.kill(pid, signal.SIGKILL)


def our_zombies() -> list[int]:
    """Children of this process that exited and were never waited for."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if fields[0] == "Z" and int(fields[1]) == me:
                found.append(int(entry.name))
    return found


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def settled(before: int, within: float = 2.0) -> tuple[int, list[int]]:
    """Open descriptors and our zombies, once back to ``before`` and none (or at the
    deadline): the fallback's transports close their pipes a loop iteration after close()."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if open_fds() == before and not our_zombies():
            break
        await asyncio.sleep(0.02)
    return open_fds(), our_zombies()


# --- output ---------------------------------------------------------------------------------


async def test_output_beyond_the_cap_is_counted_and_drained(runner: Runner) -> None:
    # 5 MB through a 64 KiB pipe before anything reaches stderr: a reader that stopped
    # reading past the cap would leave the writer blocked until the time limit.
    script = "import sys; sys.stdout.buffer.write(b'o' * 5_000_000); sys.stderr.buffer.write(b'e' * 300_000)"
    done = await runner([PY, "-c", script], cap=1000)
    assert (done.returncode, done.stdout_total, done.stderr_total) == (0, 5_000_000, 300_000)
    assert (done.stdout, done.stderr) == (b"o" * 1000, b"e" * 1000)


async def test_stdout_and_stderr_stay_separate_and_stdin_is_empty(runner: Runner) -> None:
    script = "echo out1; echo err1 >&2; if read line; then echo got; else echo eof; fi; echo err2 >&2"
    done = await runner(sh(script))
    assert (done.stdout, done.stderr) == (b"out1\neof\n", b"err1\nerr2\n")
    assert (done.stdout_total, done.stderr_total) == (len(done.stdout), len(done.stderr))


async def test_cwd_and_env_reach_the_program(runner: Runner, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    done = await runner(
        sh('pwd; echo "$GREETING"; echo "$HOME"'), cwd=tmp_path / "sub", env={"GREETING": "hi"}
    )
    assert done.stdout_text.splitlines() == [str(tmp_path / "sub"), "hi", os.environ["HOME"]]


@pytest.mark.parametrize(
    ("script", "returncode", "signal_name"),
    [("exit 3", 3, None), ("kill -TERM $$", -signal.SIGTERM, "SIGTERM"), ("kill -KILL $$", -9, "SIGKILL")],
    ids=["an exit code", "death by SIGTERM is negative", "death by SIGKILL is negative"],
)
async def test_returncode_follows_the_exit_or_the_signal(
    runner: Runner, script: str, returncode: int, signal_name: str | None
) -> None:
    done = await runner(sh(script))
    assert (done.returncode, done.signal_name) == (returncode, signal_name)


@pytest.mark.parametrize(
    ("argv", "cwd", "message"),
    [
        (["no-such-program-xyz"], None, "command not found: no-such-program-xyz"),
        (["./data.txt"], None, "permission denied: ./data.txt (not executable?)"),
        (["true"], "missing", "working directory not found: {tmp}/missing"),
        (["true"], "data.txt", "cannot execute true: Not a directory"),
    ],
    ids=["a missing program", "a file without the execute bit", "a missing cwd", "a cwd that is a file"],
)
async def test_a_program_that_cannot_start_raises_cannot_start(
    runner: Runner, argv: list[str], cwd: str | None, message: str, tmp_path: Path
) -> None:
    (tmp_path / "data.txt").write_text("not a program\n")
    with pytest.raises(CannotStart) as caught:
        await runner(argv, cwd=tmp_path / cwd if cwd else None)
    assert str(caught.value) == message.format(tmp=tmp_path)


# --- process groups -------------------------------------------------------------------------


async def test_timeout_kills_a_group_whose_members_ignore_sigterm(
    runner: Runner, pidfiles: Callable[[str], Path]
) -> None:
    leader, grandchild = pidfiles("leader"), pidfiles("grandchild")
    # An ignored signal stays ignored across fork and exec: the shell and its sleep both
    # shrug off SIGTERM, so only the SIGKILL after KILL_GRACE ends them.
    script = f"trap '' TERM; echo $$ > {leader}; sleep 30 & echo $! > {grandchild}; wait; sleep 30"
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"^timed out after 0\.3s; process group killed$"):
        await runner(sh(script), limit_s=0.3)
    elapsed = time.monotonic() - started
    assert 0.3 + KILL_GRACE <= elapsed < 2.5  # SIGTERM first, SIGKILL after the grace
    assert is_reaped(await read_pid(leader))
    assert await wait_gone(await read_pid(grandchild))


async def test_a_timeout_returns_only_once_every_killed_leader_is_reaped(
    runner: Runner, pidfiles: Callable[[str], Path]
) -> None:
    # Pipes closed before the end (here: at once) must not let the stop return before the
    # killed leader's exit is seen: that would leave a zombie, and an unreaped child when
    # the loop closes. Several at once, each ignoring SIGTERM until the SIGKILL.
    leaders = [pidfiles(f"leader{i}") for i in range(5)]

    async def one(leader: Path) -> bool:
        script = f"trap '' TERM; echo $$ > {leader}; exec >/dev/null 2>&1; sleep 30 & wait"
        with pytest.raises(TimeoutError):
            await runner(sh(script), limit_s=0.2)
        pid = pid_in(leader)
        return pid is not None and is_reaped(pid)  # at once: no loop iteration in between

    async with asyncio.timeout(30):
        assert await asyncio.gather(*(one(leader) for leader in leaders)) == [True] * len(leaders)


async def test_cancellation_kills_and_reaps_the_group(
    runner: Runner, pidfiles: Callable[[str], Path]
) -> None:
    leader, grandchild = pidfiles("leader"), pidfiles("grandchild")
    task = asyncio.create_task(runner(sh(f"echo $$ > {leader}; sleep 30 & echo $! > {grandchild}; sleep 30")))
    grandchild_pid = await read_pid(grandchild)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert is_reaped(await read_pid(leader))
    assert await wait_gone(grandchild_pid)


@pytest.mark.parametrize(
    "script",
    [
        "sleep 30 & echo $! > {pidfile}; echo started",
        "sleep 30 >/dev/null 2>&1 & echo $! > {pidfile}; echo started",
    ],
    ids=["a background child holding the pipes", "a background child that closed them"],
)
async def test_leftover_children_die_when_the_program_exits(
    runner: Runner, pidfiles: Callable[[str], Path], script: str
) -> None:
    pidfile = pidfiles("leftover")
    started = time.monotonic()
    done = await runner(sh(script.format(pidfile=pidfile)))
    assert (done.returncode, done.stdout) == (0, b"started\n")
    assert time.monotonic() - started < DRAIN_AFTER_EXIT + 1.0  # the held pipe is not waited for
    assert await wait_gone(await read_pid(pidfile))


async def test_a_child_that_left_the_group_cannot_hold_the_check_or_its_pipes(
    runner: Runner, pidfiles: Callable[[str], Path]
) -> None:
    # setsid puts the child out of reach of killpg: the check waits for the pipes until its
    # limit, then stops reading; the pipes are closed on our side all the same.
    escaped = pidfiles("escaped")
    await runner(["/bin/true"])  # first use opens what stays open (the shared /dev/null)
    before = open_fds()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await runner(sh(f"setsid sh -c 'echo $$ > {escaped}; exec sleep 30' & echo started"), limit_s=0.5)
    assert time.monotonic() - started < 0.5 + KILL_GRACE + 1.0
    assert await settled(before) == (before, [])
    os.kill(await read_pid(escaped), signal.SIGKILL)


# --- resources ------------------------------------------------------------------------------


async def test_no_descriptor_or_zombie_is_left_after_200_runs(runner: Runner, tmp_path: Path) -> None:
    await runner(["/bin/true"])  # first use opens what stays open (the shared /dev/null)
    before = open_fds()

    async def one(i: int) -> None:
        kind = i % 20
        if kind == 0:
            with pytest.raises(TimeoutError):
                await runner(["sleep", "5"], limit_s=0.05)
        elif kind == 1:
            with pytest.raises(CannotStart):
                await runner(["true"], cwd=tmp_path / "missing")
        elif kind == 2:
            task = asyncio.create_task(runner(["sleep", "5"]))
            await asyncio.sleep(0.02)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        else:
            done = await runner(sh(f"echo {i}; echo e{i} >&2"))
            assert (done.stdout, done.stderr) == (f"{i}\n".encode(), f"e{i}\n".encode())

    async with asyncio.timeout(60):
        for first in range(0, 200, 10):
            await asyncio.gather(*(one(i) for i in range(first, first + 10)))
        leftovers = await settled(before)
    assert leftovers == (before, [])


async def test_200_concurrent_short_spawns_finish_in_bounded_time(runner: Runner, request: Any) -> None:
    threads_before, most_threads = threading.active_count(), 0
    gate = asyncio.Semaphore(20)

    async def one(i: int) -> bytes:
        nonlocal most_threads
        async with gate:
            running = asyncio.create_task(runner(["/bin/echo", str(i)]))
            await asyncio.sleep(0)  # the program has been spawned and is in flight now
            most_threads = max(most_threads, threading.active_count())
            return (await running).stdout

    started = time.monotonic()
    async with asyncio.timeout(60):
        outputs = await asyncio.gather(*(one(i) for i in range(200)))
    assert outputs == [f"{i}\n".encode() for i in range(200)]
    assert time.monotonic() - started < 30.0
    if request.node.callspec.id == "pidfd":
        assert most_threads == threads_before  # no thread per child
    else:
        assert most_threads > threads_before  # asyncio's watcher: the check above can fail


def test_the_pidfd_path_is_used_on_linux_5_3_and_later() -> None:
    major, minor = (int(part) for part in os.uname().release.split(".")[:2])
    if (major, minor) < (5, 3):
        pytest.skip("pidfd_open arrived in Linux 5.3")
    assert pidfd.available()
