"""The exception tree of checkrunner.

::

    CheckrunnerError                 anything the CLI turns into one line + exit code
    ├── ConfigError                  the configuration cannot be used (carries every Problem)
    ├── CheckFailed                  a plugin cannot tell (-> status unknown, summary = message)
    ├── StoreError                   the database cannot be reached or written
    └── UsageError                   a command was asked something it cannot do (unknown name …)

Plugins raise CheckFailed (or anything else) only when they cannot evaluate; the runner
turns every exception into an ``unknown`` result for that check alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checkrunner.core.problems import Problem


class CheckrunnerError(Exception):
    """Base of every error the CLI reports as one line."""


class ConfigError(CheckrunnerError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        first = self.problems[0].render() if self.problems else "invalid configuration"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(first + more)


class CheckFailed(CheckrunnerError):
    """Raised by a plugin that cannot evaluate its target; becomes status unknown."""


class StoreError(CheckrunnerError):
    pass


class UsageError(CheckrunnerError):
    pass
