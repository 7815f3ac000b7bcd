"""The nagios check: the perfdata parser on its own, then Debian's real plugins
(check_dummy, check_tcp, check_http, check_disk) against loopback peers."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from checkrunner.core.result import Observation
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext, CheckPlugin
from checkrunner.plugins.perfdata import UNITS, PerfDatum, PluginOutput, parse_perfdata, parse_plugin_output
from checkrunner.plugins.registry import discover
from tests.checks.conftest import HttpPeer, Peer, Reply

PLUGIN: CheckPlugin[Any] = discover(entry_points_too=False).get("nagios")  # type: ignore[assignment]
PLUGINS_DIR = Path("/usr/lib/nagios/plugins")
REQUIRE_ENV = "CHECKRUNNER_REQUIRE_NAGIOS"


def needs_nagios_plugins() -> pytest.MarkDecorator:
    if PLUGINS_DIR.is_dir() or os.environ.get(REQUIRE_ENV) == "1":
        return pytest.mark.nagios
    return pytest.mark.skip(reason=f"{PLUGINS_DIR} is missing (apt install monitoring-plugins-basic)")


nagios = needs_nagios_plugins()


def plugin(name: str) -> str:
    return str(PLUGINS_DIR / name)


async def run(raw: dict[str, Any], base_dir: Path = Path("."), limit_s: float = 5.0) -> Observation:
    context = CheckContext(check="t", now=datetime.now(UTC), timeout=limit_s, base_dir=base_dir)
    return await PLUGIN.run(PLUGIN.Options.model_validate(raw), context)


def fake_plugin(output: str, code: int) -> list[str]:
    """A stand-in plugin printing ``output`` and exiting with ``code``."""
    return [sys.executable, "-c", f"import sys; sys.stdout.write({output!r}); sys.exit({code})"]


# --- perfdata parser ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("time=0.001s;1;2;0;10", [PerfDatum("time", 0.001, "s", "1", "2", 0.0, 10.0)]),
        ("'label with spaces'=5%", [PerfDatum("label with spaces", 5.0, "%")]),
        ("'it''s'=1", [PerfDatum("it's", 1.0)]),
        ("'a=b'=2", [PerfDatum("a=b", 2.0)]),
        ("a=1 b=2c  c=3KB", [PerfDatum("a", 1.0), PerfDatum("b", 2.0, "c"), PerfDatum("c", 3.0, "KB")]),
        ("x=-1.5e3MB;~:10;@5:20", [PerfDatum("x", -1500.0, "MB", "~:10", "@5:20")]),
        ("size=120B;;;0", [PerfDatum("size", 120.0, "B", None, None, 0.0)]),
        ("a=U b=2", [PerfDatum("b", 2.0)]),
        ("a=1xyz b=2", [PerfDatum("b", 2.0)]),
        ("novalue b=2 a=", [PerfDatum("b", 2.0)]),
        ("a=1;2;3;4;5;6 b=2", [PerfDatum("b", 2.0)]),
        ("a=1;;;low b=2", [PerfDatum("b", 2.0)]),
        ("b=2 'unterminated=1", [PerfDatum("b", 2.0)]),
        ("'spaced label' =1 b=2", [PerfDatum("b", 2.0)]),
        ("", []),
    ],
    ids=[
        "value, unit, warn, crit, min and max",
        "a quoted label with spaces",
        "a doubled quote inside a quoted label",
        "an equals sign inside a quoted label",
        "several entries separated by spaces",
        "a negative exponent value with ranges kept as text",
        "empty warn and crit with a min",
        "an undetermined value U is skipped",
        "an unknown unit is skipped",
        "entries without a value are skipped",
        "more than five fields is skipped",
        "a min that is not a number is skipped",
        "an unterminated quote ends parsing",
        "a space before the equals sign is skipped",
        "empty perfdata",
    ],
)
def test_perfdata_parser_keeps_good_entries_and_skips_bad_ones(text: str, expected: list[PerfDatum]) -> None:
    assert parse_perfdata(text) == expected


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("OK - all fine\n", PluginOutput("OK - all fine", "", ())),
        (
            "OK - fine | a=1 b=2s\n",
            PluginOutput("OK - fine", "", (PerfDatum("a", 1.0), PerfDatum("b", 2.0, "s"))),
        ),
        (
            "WARN - two | a=1\nline one\nline two | b=2\nc=3\n",
            PluginOutput(
                "WARN - two",
                "line one\nline two",
                (PerfDatum("a", 1.0), PerfDatum("b", 2.0), PerfDatum("c", 3.0)),
            ),
        ),
        (
            "OK\nlong | b=2 | odd=1\n",
            PluginOutput("OK", "long", (PerfDatum("b", 2.0), PerfDatum("odd", 1.0))),
        ),
        ("", PluginOutput("", "", ())),
    ],
    ids=[
        "text alone",
        "text and perfdata on the first line",
        "long text then perfdata continuing to the end",
        "a stray bar inside perfdata is skipped",
        "no output",
    ],
)
def test_plugin_output_splits_into_text_long_text_and_perfdata(output: str, expected: PluginOutput) -> None:
    assert parse_plugin_output(output) == expected


# --- options ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"run": "check_dummy 0"}, "give run: as a list [prog, arg, …]; commands never run in a shell"),
        ({"run": ["x"], "value": {"regex": "(a)"}}, "a nagios check's value is a perfdata label"),
        ({"run": ["x"], "value": "$.a"}, "a nagios check's value is a perfdata label"),
        ({"run": ["x"], "value": "  "}, "perfdata label is empty"),
        ({"run": ["x"], "exit_codes": {1: "ok"}}, "Extra inputs are not permitted"),
    ],
    ids=[
        "a string run",
        "a regex value",
        "a JSONPath value",
        "an empty label",
        "exit_codes belong to command checks",
    ],
)
def test_invalid_options_are_config_errors(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PLUGIN.Options.model_validate(raw)
    assert message in str(caught.value)


@pytest.mark.parametrize("raw", ["time", {"perfdata": "time"}], ids=["a bare label", "a perfdata mapping"])
def test_value_names_a_perfdata_label(raw: Any) -> None:
    options = PLUGIN.Options.model_validate({"run": ["x"], "value": raw})
    assert (options.value.kind, options.value.expr) == ("perfdata", "time")


# --- the protocol, with stand-in plugins ---------------------------------------------------


@pytest.mark.parametrize(
    ("output", "code", "raw", "status", "summary", "value"),
    [
        ("OK - fine | a=1s b=2\n", 0, {}, Status.OK, "OK - fine", 1.0),
        ("WARNING - slow | a=1s b=2\n", 1, {"value": "b"}, Status.WARNING, "WARNING - slow", 2.0),
        ("CRITICAL - down\n", 2, {}, Status.CRITICAL, "CRITICAL - down", None),
        ("UNKNOWN - confused\n", 3, {}, Status.UNKNOWN, "UNKNOWN - confused", None),
        ("odd\n", 5, {}, Status.UNKNOWN, "odd (exit code 5 is not a Nagios status)", None),
        ("", 0, {}, Status.OK, "no output (exit 0)", None),
        (
            "OK | a=1 b=2\n",
            0,
            {"value": "c"},
            Status.UNKNOWN,
            "perfdata label 'c' not found (have: a, b)",
            None,
        ),
        ("CRITICAL - refused\n", 2, {"value": "time"}, Status.CRITICAL, "CRITICAL - refused", None),
    ],
    ids=[
        "exit 0 is ok and the first perfdata value is the value",
        "exit 1 is a warning and value picks a label",
        "exit 2 is critical",
        "exit 3 is unknown",
        "another exit code is unknown",
        "no output says so",
        "a missing label is unknown and names the labels there are",
        "a missing label does not hide a critical",
    ],
)
async def test_exit_code_and_output_follow_the_plugin_protocol(
    output: str, code: int, raw: dict[str, Any], status: Status, summary: str, value: float | None
) -> None:
    observation = await run({"run": fake_plugin(output, code), **raw})
    assert (observation.status, observation.summary, observation.value) == (status, summary, value)


async def test_long_text_and_perfdata_with_units_go_to_detail_and_metrics() -> None:
    output = "DISK OK | '/'=10MB;20;30;0;100\n/ is fine\n/boot is fine | 'inode /'=97%\n"
    observation = await run({"run": fake_plugin(output, 0)})
    assert observation.metrics == {"/": 10.0, "inode /": 97.0}
    assert observation.detail == "/ is fine\n/boot is fine\nperfdata: /=10MB inode /=97%"


async def test_death_by_a_signal_is_unknown() -> None:
    observation = await run({"run": ["/bin/sh", "-c", "kill -KILL $$"]})
    assert (observation.status, observation.summary) == (Status.UNKNOWN, "killed by SIGKILL")


async def test_a_missing_plugin_is_unknown() -> None:
    observation = await run({"run": ["/nonexistent/check_nothing"]})
    assert (observation.status, observation.summary) == (
        Status.UNKNOWN,
        "command not found: /nonexistent/check_nothing",
    )


async def test_a_hanging_plugin_times_out() -> None:
    with pytest.raises(TimeoutError, match=r"^timed out after 0\.3s; process group killed$"):
        await run({"run": ["sleep", "30"]}, limit_s=0.3)


# --- Debian's plugins -----------------------------------------------------------------------


@nagios
@pytest.mark.parametrize(
    ("code", "status"),
    [(0, Status.OK), (1, Status.WARNING), (2, Status.CRITICAL), (3, Status.UNKNOWN)],
    ids=["0 is ok", "1 is warning", "2 is critical", "3 is unknown"],
)
async def test_check_dummy_exit_codes_become_statuses(code: int, status: Status) -> None:
    observation = await run({"run": [plugin("check_dummy"), code, "all said"]})
    assert observation.status is status
    assert observation.summary == f"{status.name}: all said"


@nagios
async def test_check_tcp_against_a_listener_reports_its_response_time(
    tcp_server: Callable[..., Awaitable[Peer]],
) -> None:
    async def accept(reader: Any, writer: Any) -> None:
        await reader.read(1)  # hold the connection until the plugin closes it

    peer = await tcp_server(accept)
    observation = await run({"run": [plugin("check_tcp"), "-H", "127.0.0.1", "-p", peer.port]})
    assert observation.status is Status.OK
    assert observation.summary.startswith("TCP OK")
    assert set(observation.metrics) == {"time"}
    assert observation.value == observation.metrics["time"]


@nagios
async def test_check_tcp_against_a_closed_port_is_critical(closed_port: int) -> None:
    observation = await run({"run": [plugin("check_tcp"), "-H", "127.0.0.1", "-p", closed_port]})
    assert observation.status is Status.CRITICAL
    assert "Connection refused" in observation.summary


@nagios
async def test_check_http_against_a_loopback_server_reads_size_by_label(
    http_server: Callable[..., Awaitable[HttpPeer]],
) -> None:
    server = await http_server({"/health": Reply(200, "healthy")})
    command = [plugin("check_http"), "-H", "127.0.0.1", "-p", server.port, "-u", "/health", "-s", "healthy"]
    observation = await run({"run": command, "value": "size"})
    assert observation.status is Status.OK, observation.summary
    assert observation.summary.startswith("HTTP OK")
    assert {"time", "size"} <= set(observation.metrics)
    assert observation.value == observation.metrics["size"] > len("healthy")  # headers count too
    assert [request.path for request in server.requests] == ["/health"]


@nagios
async def test_check_disk_perfdata_keeps_its_units() -> None:
    observation = await run({"run": [plugin("check_disk"), "-w", "20%", "-c", "10%", "-p", "/"]})
    assert observation.status in (Status.OK, Status.WARNING, Status.CRITICAL)
    assert observation.summary.startswith("DISK ")
    assert observation.metrics["/"] > 0
    assert observation.value == observation.metrics["/"]
    shown = re.search(r"perfdata: /=([\d.]+)(\S*)", observation.detail or "")
    assert shown is not None and shown.group(2) in UNITS - {""}
