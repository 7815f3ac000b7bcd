"""Cross-references between sections, checked after every section parsed on its own.

Errors: names that point nowhere (steps, monitor checks, depends_on and its cycles, channels of
routes/reports/checklists, SLO and scope checks). Warnings: a check nothing runs, a status a
check can reach that no channel receives, a crontab restricting both day fields.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence

from checkrunner.config.errors import did_you_mean
from checkrunner.config.model import Document
from checkrunner.config.source import Path, Source
from checkrunner.config.spec import CheckSpec
from checkrunner.config.types import is_glob
from checkrunner.core.problems import Problem
from checkrunner.scheduling.cron import CronSchedule


class _Refs:
    def __init__(
        self,
        source: Source,
        doc: Document,
        checks: Mapping[str, CheckSpec],
        raw_checks: Iterable[str],
        raw_channels: Iterable[str],
    ) -> None:
        self.source = source
        self.doc = doc
        self.checks = checks
        # Names of checks that exist, even if their own definition had errors.
        self.check_names = set(raw_checks)
        # Channels that exist, even if their own definition had errors (reported there).
        self.channel_names = set(raw_channels) | set(doc.channels)
        self.problems: list[Problem] = []

    def error(self, path: Path, message: str) -> None:
        self.problems.append(self.source.problem(path, message))

    def warn(self, path: Path, message: str) -> None:
        self.problems.append(self.source.problem(path, message, warning=True))

    def names(self, path: Path, names: Sequence[str], known: set[str], what: str) -> None:
        for index, name in enumerate(names):
            if is_glob(name):
                if not fnmatch.filter(known, name):
                    self.warn((*path, index), f"pattern {name!r} matches no {what}")
            elif name not in known:
                hint = did_you_mean(name, known)
                self.error((*path, index), f"unknown {what} {name!r}{hint}")

    def channels(self, path: Path, names: Sequence[str]) -> None:
        self.names(path, names, self.channel_names, "channel")

    def check_refs(self, path: Path, names: Sequence[str]) -> None:
        self.names(path, names, self.check_names, "check")


def _cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt in graph and state.get(nxt) is None and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if state.get(node) is None and (found := visit(node)):
            return found
    return None


def _cron_warning(refs: _Refs, path: Path, schedule: CronSchedule) -> None:
    if schedule.restricts_both_days:
        refs.warn(
            path,
            "restricts both day-of-month and day-of-week: as in crontab, a day matching EITHER fires; "
            "for 'the first Sunday' use the mapping form {day: \"1st sun\", hour: 2}",
        )


def check_references(
    source: Source,
    doc: Document,
    checks: Mapping[str, CheckSpec],
    raw_check_names: Iterable[str],
    raw_channel_names: Iterable[str] = (),
) -> list[Problem]:
    refs = _Refs(source, doc, checks, raw_check_names, raw_channel_names)
    run_by: set[str] = set()
    for name, checklist in doc.checklists.items():
        refs.check_refs(("checklists", name, "steps"), checklist.steps)
        run_by.update(checklist.steps)
        if checklist.report is not None:
            refs.channels(("checklists", name, "report", "to"), checklist.report.to)
        _cron_warning(refs, ("checklists", name, "schedule"), checklist.schedule)
    for name, monitor in doc.monitors.items():
        refs.check_refs(("monitors", name, "checks"), monitor.checks)
        run_by.update(monitor.checks)
        if name in checks and checks[name].common.every is not None:
            refs.error(
                ("monitors", name),
                f"monitor {name!r} has the name of check {name!r}, which has its own every:",
            )
    graph: dict[str, list[str]] = {}
    for name, check in checks.items():
        refs.check_refs(("checks", name, "depends_on"), check.depends_on)
        if name in check.depends_on:
            refs.error(("checks", name, "depends_on"), "a check cannot depend on itself")
        graph[name] = [dep for dep in check.depends_on if dep != name]
    if cycle := _cycle(graph):
        refs.error(("checks", cycle[0], "depends_on"), f"dependency cycle: {' -> '.join(cycle)}")
    alerting = doc.alerting
    for index, route in enumerate(alerting.routes):
        base = ("alerting", "routes", index)
        refs.channels((*base, "to"), route.to)
        for step, escalation in enumerate(route.escalate):
            refs.channels((*base, "escalate", step, "to"), escalation.to)
    refs.channels(("alerting", "default"), alerting.default)
    names_seen: dict[str, int] = {}
    for index, window in enumerate(doc.maintenance):
        if window.name in names_seen:
            refs.error(("maintenance", index, "name"), f"duplicate maintenance window name {window.name!r}")
        names_seen[window.name] = index
        if window.scope.checks:
            refs.check_refs(("maintenance", index, "scope", "checks"), window.scope.checks)
        _cron_warning(refs, ("maintenance", index, "schedule"), window.schedule)
    all_tags = {tag for check in checks.values() for tag in check.tags}
    for name, slo in doc.slos.items():
        refs.check_refs(("slos", name, "checks"), slo.checks)
    for name, report in doc.reports.items():
        refs.channels(("reports", name, "to"), report.to)
        if report.scope.checks:
            refs.check_refs(("reports", name, "scope", "checks"), report.scope.checks)
        for index, tag in enumerate(report.scope.tags or []):
            if checks and tag not in all_tags:
                refs.warn(("reports", name, "scope", "tags", index), f"no check has tag {tag!r}")
        _cron_warning(refs, ("reports", name, "schedule"), report.schedule)
    for name, check in checks.items():
        if name not in run_by and check.common.every is None and not check.plugin.self_scheduled:
            refs.warn(("checks", name), "no checklist, monitor or every: runs this check")
    _unrouted(refs, checks)
    return refs.problems


def _unrouted(refs: _Refs, checks: Mapping[str, CheckSpec]) -> None:
    """The file-wide case; which statuses of which checks miss a channel when is alerting's
    lint (``alerting.routes.route_lints``), which knows routing and its time windows."""
    alerting = refs.doc.alerting
    if checks and not alerting.default and not alerting.routes:
        refs.warn(("alerting",), "no route and no default: alerts reach no channel")
