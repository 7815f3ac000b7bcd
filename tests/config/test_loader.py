"""The config loader: every problem at once, in the user's terms, with file:line:col."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkrunner.config import load_config
from checkrunner.core.errors import ConfigError

BASE = """\
timezone: Europe/London
checks:
  ping:
    type: command
    run: [/bin/true]
checklists:
  morning:
    schedule: "0 9 * * *"
    steps: [ping]
alerting:
  default: [ops]
channels:
  ops: {url: "json://127.0.0.1:9/hook"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedules.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env or {})
    return [p.render() for p in info.value.problems]


def test_minimal_config_loads_with_its_timezone_and_checks(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE), {})
    assert str(config.timezone) == "Europe/London"
    assert config.checks["ping"].type == "command"
    assert config.warnings == ()


def test_unknown_key_names_line_col_and_suggests_the_right_key(tmp_path: Path) -> None:
    text = BASE.replace("    steps: [ping]", "    steps: [ping]\n    shedule: x")
    found = problems(tmp_path, text)
    assert any(
        line.endswith("checklists.morning.shedule: unknown key 'shedule' (did you mean 'schedule'?)")
        and ":10:5:" in line
        for line in found
    ), found


def test_unknown_check_key_suggests_among_plugin_and_common_keys(tmp_path: Path) -> None:
    text = BASE.replace("    run: [/bin/true]", "    run: [/bin/true]\n    timout: 5s")
    found = problems(tmp_path, text)
    assert any("checks.ping.timout: unknown key 'timout' (did you mean 'timeout'?)" in p for p in found), (
        found
    )


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = """\
    timezone: Mars/Olympus
    checks:
      a: {type: command, run: [/bin/true], timeout: soon}
      b: {type: htp, url: "http://x"}
    checklists:
      morning: {schedule: "0 25 * * *", steps: [a, nope]}
    """
    found = problems(tmp_path, text)
    joined = "\n".join(found)
    assert "timezone: unknown timezone 'Mars/Olympus'" in joined
    assert "checks.a.timeout: invalid duration 'soon'" in joined
    assert "checks.b.type: unknown check type 'htp' (did you mean 'http'?" in joined
    assert "checklists.morning.schedule:" in joined
    assert len(found) >= 4


def test_dangling_step_reference_points_at_the_list_item(tmp_path: Path) -> None:
    text = BASE.replace("steps: [ping]", "steps: [ping, pnig]")
    found = problems(tmp_path, text)
    assert any(
        ":9:19: checklists.morning.steps.1: unknown check 'pnig' (did you mean 'ping'?)" in p for p in found
    ), found


def test_unquoted_threshold_says_quote_threshold_expressions(tmp_path: Path) -> None:
    text = BASE.replace("    run: [/bin/true]", "    run: [/bin/true]\n    warn: > 500")
    found = problems(tmp_path, text)
    assert len(found) == 1
    assert "(yaml): quote threshold expressions" in found[0]
    assert found[0].startswith(f"{tmp_path / 'schedules.yaml'}:6:")


def test_yaml_syntax_error_has_key_path_yaml(tmp_path: Path) -> None:
    found = problems(tmp_path, "checks: [\n")
    assert len(found) == 1 and ": (yaml): " in found[0]


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    text = BASE + "timezone: UTC\n"
    found = problems(tmp_path, text)
    assert any("timezone: duplicate key (first defined on line 1)" in p for p in found), found


@pytest.mark.parametrize(
    ("env", "expected_url"),
    [
        ({"HOOK": "json://127.0.0.1:1/a"}, "json://127.0.0.1:1/a"),
        ({}, "json://127.0.0.1:2/default"),
        ({"HOOK": ""}, "json://127.0.0.1:2/default"),
    ],
    ids=["set", "unset-uses-default", "empty-uses-default"],
)
def test_env_interpolation_with_defaults(tmp_path: Path, env: dict[str, str], expected_url: str) -> None:
    text = BASE.replace('"json://127.0.0.1:9/hook"', '"${HOOK:-json://127.0.0.1:2/default}"')
    config = load_config(write(tmp_path, text), env)
    assert config.document.channels["ops"].url == expected_url


def test_missing_env_without_default_is_an_error_naming_it(tmp_path: Path) -> None:
    text = BASE.replace('"json://127.0.0.1:9/hook"', '"${SLACK_URL}"')
    found = problems(tmp_path, text)
    assert any("channels.ops.url: environment variable SLACK_URL is not set" in p for p in found), found


def test_double_dollar_is_a_literal_dollar_and_env_values_are_not_reinterpolated(tmp_path: Path) -> None:
    text = BASE.replace("run: [/bin/true]", 'run: [echo, "$${HOME}", "${WEIRD}"]')
    config = load_config(write(tmp_path, text), {"WEIRD": "${NOT_AGAIN} {{ vars.x }}"})
    assert config.checks["ping"].options.run == ["echo", "${HOME}", "${NOT_AGAIN} {{ vars.x }}"]  # type: ignore[attr-defined]


def test_vars_are_rendered_into_values(tmp_path: Path) -> None:
    text = BASE + 'vars:\n  api: "${API_BASE:-http://127.0.0.1:8099}/api/v1"\n'
    text = text.replace("run: [/bin/true]", 'run: [echo, "{{ vars.api }}/health"]')
    config = load_config(write(tmp_path, text), {})
    assert config.checks["ping"].options.run == ["echo", "http://127.0.0.1:8099/api/v1/health"]  # type: ignore[attr-defined]


def test_unknown_var_is_an_error(tmp_path: Path) -> None:
    text = BASE.replace("run: [/bin/true]", 'run: [echo, "{{ vars.nope }}"]')
    found = problems(tmp_path, text)
    assert any("unknown variable vars.nope" in p for p in found), found


def test_secret_from_env_is_never_echoed_in_problems(tmp_path: Path) -> None:
    secret = "s3cr3t-SENTINEL-value"
    text = BASE.replace('"json://127.0.0.1:9/hook"', '"json://user:${PW}@127.0.0.1:9/hook"')
    text = text.replace("run: [/bin/true]", 'run: [/bin/true]\n    timeout: "json://user:${PW}@x"')
    found = problems(tmp_path, text, {"PW": secret})
    assert found and all(secret not in p for p in found)


def test_secret_in_channel_url_is_registered_with_the_redactor(tmp_path: Path) -> None:
    text = BASE.replace('"json://127.0.0.1:9/hook"', '"json://user:${PW}@127.0.0.1:9/hook?token=${TOK}"')
    config = load_config(write(tmp_path, text), {"PW": "hunter22", "TOK": "abcd1234efgh"})
    assert (
        config.redactor("url json://user:hunter22@h?token=abcd1234efgh")
        == "url json://user:****@h?token=****"
    )


def test_overlapping_cadence_windows_are_an_error(tmp_path: Path) -> None:
    text = BASE + textwrap.dedent("""\
    monitors:
      m:
        checks: [ping]
        cadence:
          - {between: "08:00-12:00", every: 15m}
          - {between: "11:00-22:00", every: 30m}
    """)
    found = problems(tmp_path, text)
    assert any("monitors.m.cadence:" in p and "overlap" in p for p in found), found


def test_crontab_restricting_both_days_is_a_warning_not_an_error(tmp_path: Path) -> None:
    text = BASE.replace('"0 9 * * *"', '"0 2 1-7 * sun"')
    config = load_config(write(tmp_path, text), {})
    assert any(
        "checklists.morning.schedule:" in w.render() and "EITHER" in w.message for w in config.warnings
    )


def test_check_nothing_runs_is_a_warning(tmp_path: Path) -> None:
    text = BASE.replace("checklists:", "  lonely: {type: command, run: [/bin/true]}\nchecklists:")
    config = load_config(write(tmp_path, text), {})
    assert [w.path for w in config.warnings] == ["checks.lonely"]


def test_mapping_weekday_numbers_explain_the_zero_is_monday_trap(tmp_path: Path) -> None:
    text = BASE + "maintenance:\n  - {name: w, schedule: {day_of_week: 0, hour: 2}, duration: 2h}\n"
    found = problems(tmp_path, text)
    assert any("maintenance.0.schedule" in p and "Monday" in p and "Sunday" in p for p in found), found


def test_dependency_cycle_is_an_error(tmp_path: Path) -> None:
    text = BASE.replace(
        "    run: [/bin/true]\n",
        "    run: [/bin/true]\n    depends_on: [other]\n  other: {type: command, run: [/bin/true], depends_on: [ping]}\n",
        1,
    )
    found = problems(tmp_path, text)
    assert any("dependency cycle" in p for p in found), found


def test_relative_sqlite_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE + "database: sqlite:///data/x.db\n"), {})
    assert config.database_url == f"sqlite:///{tmp_path / 'data' / 'x.db'}"


def test_database_env_overrides_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE), {"CHECKRUNNER_DATABASE_URL": "sqlite:////tmp/other.db"})
    assert config.database_url == "sqlite:////tmp/other.db"


def test_missing_file_is_one_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml", {})
    assert [p.render() for p in info.value.problems] == [
        f"{tmp_path / 'nope.yaml'}:1:1: (file): file not found"
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_arbitrary_text_never_raises_anything_but_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(text.encode("utf-8", errors="replace"))
    try:
        load_config(path, {})
    except ConfigError as exc:
        assert exc.problems


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    section=st.sampled_from(
        [
            "checks",
            "checklists",
            "monitors",
            "alerting",
            "channels",
            "reports",
            "maintenance",
            "slos",
            "server",
        ]
    ),
    value=yaml_values,
)
def test_arbitrary_structures_in_any_section_never_traceback(
    tmp_path: Path, section: str, value: object
) -> None:
    import yaml

    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump({section: value}))
    try:
        load_config(path, {})
    except ConfigError as exc:
        assert exc.problems


def test_route_match_and_scope_take_globs(tmp_path: Path) -> None:
    text = BASE + textwrap.dedent("""\
    maintenance:
      - {name: w, schedule: "0 2 * * sun", duration: 1h, scope: {checks: ["pi*"]}}
    """)
    text = text.replace(
        "alerting:\n  default: [ops]",
        'alerting:\n  default: [ops]\n  routes:\n    - {match: {check: "p*"}, to: [ops]}',
    )
    config = load_config(write(tmp_path, text), {})
    assert config.document.alerting.routes[0].match.check == ["p*"]
    assert config.warnings == ()


def test_a_glob_that_matches_no_check_is_a_warning(tmp_path: Path) -> None:
    text = (
        BASE
        + 'maintenance:\n  - {name: w, schedule: "0 2 * * sun", duration: 1h, scope: {checks: ["db-*"]}}\n'
    )
    config = load_config(write(tmp_path, text), {})
    assert [w.message for w in config.warnings] == ["pattern 'db-*' matches no check"]


def test_a_channel_url_apprise_does_not_recognise_is_an_error_without_its_token(tmp_path: Path) -> None:
    text = BASE.replace('"json://127.0.0.1:9/hook"', '"slack://T1234ABCD/B5678EFGH/sh!rt1"')
    found = problems(tmp_path, text)
    assert any("channels.ops.url: Apprise rejects this Slack URL" in p for p in found), found
    assert not any("sh!rt1" in p for p in found)


def test_an_unknown_apprise_scheme_is_an_error(tmp_path: Path) -> None:
    found = problems(tmp_path, BASE.replace('"json://127.0.0.1:9/hook"', '"nosuchservice://x/y"'))
    assert any("channels.ops.url:" in p for p in found), found
