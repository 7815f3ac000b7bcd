"""Running a program for a check plugin: argv only (never a shell), bounded output, and the
whole process group killed on timeout or cancellation.

Shared by the ``command`` and ``nagios`` check types. ``run_process`` raises ``CannotStart``
(one-line message) when the program cannot be started, and the builtin ``TimeoutError`` when
it ran out of time (the group is then already killed and reaped).

Two ways to spawn, one supervision (``_supervise``: the time limit, draining output after the
exit, killing the group): :mod:`checkrunner.plugins.pidfd` (vfork, a pidfd and pipe readers on
the loop, no thread per child) wherever ``pidfd_open`` works, and asyncio's subprocess
transport (``run_process_fallback``) where it does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from checkrunner.core.redact import SECRET_FIELD, Redactor
from checkrunner.core.result import bounded
from checkrunner.plugins import pidfd


def argv_list(raw: Any) -> Any:
    """``run:`` as a list of strings; a string is refused because nothing runs in a shell."""
    if isinstance(raw, str):
        raise ValueError("give run: as a list [prog, arg, …]; commands never run in a shell")
    if isinstance(raw, list | tuple):
        # YAML reads `[sleep, 5]` with an int; an argument is text either way.
        return [
            str(item) if isinstance(item, int | float) and not isinstance(item, bool) else item
            for item in raw
        ]
    return raw


def env_mapping(raw: Any) -> Any:
    if isinstance(raw, Mapping):
        return {
            key: str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
            for key, value in raw.items()
        }
    return raw


def env_redactor(env: Mapping[str, str]) -> Redactor:
    """Masks the values of secret-named variables (API_TOKEN, DB_PASSWORD …) in output."""
    return Redactor(value for name, value in env.items() if SECRET_FIELD.search(name))


#: Seconds between SIGTERM and SIGKILL when a process group is stopped.
KILL_GRACE = 0.5
#: Seconds to collect output after the program exits before leftovers of its group are killed.
DRAIN_AFTER_EXIT = 0.2


class CannotStart(Exception):
    """The program could not be started; the message is the one-line summary."""


@dataclass(frozen=True, slots=True)
class Finished:
    returncode: int  # negative -N when killed by signal N (asyncio's convention)
    stdout: bytes
    stderr: bytes
    stdout_total: int  # bytes written, including what was discarded beyond the cap
    stderr_total: int

    @property
    def stdout_text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", errors="replace")

    @property
    def signal_name(self) -> str | None:
        if self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"

    @property
    def exit_code(self) -> int:
        return 128 - self.returncode if self.returncode < 0 else self.returncode

    def detail(self, stdout: str, stderr: str) -> str | None:
        parts = []
        for name, text, kept, total in (
            ("stdout", stdout, len(self.stdout), self.stdout_total),
            ("stderr", stderr, len(self.stderr), self.stderr_total),
        ):
            if text.strip():
                cut = f" (first {kept} of {total} bytes)" if total > kept else ""
                parts.append(f"{name}{cut}:\n{text.strip()}")
        return bounded("\n".join(parts)) if parts else None


class _Running(Protocol):
    """What supervising needs of a started program, whichever way it was spawned."""

    @property
    def pid(self) -> int: ...  # also its process group id (own session)
    @property
    def returncode(self) -> int | None: ...  # set once reaped
    @property
    def exited(self) -> asyncio.Future[None]: ...  # done once reaped
    @property
    def closed(self) -> asyncio.Future[None]: ...  # done once both pipes reached EOF
    @property
    def kept(self) -> list[bytearray]: ...  # [stdout, stderr], first max_output bytes
    @property
    def total(self) -> list[int]: ...  # [stdout, stderr], every byte written

    def close(self) -> None: ...


async def run_process(
    argv: list[str], cwd: Path, env: Mapping[str, str], limit_s: float, max_output: int
) -> Finished:
    """Run ``argv`` in its own session and return when it has exited.

    Raises CannotStart (not found, not executable, missing cwd) or TimeoutError after
    ``limit_s`` seconds. On timeout, cancellation or exit, the whole process group is
    killed, so no background child outlives the check. Uses the pidfd path (no thread per
    child) where the kernel allows it, asyncio's subprocess machinery otherwise.
    """
    if not pidfd.available():
        return await run_process_fallback(argv, cwd, env, limit_s, max_output)
    try:
        child = pidfd.spawn(argv, cwd, {**os.environ, **env} if env else None, max_output)
    except OSError as exc:
        raise _cannot_start(exc, argv, cwd) from None
    return await _supervise(child, limit_s)


async def run_process_fallback(
    argv: list[str], cwd: Path, env: Mapping[str, str], limit_s: float, max_output: int
) -> Finished:
    """``run_process`` through asyncio's subprocess transport and child watcher (in 3.11 a
    thread per child): for kernels without pidfd_open (< 5.3) or sandboxes that refuse it.
    Same contract; about twice the parent CPU per spawn."""
    loop = asyncio.get_running_loop()
    try:
        _, capture = await loop.subprocess_exec(
            lambda: _Capture(max_output, loop),
            *argv,
            cwd=cwd,
            env={**os.environ, **env} if env else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: one killpg reaches every descendant
        )
    except OSError as exc:
        raise _cannot_start(exc, argv, cwd) from None
    return await _supervise(capture, limit_s)


def _cannot_start(exc: OSError, argv: list[str], cwd: Path) -> CannotStart:
    if isinstance(exc, FileNotFoundError):
        # subprocess names the cwd in the error when chdir failed, the program otherwise.
        if exc.filename is not None and os.fspath(exc.filename) == os.fspath(cwd):
            return CannotStart(f"working directory not found: {cwd}")
        return CannotStart(f"command not found: {argv[0]}")
    if isinstance(exc, PermissionError):
        return CannotStart(f"permission denied: {argv[0]} (not executable?)")
    return CannotStart(f"cannot execute {argv[0]}: {exc.strerror or exc}")


async def _supervise(child: _Running, limit_s: float) -> Finished:
    """Wait for the exit and the end of output within ``limit_s``, then kill what is left."""
    pgid = child.pid
    try:
        # asyncio.wait never cancels what it waits for, so the futures outlive a timeout.
        async with asyncio.timeout(limit_s):
            if not child.exited.done():
                await asyncio.wait([child.exited])
            if not child.closed.done():
                _, open_pipes = await asyncio.wait([child.closed], timeout=DRAIN_AFTER_EXIT)
                if open_pipes:
                    # A background child still holds the pipes: it dies with the check.
                    _signal_group(pgid, signal.SIGKILL)
                    await asyncio.wait([child.closed])
    except TimeoutError:
        await _stop_group(pgid, child)
        raise TimeoutError(f"timed out after {limit_s:g}s; process group killed") from None
    except BaseException:
        await _stop_group(pgid, child)
        raise
    finally:
        child.close()
    # Children that closed their pipes and stayed behind are not the check's to keep.
    _signal_group(pgid, signal.SIGKILL)
    returncode = child.returncode
    assert returncode is not None
    return Finished(returncode, bytes(child.kept[0]), bytes(child.kept[1]), child.total[0], child.total[1])


class _Capture(asyncio.SubprocessProtocol):
    """The fallback's protocol: keeps the first ``cap`` bytes of stdout (fd 1) and stderr
    (fd 2) and drops the rest as it arrives, so the pipes never fill (the program never
    blocks) and memory stays bounded. No reader tasks: the event loop feeds it directly."""

    def __init__(self, cap: int, loop: asyncio.AbstractEventLoop) -> None:
        self.cap = cap
        self.kept = [bytearray(), bytearray()]
        self.total = [0, 0]
        self.transport: asyncio.SubprocessTransport | None = None
        self.exited: asyncio.Future[None] = loop.create_future()
        #: Done when the program has exited and every pipe is closed.
        self.closed: asyncio.Future[None] = loop.create_future()

    @property
    def pid(self) -> int:
        assert self.transport is not None
        return self.transport.get_pid()

    @property
    def returncode(self) -> int | None:
        assert self.transport is not None
        return self.transport.get_returncode()

    def close(self) -> None:
        assert self.transport is not None
        self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self.transport = transport

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self.total[fd - 1] += len(data)
        kept = self.kept[fd - 1]
        if len(kept) < self.cap:
            kept += data[: self.cap - len(kept)]

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    # With start_new_session the group id is the leader's pid, and Linux keeps that number
    # reserved while any member lives, so this reaches only our descendants.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


async def _stop_group(pgid: int, child: _Running) -> None:
    """SIGTERM the group, SIGKILL it after KILL_GRACE, wait (bounded) for the leader to be
    reaped and the pipes to close."""
    _signal_group(pgid, signal.SIGTERM)
    try:
        await asyncio.wait([child.exited], timeout=KILL_GRACE)
    finally:
        # Also when the leader obeyed: a grandchild may ignore SIGTERM or outlive it.
        _signal_group(pgid, signal.SIGKILL)
        # The pipes can reach EOF before the killed leader's exit is seen: wait for both, so
        # it is reaped before we return. Only a process that left our group (setsid) could
        # keep the pipes open now, and nothing outlives SIGKILL but a stuck (D state) leader.
        await asyncio.wait([child.exited, child.closed], timeout=KILL_GRACE)
