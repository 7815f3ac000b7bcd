"""``type: nagios``: run a Nagios plugin and read its status and performance data.

Options::

    run: [/usr/lib/nagios/plugins/check_disk, -w, "20%", -c, "10%", -p, /]   # argv list
    cwd: .                  # relative to the folder of schedules.yaml (the default)
    env: {}                 # added to the daemon's environment; secret-named values masked
    value: time             # a perfdata label ({perfdata: time} too); default: the first value

The Nagios plugin protocol: exit 0/1/2/3 = ok/warning/critical/unknown; any other exit
code, or death by a signal, is ``unknown``. The first output line (before ``|``) is the
summary, the long text and the perfdata with units go to ``detail``, perfdata values become
``metrics`` ({label: value}, units as the plugin reports them). A ``value`` label the output
lacks is ``unknown`` ("perfdata label 'x' not found (have: a, b)") unless the plugin already
said critical. Parsing lives in :mod:`checkrunner.plugins.perfdata`. The process handling is
the command check's: own session, bounded output, the group killed on timeout/cancellation.
"""

from __future__ import annotations

import shlex
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from checkrunner.core.result import Observation, bounded, one_line
from checkrunner.core.status import Status, worst
from checkrunner.plugins.contract import CheckContext, CheckOptions, CheckPlugin
from checkrunner.plugins.perfdata import parse_plugin_output
from checkrunner.plugins.process import (
    CannotStart,
    Finished,
    argv_list,
    env_mapping,
    env_redactor,
    run_process,
)
from checkrunner.plugins.values import ValueSpec

#: Bytes kept per stream (Nagios core itself keeps 8 KiB of plugin output).
MAX_OUTPUT = 64 * 1024


class NagiosOptions(CheckOptions):
    # Errors must not echo the input: it may hold a password, a token or a ping key.
    model_config = ConfigDict(hide_input_in_errors=True)

    run: list[str] = Field(min_length=1)
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    value: ValueSpec | None = None

    _argv = field_validator("run", mode="before")(argv_list)
    _env = field_validator("env", mode="before")(env_mapping)

    @field_validator("value", mode="before")
    @classmethod
    def _label(cls, raw: Any) -> Any:
        if raw is None:
            return None
        spec = ValueSpec.parse(raw, bare="perfdata")
        if spec.kind != "perfdata":
            raise ValueError("a nagios check's value is a perfdata label: value: time or {perfdata: time}")
        return spec


class NagiosCheck(CheckPlugin[NagiosOptions]):
    type = "nagios"
    Options = NagiosOptions

    def describe(self, options: NagiosOptions) -> str:
        return shlex.join(options.run)

    async def run(self, options: NagiosOptions, ctx: CheckContext) -> Observation:
        cwd = ctx.base_dir / options.cwd if options.cwd else ctx.base_dir
        try:
            done = await run_process(options.run, cwd, options.env, ctx.timeout, MAX_OUTPUT)
        except CannotStart as exc:
            return Observation(Status.UNKNOWN, str(exc))
        mask = env_redactor(options.env)
        stdout, stderr = mask(done.stdout_text), mask(done.stderr_text)
        output = parse_plugin_output(stdout)
        status, verdict = plugin_status(done)
        text = output.text or next((line for line in stderr.splitlines() if line.strip()), "")
        if verdict:
            summary = f"{text} ({verdict})" if text else verdict
        else:
            summary = text or f"no output (exit {done.returncode})"
        metrics: dict[str, float] = {}
        for datum in output.perfdata:
            metrics.setdefault(datum.label, datum.value)  # the first of a repeated label counts
        value = output.perfdata[0].value if output.perfdata else None
        if options.value is not None:
            value = metrics.get(options.value.expr)
            if value is None:
                missing = (
                    f"perfdata label {options.value.expr!r} not found (have: {', '.join(metrics) or 'none'})"
                )
                if status.rank < Status.UNKNOWN.rank:
                    summary = missing
                status = worst([status, Status.UNKNOWN])
        parts = [
            output.long_text,
            "perfdata: " + " ".join(map(str, output.perfdata)) if output.perfdata else "",
        ]
        parts.append(f"stderr:\n{stderr.strip()}" if stderr.strip() else "")
        return Observation(
            status,
            one_line(summary),
            value=value,
            metrics=metrics,
            detail=bounded("\n".join(part for part in parts if part)) or None,
        )


_STATUS_OF_EXIT = {0: Status.OK, 1: Status.WARNING, 2: Status.CRITICAL, 3: Status.UNKNOWN}


def plugin_status(done: Finished) -> tuple[Status, str | None]:
    """The status the plugin reported and, when it broke the protocol, why (for the summary)."""
    if done.signal_name:
        return Status.UNKNOWN, f"killed by {done.signal_name}"
    if done.returncode in _STATUS_OF_EXIT:
        return _STATUS_OF_EXIT[done.returncode], None
    return Status.UNKNOWN, f"exit code {done.returncode} is not a Nagios status"
