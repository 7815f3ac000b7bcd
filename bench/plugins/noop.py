"""``type: noop``: a check that does nothing and is always ok.

The scheduler benchmark uses it so that scheduling, claiming, storing and state dominate
the cost of a run. Loaded from this folder through the config's ``checks_dir:`` key, the way
users add their own check types; it takes no options.
"""

from __future__ import annotations

from checkrunner.core.result import Observation
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext, CheckOptions, CheckPlugin


class NoopOptions(CheckOptions):
    pass


class Noop(CheckPlugin[NoopOptions]):
    type = "noop"
    Options = NoopOptions

    async def run(self, options: NoopOptions, ctx: CheckContext) -> Observation:
        return Observation(Status.OK, "noop")
