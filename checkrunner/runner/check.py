"""Run one check safely.

A run is a self-contained unit: a CheckSpec and a CheckContext in, a CheckResult (plus the
plugin's memo) out, so a queue worker could execute it as well as the daemon. Whatever the
plugin does (hang, raise, return garbage), the outcome is a result for this check alone:

* it hangs past ``timeout``: cancelled, status ``on_timeout`` (critical by default);
* it raises CheckFailed: ``unknown`` with the plugin's message;
* it raises anything else: ``unknown`` naming the exception type, one line;
* it returns: its observation, with ``warn``/``crit`` applied to its value.

Retries re-run a non-ok attempt up to ``retries`` times (1 s apart, within no extra budget
per attempt); the last attempt is the result.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from checkrunner.config.spec import CheckSpec
from checkrunner.core.durations import format_duration
from checkrunner.core.errors import CheckFailed
from checkrunner.core.evaluate import apply_thresholds
from checkrunner.core.redact import Redactor
from checkrunner.core.result import CheckResult, Observation, bounded, one_line
from checkrunner.core.status import Status
from checkrunner.core.thresholds import BaselineStats
from checkrunner.plugins.contract import CheckContext

log = logging.getLogger("checkrunner.runner")

RETRY_DELAY = 1.0


@dataclass(frozen=True, slots=True)
class RunOutcome:
    result: CheckResult
    #: The plugin's new memo, or None to keep the stored one.
    memo: dict[str, Any] | None


async def _attempt(spec: CheckSpec, ctx: CheckContext) -> Observation:
    seconds = spec.timeout.total_seconds()
    try:
        async with asyncio.timeout(seconds):
            observation = await spec.plugin.run(spec.options, ctx)
    except TimeoutError as exc:
        message = str(exc).strip() or f"timed out after {format_duration(spec.timeout)}"
        return Observation(spec.on_timeout, one_line(message))
    except CheckFailed as exc:
        return Observation(Status.UNKNOWN, one_line(str(exc) or "check failed"))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the plugin's bug must not take the daemon down
        return Observation(Status.UNKNOWN, one_line(f"check crashed: {type(exc).__name__}: {exc}"))
    if not isinstance(observation, Observation):
        return Observation(Status.UNKNOWN, f"check returned {type(observation).__name__}, not an Observation")
    return observation


async def run_check(
    spec: CheckSpec,
    ctx: CheckContext,
    *,
    baseline: BaselineStats | None = None,
    redactor: Redactor | None = None,
    run_id: int | None = None,
) -> RunOutcome:
    """Run ``spec`` now (``ctx.now`` is recorded as ``started_at``)."""
    started: datetime = ctx.now
    t0 = time.perf_counter()
    observation = await _attempt(spec, ctx)
    for _ in range(spec.retries):
        if observation.status is Status.OK:
            break
        await asyncio.sleep(RETRY_DELAY)
        observation = await _attempt(spec, replace(ctx, memo=observation.memo or ctx.memo))
    latency_ms = (time.perf_counter() - t0) * 1000.0
    evaluation = apply_thresholds(observation, spec.warn, spec.crit, baseline, spec.baseline.min_samples)
    mask = redactor or (lambda text: text)
    result = CheckResult(
        check=spec.name,
        status=evaluation.status,
        started_at=started,
        latency_ms=latency_ms,
        summary=mask(one_line(evaluation.summary)),
        value=observation.value,
        metrics=dict(observation.metrics),
        detail=bounded(mask(observation.detail)) if observation.detail else None,
        threshold=evaluation.threshold,
        run_id=run_id,
    )
    memo = dict(observation.memo) if observation.memo is not None else None
    if memo is not None and not spec.plugin.uses_memo and spec.type not in _WARNED_MEMO:
        _WARNED_MEMO.add(spec.type)
        log.warning(
            "plugin type=%s returned a memo but does not set uses_memo = True: the memo is stored "
            "but not handed back to its next run",
            spec.type,
        )
    return RunOutcome(result, memo)


#: Plugin types already warned about an undeclared memo (once per process).
_WARNED_MEMO: set[str] = set()
