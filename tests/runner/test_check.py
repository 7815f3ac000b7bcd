"""The runner: a hanging check times out, a crashing one is unknown, retries, thresholds, redaction."""

from __future__ import annotations

import asyncio
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from checkrunner.config import load_config
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext
from checkrunner.runner import run_check

PLUGIN = '''
"""Misbehaving checks for runner tests."""
import asyncio
from checkrunner.core.errors import CheckFailed
from checkrunner.core.result import Observation
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext, CheckOptions, CheckPlugin, secret


class Options(CheckOptions):
    mode: str
    value: float | None = None
    api_secret: str = secret("")


class Misbehave(CheckPlugin[Options]):
    type = "misbehave"
    Options = Options
    calls = 0

    async def run(self, options: Options, ctx: CheckContext) -> Observation:
        Misbehave.calls += 1
        if options.mode == "hang":
            await asyncio.sleep(3600)
        if options.mode == "raise":
            raise KeyError("boom")
        if options.mode == "cannot-tell":
            raise CheckFailed("response had no $.status")
        if options.mode == "own-timeout":
            raise TimeoutError("read timed out after 0.2s")
        if options.mode == "flaky" and Misbehave.calls % 2 == 1:
            return Observation(Status.CRITICAL, "first attempt fails")
        if options.mode == "secret":
            return Observation(Status.OK, "token s3cr3t-token-123 leaked", detail="s3cr3t-token-123")
        if options.mode == "garbage":
            return "not an observation"  # type: ignore[return-value]
        return Observation(Status.OK, "fine", value=options.value)
'''


@pytest.fixture
def config(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "misbehave.py").write_text(textwrap.dedent(PLUGIN))
    (tmp_path / "schedules.yaml").write_text(
        textwrap.dedent("""\
    alerting: {default: []}
    checks:
      hang: {type: misbehave, mode: hang, timeout: 300ms, every: 1m}
      hang-unknown: {type: misbehave, mode: hang, timeout: 300ms, on_timeout: unknown, every: 1m}
      raise: {type: misbehave, mode: raise, every: 1m}
      cannot-tell: {type: misbehave, mode: cannot-tell, every: 1m}
      own-timeout: {type: misbehave, mode: own-timeout, every: 1m}
      flaky: {type: misbehave, mode: flaky, retries: 1, every: 1m}
      garbage: {type: misbehave, mode: garbage, every: 1m}
      secret: {type: misbehave, mode: secret, every: 1m, api_secret: "${TOKEN}"}
      slow-value: {type: misbehave, mode: ok, value: 700, warn: "> 500", crit: "> 1000", every: 1m}
    """)
    )
    return load_config(tmp_path / "schedules.yaml", {"TOKEN": "s3cr3t-token-123"})


def ctx(name: str) -> CheckContext:
    return CheckContext(check=name, now=datetime.now(UTC), timeout=1.0)


@pytest.mark.parametrize(
    ("name", "status", "summary"),
    [
        ("hang", Status.CRITICAL, "timed out after 300ms"),
        ("hang-unknown", Status.UNKNOWN, "timed out after 300ms"),
        ("raise", Status.UNKNOWN, "check crashed: KeyError: 'boom'"),
        ("cannot-tell", Status.UNKNOWN, "response had no $.status"),
        ("own-timeout", Status.CRITICAL, "read timed out after 0.2s"),
        ("garbage", Status.UNKNOWN, "check returned str, not an Observation"),
        ("slow-value", Status.WARNING, "fine — value 700 breaches warn: > 500"),
    ],
    ids=[
        "hang-times-out-critical",
        "on-timeout-unknown",
        "crash-is-unknown",
        "cannot-tell-is-unknown",
        "plugin-timeout-uses-on-timeout",
        "garbage-is-unknown",
        "threshold-fires",
    ],
)
async def test_every_outcome_is_a_result_for_this_check_alone(
    config, name: str, status: Status, summary: str
) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    outcome = await run_check(config.checks[name], ctx(name))
    assert (outcome.result.status, outcome.result.summary) == (status, summary)
    assert time.monotonic() - started < 2.0


async def test_a_hanging_check_does_not_hold_up_the_others(config) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    results = await asyncio.gather(
        *(run_check(config.checks[n], ctx(n)) for n in ("hang", "raise", "slow-value"))
    )
    assert [r.result.status for r in results] == [Status.CRITICAL, Status.UNKNOWN, Status.WARNING]
    assert time.monotonic() - started < 1.5


async def test_retries_rerun_a_failed_attempt(config) -> None:  # type: ignore[no-untyped-def]
    outcome = await run_check(config.checks["flaky"], ctx("flaky"))
    assert outcome.result.status is Status.OK


async def test_secrets_are_masked_in_summary_and_detail(config) -> None:  # type: ignore[no-untyped-def]
    outcome = await run_check(config.checks["secret"], ctx("secret"), redactor=config.redactor)
    assert "s3cr3t" not in outcome.result.summary and "s3cr3t" not in (outcome.result.detail or "")
