"""The JSON API against a real server and a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from starlette.routing import Route

from checkrunner.web.openapi import PATHS
from tests.web.support import PING_KEY, TOKEN, Served


async def test_checks_lists_every_configured_check_with_state_last_result_and_uptime(served: Served) -> None:
    await served.engine.run_checklist("morning")
    response = await served.client.get("/api/v1/checks", headers=served.authed())
    assert response.status_code == 200
    checks = {c["check"]: c for c in response.json()["checks"]}
    assert set(checks) == {"fine", "broken", "backup", "nightly"}
    assert checks["fine"]["status"] == "ok" and checks["fine"]["state"] == "hard"
    assert checks["fine"]["uptime"] == {"24h": 100.0, "7d": 100.0, "30d": 100.0}
    assert checks["fine"]["tags"] == ["prod"] and checks["fine"]["type"] == "command"
    assert checks["broken"]["status"] == "critical"
    assert checks["broken"]["uptime"]["24h"] == 0.0
    assert checks["broken"]["last_result"]["summary"].startswith("<script>alert(1)</script>")
    assert checks["backup"]["status"] is None and checks["backup"]["state"] == "pending"
    assert checks["backup"]["uptime"]["30d"] is None
    # problems first: the critical check leads
    assert response.json()["checks"][0]["check"] == "broken"
    # times carry the config's offset (America/Sao_Paulo is -03:00)
    assert checks["fine"]["since"].endswith("-03:00")
    assert PING_KEY not in response.text and TOKEN not in response.text


async def test_results_of_a_check_newest_first_and_since_bounds_them(served: Served) -> None:
    for _ in range(3):
        await served.engine.run_check("fine")
    client, headers = served.client, served.authed()
    results = (await client.get("/api/v1/checks/fine/results", headers=headers)).json()
    assert len(results) == 3 and all(r["status"] == "ok" for r in results)
    started = [datetime.fromisoformat(r["started_at"]) for r in results]
    assert started == sorted(started, reverse=True)
    future = (datetime.now().astimezone() + timedelta(hours=1)).isoformat()
    assert (
        await client.get("/api/v1/checks/fine/results", params={"since": future}, headers=headers)
    ).json() == []
    assert (
        len((await client.get("/api/v1/checks/fine/results?since=1h&limit=2", headers=headers)).json()) == 2
    )


async def test_bad_parameters_are_400_and_unknown_names_or_runs_are_404(served: Served) -> None:
    client, headers = served.client, served.authed()
    bad = await client.get("/api/v1/checks/fine/results?since=yesterday-ish", headers=headers)
    assert bad.status_code == 400 and "since=" in bad.json()["error"]
    assert (await client.get("/api/v1/checks/fine/results?limit=0", headers=headers)).status_code == 400
    assert (await client.get("/api/v1/checks/fine/results?limit=x", headers=headers)).status_code == 400
    assert (await client.get("/api/v1/checks/nope/results", headers=headers)).status_code == 404
    for path in ["/api/v1/runs/999", "/api/v1/runs/99999999999999999999999", "/api/v1/runs/abc",
                 "/api/v1/runs/..%2F..%2Fetc%2Fpasswd", "/api/v1/runs/-1", "/runs/999", "/runs/../etc/passwd"]:  # fmt: skip
        response = await client.get(path, headers=headers)
        assert response.status_code == 404, path


async def test_a_run_lists_its_steps_in_order(served: Served) -> None:
    run = await served.engine.run_checklist("morning")
    body = (await served.client.get(f"/api/v1/runs/{run.run_id}", headers=served.authed())).json()
    assert body["id"] == run.run_id and body["kind"] == "checklist" and body["name"] == "morning"
    assert body["status"] == "critical"
    assert [s["check"] for s in body["steps"]] == ["fine", "broken"]
    assert all(s["run_id"] == run.run_id for s in body["steps"])


async def test_openapi_documents_exactly_the_served_api_and_ping_paths(served_sqlite: Served) -> None:
    response = await served_sqlite.client.get("/api/v1/openapi.json", headers=served_sqlite.authed())
    document = response.json()
    assert document["openapi"].startswith("3.")
    served_paths = {
        route.path.replace("{id:int}", "{id}").replace("{code:int}", "{exit_code}")
        for route in served_sqlite.surface.app.routes
        if isinstance(route, Route) and route.path.startswith(("/api/v1/", "/ping/"))
    }
    assert set(document["paths"]) | {"/api/v1/openapi.json"} == served_paths
    assert set(PATHS) == set(document["paths"])
    json.dumps(document)  # serialisable as served
