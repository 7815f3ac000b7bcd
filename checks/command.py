"""``type: command``: run a program (never a shell) and judge it by its exit code.

Options::

    run: [python3, scripts/monitoring_commands.py, delivery]   # argv list; relative paths
                                                               # resolve against cwd
    cwd: scripts            # relative to the folder of schedules.yaml (the default)
    env: {API_TOKEN: "…"}   # added to the daemon's environment; secret-named values masked
    exit_codes: {1: warning}                # default: 0 = ok, anything else = critical
    value: {regex: "rate=([0-9.]+)"}        # or a JSONPath into stdout parsed as JSON
    max_output: 64KiB       # per stream; the rest is read and discarded, never buffered

Outcome: the status that ``exit_codes`` gives the exit code (a signal is critical: "killed
by SIGTERM"); summary = first line of stdout (stderr when stdout is empty) and the exit code;
detail = bounded excerpts of both streams; metrics ``exit_code`` (128 + N for signal N, as
shells report it). A program that cannot be started (not found, not executable, missing
cwd) is ``unknown``. Output the ``value`` cannot be read from is ``unknown`` unless the exit
code already says worse. On timeout or cancellation the whole process group is killed.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from checkrunner.core.errors import CheckFailed
from checkrunner.core.result import Observation, one_line
from checkrunner.core.sizes import parse_size
from checkrunner.core.status import Status, worst
from checkrunner.plugins.contract import CheckContext, CheckOptions, CheckPlugin
from checkrunner.plugins.process import (
    CannotStart,
    argv_list,
    env_mapping,
    env_redactor,
    run_process,
)
from checkrunner.plugins.values import ValueSpec


class CommandOptions(CheckOptions):
    # Errors must not echo the input: it may hold a password, a token or a ping key.
    model_config = ConfigDict(hide_input_in_errors=True)

    run: list[str] = Field(min_length=1)
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    exit_codes: dict[int, Status] = Field(default_factory=dict)
    value: ValueSpec | None = None
    max_output: int = 64 * 1024

    _argv = field_validator("run", mode="before")(argv_list)
    _env = field_validator("env", mode="before")(env_mapping)

    @field_validator("exit_codes", mode="before")
    @classmethod
    def _statuses(cls, raw: Any) -> Any:
        if not isinstance(raw, Mapping):
            return raw
        codes: dict[int, Status] = {}
        for code, status in raw.items():
            if isinstance(code, bool) or not str(code).strip().isdigit() or not 0 <= int(code) <= 255:
                raise ValueError(f"exit code {code!r} is not a number 0..255")
            codes[int(code)] = Status.parse(str(status))
        return codes

    @field_validator("value")
    @classmethod
    def _text_value(cls, spec: ValueSpec | None) -> ValueSpec | None:
        if spec is not None and spec.kind == "perfdata":
            raise ValueError("a command's value is {regex: ...} or a JSONPath into its JSON output")
        return spec

    @field_validator("max_output", mode="before")
    @classmethod
    def _size(cls, raw: Any) -> int:
        return parse_size(raw)


class CommandCheck(CheckPlugin[CommandOptions]):
    type = "command"
    Options = CommandOptions

    def describe(self, options: CommandOptions) -> str:
        return shlex.join(options.run)

    async def run(self, options: CommandOptions, ctx: CheckContext) -> Observation:
        cwd = ctx.base_dir / options.cwd if options.cwd else ctx.base_dir
        try:
            done = await run_process(options.run, cwd, options.env, ctx.timeout, options.max_output)
        except CannotStart as exc:
            return Observation(Status.UNKNOWN, str(exc))
        mask = env_redactor(options.env)
        stdout, stderr = mask(done.stdout_text), mask(done.stderr_text)
        first = next((line for line in (stdout or stderr).splitlines() if line.strip()), "")
        if done.signal_name:
            status, summary = Status.CRITICAL, f"killed by {done.signal_name}"
        else:
            status = options.exit_codes.get(
                done.returncode, Status.OK if done.returncode == 0 else Status.CRITICAL
            )
            summary = f"{first} (exit {done.returncode})" if first else f"exit {done.returncode}, no output"
        value = None
        if options.value is not None:
            try:
                value = options.value.from_text(stdout)
            except CheckFailed as exc:
                if status.rank < Status.UNKNOWN.rank:
                    summary = f"{exc} (exit {done.returncode})"
                status = worst([status, Status.UNKNOWN])
        return Observation(
            status,
            one_line(summary),
            value=value,
            metrics={"exit_code": float(done.exit_code)},
            detail=done.detail(stdout, stderr),
        )
