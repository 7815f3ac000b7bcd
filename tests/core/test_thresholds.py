from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checkrunner.core.evaluate import apply_thresholds
from checkrunner.core.result import Observation
from checkrunner.core.status import Status, worst
from checkrunner.core.thresholds import BaselineStats, baseline_stats, parse_threshold


@pytest.mark.parametrize(
    ("expr", "value", "fires"),
    [
        ("> 500", 501, True),
        ("> 500", 500, False),
        (">= 1", 1, True),
        ("< 95", 94.9, True),
        ("< 95%", 95, False),
        ("<= 0", 0, True),
        ("== 0", 0, True),
        ("!= 0", 0, False),
        ("outside 10..20", 9, True),
        ("outside 10..20", 20, False),
        ("inside 10..20", 10, True),
        ("inside 10..20", 21, False),
        (">500", 600, True),
        ("> -1.5", -1, True),
        ("> 1e3", 1001, True),
    ],
    ids=[
        "gt",
        "gt-equal",
        "ge",
        "lt",
        "lt-percent",
        "le",
        "eq",
        "ne",
        "outside-low",
        "outside-edge",
        "inside-edge",
        "inside-out",
        "no-space",
        "negative",
        "exponent",
    ],
)
def test_plain_thresholds_fire_as_written(expr: str, value: float, fires: bool) -> None:
    assert parse_threshold(expr).evaluate(value).fired is fires


@pytest.mark.parametrize(
    ("expr", "value", "fires"),
    [
        ("> baseline + 3 sigma", 131, True),  # mean 100, sigma 10 -> bound 130
        ("> baseline + 3 sigma", 130, False),
        ("< baseline - 50%", 49, True),  # bound 50
        ("< baseline - 50%", 50, False),
        ("> baseline + 2σ", 121, True),
        ("> baseline", 101, True),
    ],
    ids=["3sigma-over", "3sigma-at", "half-under", "half-at", "sigma-symbol", "mean"],
)
def test_baseline_thresholds_use_mean_and_sigma(expr: str, value: float, fires: bool) -> None:
    stats = BaselineStats(mean=100.0, sigma=10.0, count=50)
    assert parse_threshold(expr).evaluate(value, stats, min_samples=30).fired is fires


def test_baseline_with_too_little_history_does_not_fire_and_says_so() -> None:
    verdict = parse_threshold("< baseline - 50%").evaluate(1, BaselineStats(100, 0, 12), min_samples=30)
    assert not verdict.fired
    assert verdict.note == "baseline needs 30 samples, has 12"


@pytest.mark.parametrize(
    "expr",
    ["500", "> abc", "=> 5", "outside 20..10", "> baseline + 3 parsecs", "", 500],
    ids=["bare", "word", "wrong-op", "reversed-range", "bad-unit", "empty", "number"],
)
def test_invalid_thresholds_raise_value_error(expr: object) -> None:
    with pytest.raises(ValueError):
        parse_threshold(expr)


def test_folded_yaml_threshold_says_to_quote() -> None:
    with pytest.raises(ValueError, match="quote threshold expressions"):
        parse_threshold("500\n")


@given(st.text(max_size=40))
def test_parse_never_raises_anything_but_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        parse_threshold(text)


def test_population_sigma() -> None:
    stats = baseline_stats([2, 4, 4, 4, 5, 5, 7, 9])
    assert (stats.mean, stats.sigma, stats.count) == (5.0, 2.0, 8)


def test_status_is_the_worse_of_plugin_verdict_and_fired_threshold() -> None:
    obs = Observation(Status.WARNING, "slow-ish", value=1200)
    evaluation = apply_thresholds(obs, parse_threshold("> 500"), parse_threshold("> 1000"))
    assert evaluation.status is Status.CRITICAL
    assert evaluation.threshold == "crit: > 1000"
    assert "value 1200 breaches crit: > 1000" in evaluation.summary


def test_crit_is_checked_before_warn() -> None:
    evaluation = apply_thresholds(
        Observation(Status.OK, "x", value=700), parse_threshold("> 500"), parse_threshold("> 1000")
    )
    assert (evaluation.status, evaluation.threshold) == (Status.WARNING, "warn: > 500")


def test_missing_value_with_thresholds_is_unknown_unless_plugin_already_failed() -> None:
    warn = parse_threshold("> 1")
    assert apply_thresholds(Observation(Status.OK, "x"), warn, None).status is Status.UNKNOWN
    assert apply_thresholds(Observation(Status.CRITICAL, "refused"), warn, None).status is Status.CRITICAL


def test_worst_ranks_unknown_between_warning_and_critical() -> None:
    assert worst([Status.OK, Status.UNKNOWN, Status.WARNING]) is Status.UNKNOWN
    assert worst([Status.UNKNOWN, Status.CRITICAL]) is Status.CRITICAL
    assert worst([]) is Status.OK
