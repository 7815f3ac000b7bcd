"""The check-plugin contract: everything a plugin author needs is in this module.

A check type is one Python module (a file in ``checks/``, in the user's ``checks_dir``, or
an entry point in the group ``checkrunner.checks``) that defines one subclass of
:class:`CheckPlugin`::

    class Options(CheckOptions):
        url: str
        token: str = secret("")          # masked everywhere

    class Ping(CheckPlugin[Options]):
        type = "ping"
        Options = Options

        async def run(self, options: Options, ctx: CheckContext) -> Observation:
            ...

Rules of :meth:`CheckPlugin.run`:

* It returns an :class:`~checkrunner.core.result.Observation` for **every outcome it
  understands**: a 500, a refused connection, a failed expectation, a value to compare with
  thresholds. A target that does not serve (refused, DNS/TLS failure, failed ``expect``) is
  ``critical``; output it cannot interpret is ``unknown``.
* It raises only when it cannot tell (``CheckFailed`` with a one-line message, or any
  exception); the runner turns that into ``unknown`` for this check alone.
* Timeouts: the runner cancels ``run`` at ``ctx.timeout`` seconds; a plugin may also pass
  ``ctx.timeout`` to its own I/O and, when that I/O times out, raise the builtin
  ``TimeoutError`` (with a one-line message). Either way the runner reports the timeout with
  the check's ``on_timeout`` status (critical by default). Cancellation must leave nothing
  behind (kill child processes, close sockets).
* It is self-contained: options and context in, observation out. It must not reach into the
  scheduler, the store or global state, so that a queue worker could run it anywhere.
* Blocking work (sync drivers, file reads of unknown size) goes to a thread
  (``asyncio.to_thread``) so the event loop never stalls.

``Options`` is a pydantic model (strict about unknown keys) whose fields are the check's
type-specific keys in ``schedules.yaml``; its validators run when the config loads, so bad
options are config errors with file, line and key path, never run-time surprises. Common keys
(``type``, ``warn``, ``crit``, ``for``, ``tags``, ``timeout``, ``every`` …) are not part of it.
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from checkrunner.core.redact import SECRET_FIELD
from checkrunner.core.result import Observation

if TYPE_CHECKING:
    import httpx


class CheckOptions(BaseModel):
    """Base of every plugin's options model: immutable, unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


def secret(default: Any = ..., **kwargs: Any) -> Any:
    """A field whose value is a secret: masked in logs, output, reports and pages."""
    return Field(default, json_schema_extra={"secret": True}, **kwargs)


@dataclass(frozen=True, slots=True)
class PingState:
    """What the heartbeat endpoint recorded for a check (all times timezone-aware)."""

    last_ping: datetime | None = None
    last_start: datetime | None = None
    last_fail: datetime | None = None
    last_exit_code: int | None = None
    #: Time of the daemon's start: lateness is counted from here when no ping ever came.
    watching_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class CheckContext:
    """Everything a check run may use besides its options."""

    check: str
    now: datetime
    #: Seconds this run may take (the runner enforces it; pass it to your I/O too).
    timeout: float
    #: The folder of schedules.yaml: relative paths in options are relative to it.
    base_dir: Path = Path(".")
    #: The configuration's timezone (schedules and local times use it).
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    #: Plugin-private state saved from the previous run of this check (empty on the first).
    memo: Mapping[str, Any] = field(default_factory=dict)
    #: Heartbeat pings, for plugins that declare ``needs_pings``.
    pings: PingState | None = None
    #: A shared HTTP client; None outside the daemon (plugins then make their own).
    http: httpx.AsyncClient | None = None


OptionsT = TypeVar("OptionsT", bound=CheckOptions)


class CheckPlugin(abc.ABC, Generic[OptionsT]):
    """Base class of check types. Subclasses set ``type`` and ``Options``."""

    #: The name used as ``type:`` in schedules.yaml.
    type: ClassVar[str]
    #: The options model for this type's keys.
    Options: ClassVar[builtins.type[CheckOptions]]
    #: Whether the plugin reads ``ctx.memo`` (what its previous run returned as ``memo``): the
    #: runner loads memos from the store only for such plugins, so leave it False otherwise.
    uses_memo: ClassVar[bool] = False
    #: Whether the runner must load heartbeat pings into ``ctx.pings``.
    needs_pings: ClassVar[bool] = False
    #: Checks that no schedule needs to run (heartbeats: the daemon evaluates them itself).
    self_scheduled: ClassVar[bool] = False

    @abc.abstractmethod
    async def run(self, options: OptionsT, ctx: CheckContext) -> Observation:
        """Run once and describe what was seen. See the module docstring for the rules."""

    def describe(self, options: OptionsT) -> str:
        """One line naming the target (shown by ``validate`` and on the status page)."""
        return self.type

    def target_host(self, options: OptionsT) -> str | None:
        """The remote host this check talks to, if any: the daemon limits how many checks
        run against one host at once (``limits.per_host``)."""
        return None


def option_secrets(options: BaseModel) -> list[str]:
    """Secret values in an options model, recursively: fields declared with :func:`secret`,
    and entries of mapping fields (``env``, ``headers``) whose key looks like a secret."""
    found: list[str] = []
    for name, info in type(options).model_fields.items():
        value = getattr(options, name)
        extra = info.json_schema_extra
        if isinstance(extra, Mapping) and extra.get("secret") and isinstance(value, str):
            found.append(value)
        elif isinstance(value, BaseModel):
            found.extend(option_secrets(value))
        elif isinstance(value, Mapping):
            found.extend(
                item
                for key, item in value.items()
                if isinstance(key, str) and isinstance(item, str) and SECRET_FIELD.search(key)
            )
    return found
