"""The engine's alerting path: transitions -> incidents + intents in one write, followups,
composing messages. Real command checks, real stores (both backends), a manual clock."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from checkrunner.alerting import config_error
from checkrunner.config import load_config
from checkrunner.core.clock import ManualClock
from checkrunner.core.status import Status
from checkrunner.engine import Engine
from checkrunner.store import Store

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday, 09:00 in Sao Paulo


class World:
    """A config whose command checks exit with the code written in ``<dir>/<check>.code``."""

    def __init__(self, tmp_path: Path, db_url: str, body: str) -> None:
        self.dir = tmp_path
        (tmp_path / "schedules.yaml").write_text(
            f'timezone: America/Sao_Paulo\ndatabase: "{db_url}"\n' + textwrap.dedent(body)
        )
        self.config = load_config(tmp_path / "schedules.yaml", {})
        self.store = Store.open(self.config.database_url)
        self.clock = ManualClock(T0)
        self.engine = Engine(self.config, self.store, self.clock)

    def set(self, check: str, code: int) -> None:
        (self.dir / f"{check}.code").write_text(str(code))

    async def run(self, *checks: str, advance: timedelta = timedelta(minutes=1)) -> None:
        self.clock.advance(advance)
        await self.engine.run_checks(list(checks))

    def intents(self) -> list[tuple[str, str | None, str, str]]:
        """(kind, check, severity, channel) of every stored intent, in decision order."""
        with self.store._transaction(write=False) as conn:  # test-only peek at the outbox rows
            from checkrunner.store.alerts import intents_in

            rows = intents_in(conn, ["pending", "held", "grouped", "summarised"])
        return [(i.kind, i.check, i.severity, i.channel) for _, _, i in rows]


def command(check: str, world_dir: str) -> str:
    return f'{check}: {{type: command, run: [sh, -c, "exit $(cat {world_dir}/{check}.code)"]}}'


@pytest.fixture
def world(tmp_path: Path, db_url: str, request: pytest.FixtureRequest) -> Iterator[World]:
    body = request.param.replace("DIR", str(tmp_path))
    made = World(tmp_path, db_url, body)
    for name in made.config.checks:
        made.set(name, 0)
    yield made
    made.store.close()


BASIC = """\
channels:
  ops: {url: "json://127.0.0.1:9/ops"}
  sms: {url: "json://127.0.0.1:9/sms", format: text, max_length: 160}
checks:
  api-health: {type: command, run: [sh, -c, "exit $(cat DIR/api-health.code)"]}
  api-latency: {type: command, run: [sh, -c, "exit $(cat DIR/api-latency.code)"], depends_on: [api-health]}
alerting:
  routes:
    - match: {severity: critical}
      to: [ops]
      repeat: 30m
      escalate: [{after: 10m, to: [sms]}]
  default: [ops]
  group_wait: 30s
  flapping: {results: 4, high: 60%, low: 30%}
"""


@pytest.mark.parametrize("world", [BASIC], indirect=True)
async def test_a_problem_and_its_recovery_are_decided_with_the_transition(world: World) -> None:
    world.set("api-health", 2)
    await world.run("api-health")
    (incident,) = world.store.incidents(open_only=True)
    assert incident.check == "api-health" and incident.status is Status.CRITICAL
    assert world.intents() == [("problem", "api-health", "critical", "ops")]
    world.set("api-health", 0)
    await world.run("api-health")
    assert world.store.incidents(open_only=True) == []
    assert world.intents()[-1] == ("recovery", "api-health", "ok", "ops")
    await world.engine.aclose()


@pytest.mark.parametrize("world", [BASIC], indirect=True)
async def test_a_dependency_failing_in_the_same_run_suppresses_its_dependent(world: World) -> None:
    world.set("api-health", 2)
    world.set("api-latency", 2)
    await world.run("api-health", "api-latency")
    incidents = {i.check: i for i in world.store.incidents(open_only=True)}
    assert incidents["api-latency"].suppressed_by == "suppressed by api-health"
    assert [i[1] for i in world.intents()] == ["api-health"]
    # The dependency recovers while the dependent still fails: the dependent alerts then.
    world.set("api-health", 0)
    await world.run("api-health", "api-latency")
    assert world.engine.followups_pass() == 1
    assert world.intents()[-1] == ("problem", "api-latency", "critical", "ops")
    await world.engine.aclose()


@pytest.mark.parametrize("world", [BASIC], indirect=True)
async def test_flapping_gives_one_notice_instead_of_a_storm(world: World) -> None:
    for code in [2, 0, 2, 0, 2, 0, 2, 0]:
        world.set("api-health", code)
        await world.run("api-health")
    kinds = [kind for kind, *_ in world.intents()]
    # Until the window of 4 results is full every change is told; from the 4th result on the
    # check flaps: one notice, then nothing for the 4 changes that follow.
    assert kinds == ["problem", "recovery", "problem", "flapping"]
    for _ in range(4):  # steady ok: the change ratio falls to 0 %
        await world.run("api-health")
    assert [kind for kind, *_ in world.intents()][-1] == "stable"
    await world.engine.aclose()


@pytest.mark.parametrize("world", [BASIC], indirect=True)
async def test_reminders_and_escalation_follow_until_acknowledged(world: World) -> None:
    world.set("api-health", 2)
    await world.run("api-health")
    world.clock.advance(timedelta(minutes=11))
    assert world.engine.followups_pass() == 1  # escalation to sms after 10 min
    assert world.intents()[-1] == ("escalation", "api-health", "critical", "sms")
    world.clock.advance(timedelta(minutes=20))  # 31 min since the problem: one reminder
    assert world.engine.followups_pass() == 1
    assert world.intents()[-1] == ("reminder", "api-health", "critical", "ops")
    assert world.engine.followups_pass() == 0  # idempotent
    world.store.acknowledge("api-health", world.clock.now(), "alice")
    world.clock.advance(timedelta(hours=2))
    assert world.engine.followups_pass() == 0
    await world.engine.aclose()


@pytest.mark.parametrize("world", [BASIC], indirect=True)
async def test_a_silence_holds_the_problem_back_until_it_ends(world: World) -> None:
    world.store.add_silence("api-*", T0 + timedelta(minutes=30), "deploy", T0)
    world.set("api-health", 2)
    await world.run("api-health")
    assert world.intents() == []
    (incident,) = world.store.incidents(open_only=True)
    assert incident.suppressed_by is not None and incident.suppressed_by.startswith("silenced by api-*")
    world.clock.advance(timedelta(minutes=31))
    assert world.engine.followups_pass() == 1
    assert world.intents() == [("problem", "api-health", "critical", "ops")]
    await world.engine.aclose()


@pytest.mark.parametrize("world", [BASIC], indirect=True)
async def test_problems_decided_together_become_one_message_per_channel(world: World) -> None:
    world.config.document.alerting.routes.clear()  # default route only: every problem to ops
    world.set("api-health", 1)
    world.set("api-latency", 3)
    world.config.checks["api-latency"].common.depends_on.clear()
    await world.run("api-health", "api-latency")
    outbox = world.engine.outbox()
    assert outbox.compose() == []  # group_wait (30 s) has not passed
    world.clock.advance(timedelta(seconds=31))
    (message_id,) = outbox.compose()
    (message,) = world.store.get_messages([message_id])
    assert message.channel == "ops" and message.title == "2 notices: 2 critical"
    assert "api-health" in message.body and "api-latency" in message.body
    assert outbox.compose() == []  # each intent is composed once
    await world.engine.aclose()


@pytest.mark.parametrize("world", [BASIC], indirect=True)
async def test_a_config_error_alerts_once_per_broken_file(world: World) -> None:
    problem = "schedules.yaml:3:5: checks.x.type: unknown check type"
    assert world.engine.system_alert(lambda ctx: config_error(problem, "abc123", ctx)) == 1
    assert world.engine.system_alert(lambda ctx: config_error(problem, "abc123", ctx)) == 0
    assert world.intents() == [("config-error", "checkrunner.config", "warning", "ops")]
    await world.engine.aclose()


MAINTENANCE = (
    BASIC
    + """\
maintenance:
  - {name: db-updates, schedule: {hour: 9}, duration: 1h, scope: {checks: [api-health]}}
"""
)


@pytest.mark.parametrize("world", [MAINTENANCE], indirect=True)
async def test_a_problem_inside_maintenance_is_alerted_when_the_window_ends(world: World) -> None:
    world.set("api-health", 2)
    await world.run("api-health")  # 09:01 local, inside the 09:00-10:00 window
    (incident,) = world.store.incidents(open_only=True)
    assert incident.suppressed_by is not None and incident.suppressed_by.startswith(
        "suppressed by maintenance db-updates until 2026-11-23T10:00:00-03:00"
    )
    world.clock.advance(timedelta(minutes=30))
    assert world.engine.followups_pass() == 0  # still inside
    world.clock.advance(timedelta(minutes=30))  # 10:01: the window has ended, still failing
    assert world.engine.followups_pass() == 1
    assert world.intents() == [("maintenance-end", "api-health", "critical", "ops")]
    await world.engine.aclose()


SLO = (
    BASIC
    + """\
slos:
  api: {checks: [api-health], objective: 99.9%, window: 30d}
"""
)


@pytest.mark.parametrize("world", [SLO], indirect=True)
async def test_a_fast_error_budget_burn_alerts_and_recovers(world: World) -> None:
    from checkrunner.core.result import CheckResult

    now = world.clock.now()
    # One result a minute, a third of them failing: a 333x burn of a 0.1 % budget. Until the
    # window holds MIN_SLO_EVENTS (100) results it is not judged: the first failures do not page.
    history = [
        CheckResult(
            "api-health", Status.CRITICAL if i % 3 == 0 else Status.OK, now - timedelta(minutes=i), 1.0, "x"
        )
        for i in range(1, 121)
    ]
    world.store.add_results(history[:60])
    assert world.engine.slo_pass() == 0 and world.store.incidents() == []
    world.store.add_results(history[60:])
    assert world.engine.slo_pass() == 1
    (incident,) = world.store.incidents(open_only=True)
    assert (incident.check, incident.status) == ("slo:api", Status.CRITICAL)
    assert world.intents() == [("problem", "slo:api", "critical", "ops")]
    assert world.engine.slo_pass() == 0  # still burning: nothing new
    # Seven hours of good results later every window of both rules (up to 6 h) is clean again.
    world.clock.advance(timedelta(hours=7))
    later = world.clock.now()
    world.store.add_results(
        [CheckResult("api-health", Status.OK, later - timedelta(minutes=i), 1.0, "x") for i in range(0, 400)]
    )
    assert world.engine.slo_pass() == 1
    assert world.store.incidents(open_only=True) == []
    assert world.intents()[-1] == ("recovery", "slo:api", "ok", "ops")
    await world.engine.aclose()
