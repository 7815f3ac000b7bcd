"""The demo's HTTP surface: start-up time, routing, control, sinks, maintenance actions."""

from __future__ import annotations

import gzip
import json
import time
import urllib.request
import warnings
from pathlib import Path
from typing import Any

import pytest

from demo.api import ACTIONS, GET_ROUTES
from demo.catalog import TARGETS
from demo.server import start
from tests.demo.support import TZ, DemoProc, get, post_json


def test_the_demo_starts_in_under_a_second_on_a_fresh_data_folder(tmp_path: Path) -> None:
    began = time.monotonic()
    running = start(tmp_path / "demo-data", 0, 0, TZ, seed=1)
    took = time.monotonic() - began
    try:
        status, _, body, _ = get(f"http://127.0.0.1:{running.ports[0]}/api/v1/health")
    finally:
        running.stop()
    assert took < 1.0
    assert status == 200 and json.loads(body)["status"] == "healthy"
    assert {p.name for p in (tmp_path / "demo-data").iterdir()} >= {
        "app.log",
        "app.db",
        "ca.pem",
        "ca-key.pem",
    }


def test_the_demo_process_is_ready_quickly(demo_proc: DemoProc) -> None:
    assert demo_proc.started.ready_s < 5.0  # interpreter start included; the demo itself: < 1 s above


@pytest.mark.parametrize("path", sorted(GET_ROUTES), ids=sorted(GET_ROUTES))
def test_every_api_endpoint_answers_json_and_refuses_post(demo_proc: DemoProc, path: str) -> None:
    status, content_type, body, _ = get(demo_proc.base + path)
    assert (status, content_type) == (200, "application/json")
    assert isinstance(json.loads(body), dict)
    status, _, body, _ = get(demo_proc.base + path, "POST")
    assert status == 405 and "answers GET" in json.loads(body)["error"]


@pytest.mark.parametrize("path", sorted(ACTIONS), ids=sorted(ACTIONS))
def test_every_maintenance_action_completes_on_post_and_refuses_get(demo_proc: DemoProc, path: str) -> None:
    status, _, body, _ = get(demo_proc.base + path, "POST")
    answer = json.loads(body)
    assert (status, answer["status"], answer["action"]) == (200, "completed", ACTIONS[path])
    status, _, body, _ = get(demo_proc.base + path)
    assert status == 405 and "POST it" in json.loads(body)["error"]


def test_an_unknown_path_is_a_404_that_points_at_the_index(demo_proc: DemoProc) -> None:
    status, _, body, _ = get(demo_proc.base + "/api/v1/nope")
    assert status == 404 and "GET / lists them" in json.loads(body)["error"]
    index = json.loads(get(demo_proc.base + "/")[2])
    assert set(index["api"]) == set(GET_ROUTES) and set(index["actions"]) == set(ACTIONS)


def test_logs_cleanup_archives_the_log_and_starts_a_new_file(demo_proc: DemoProc) -> None:
    log = demo_proc.data / "app.log"
    inode, old_text = log.stat().st_ino, log.read_bytes()
    answer = json.loads(get(demo_proc.base + "/api/v1/maintenance/logs-cleanup", "POST")[2])
    archive = demo_proc.data / "logs" / answer["result"]["archived"]
    assert gzip.decompress(archive.read_bytes()).startswith(old_text)
    assert log.stat().st_ino != inode  # a log check sees a rotation and restarts at the top


def test_database_optimize_really_vacuums_the_app_database(demo_proc: DemoProc) -> None:
    answer = json.loads(get(demo_proc.base + "/api/v1/maintenance/database-optimize", "POST")[2])
    assert answer["result"]["tables"]["educational_content"] > 0
    assert answer["result"]["bytes_after"] > 0


def test_the_mode_list_names_every_example_check_with_its_reachable_modes(demo_proc: DemoProc) -> None:
    view = json.loads(get(demo_proc.base + "/_demo/mode")[2])
    assert set(view["modes"]) == set(TARGETS)
    assert view["checks"]["handoff"] == {
        "mode": "ok",
        "modes": ["ok", "critical", "unknown"],
        "effect": "normal",
    }


def test_setting_all_reports_what_it_changed_and_what_it_skipped(demo_proc: DemoProc) -> None:
    answer = demo_proc.set("all", "warning")
    assert "api-latency" in answer["changed"] and "handoff" not in answer["changed"]
    assert "handoff cannot be warning" in answer["skipped"]["handoff"]
    assert json.loads(get(demo_proc.base + "/_demo/mode")[2])["modes"]["api-latency"] == "warning"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"not json", 'send JSON: {"check": "api-latency", "mode": "critical"}'),
        (b'{"check": "api-latency"}', 'send JSON: {"check": "api-latency", "mode": "critical"}'),
        (
            b'{"check": "nope", "mode": "ok"}',
            "unknown check 'nope': GET /_demo/mode lists the example checks",
        ),
        (b'{"check": "disk", "mode": "critical"}', "disk cannot be critical under the example thresholds"),
    ],
    ids=["not-json", "no-mode", "unknown-check", "unreachable-mode"],
)
def test_a_bad_mode_request_is_a_400_with_one_line(demo_proc: DemoProc, body: bytes, error: str) -> None:
    request = urllib.request.Request(demo_proc.base + "/_demo/mode", body, method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 400
    assert error in json.load(info.value)["error"]


def _sink(demo: DemoProc, name: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = json.loads(get(f"{demo.base}/_demo/sink/{name}")[2])["messages"]
    return messages


def test_a_sink_keeps_the_last_hundred_messages_newest_first(demo_proc: DemoProc) -> None:
    for number in range(105):
        post_json(f"{demo_proc.base}/_demo/sink/keep-test", {"title": f"t{number}", "body": "x"})
    messages = _sink(demo_proc, "keep-test")
    assert len(messages) == 100
    assert [m["body"]["title"] for m in (messages[0], messages[-1])] == ["t104", "t5"]


def test_a_sink_keeps_a_text_body_as_text(demo_proc: DemoProc) -> None:
    request = urllib.request.Request(f"{demo_proc.base}/_demo/sink/text-test", b"plain words", method="POST")
    urllib.request.urlopen(request, timeout=10).read()
    assert _sink(demo_proc, "text-test")[0]["body"] == "plain words"


def test_apprise_delivers_to_a_sink_as_the_example_channels_do(demo_proc: DemoProc) -> None:
    port = demo_proc.base.rsplit(":", 1)[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # apprise imports imghdr, deprecated in 3.11
        import apprise

        notifier = apprise.Apprise()
        assert notifier.add(f"json://127.0.0.1:{port}/_demo/sink/slack")
        assert notifier.notify(title="api-latency is critical", body="value 1500 breaches crit: > 1000")
    message = _sink(demo_proc, "slack")[0]["body"]
    assert (message["title"], message["message"]) == (
        "api-latency is critical",
        "value 1500 breaches crit: > 1000",
    )
