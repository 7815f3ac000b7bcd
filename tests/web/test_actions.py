"""Acting through the API and the page's forms: acknowledge, silence, unsilence; incidents."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.web.support import TOKEN, Served

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def open_incident(served: Served) -> int:
    await served.engine.run_check("broken")
    incidents = served.store.incidents(open_only=True)
    assert [i.check for i in incidents] == ["broken"], incidents
    return incidents[0].id


async def test_incidents_list_the_open_ones_and_ack_marks_them(served: Served) -> None:
    incident = await open_incident(served)
    client, headers = served.client, served.authed()
    listed = (await client.get("/api/v1/incidents", headers=headers)).json()["incidents"]
    assert [(i["id"], i["check"], i["status"], i["acknowledged_at"]) for i in listed] == [
        (incident, "broken", "critical", None)
    ]
    acked = await client.post("/api/v1/checks/broken/ack", json={"by": "alice"}, headers=headers)
    assert acked.status_code == 200 and acked.json() == {
        "acknowledged": incident,
        "check": "broken",
        "by": "alice",
    }
    listed = (await client.get("/api/v1/incidents", headers=headers)).json()["incidents"]
    assert listed[0]["acknowledged_by"] == "alice" and listed[0]["acknowledged_at"].endswith("-03:00")
    checks = {c["check"]: c for c in (await client.get("/api/v1/checks", headers=headers)).json()["checks"]}
    assert checks["broken"]["acknowledged"] is True and checks["fine"]["acknowledged"] is False
    assert (await client.post("/api/v1/checks/fine/ack", headers=headers)).status_code == 409
    assert (await client.post("/api/v1/checks/nope/ack", headers=headers)).status_code == 404


async def test_silences_are_added_listed_shown_and_ended(served: Served) -> None:
    client, headers = served.client, served.authed()
    created = await client.post(
        "/api/v1/silences",
        json={"target": "tag:prod", "for": "2h", "reason": "deploy <b>now</b>"},
        headers=headers,
    )
    assert created.status_code == 201
    body = created.json()
    until = datetime.fromisoformat(body["until"])
    assert timedelta(hours=1, minutes=59) < until - datetime.now().astimezone() <= timedelta(hours=2)
    assert (await client.get("/api/v1/silences", headers=headers)).json() == [body]
    checks = {c["check"]: c for c in (await client.get("/api/v1/checks", headers=headers)).json()["checks"]}
    assert checks["fine"]["silenced"] is True and checks["broken"]["silenced"] is False
    page = (await client.get("/", headers=headers)).text
    assert "deploy &lt;b&gt;now&lt;/b&gt;" in page and "silenced until" in page
    assert (await client.delete(f"/api/v1/silences/{body['id']}", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/silences", headers=headers)).json() == []
    assert (await client.delete(f"/api/v1/silences/{body['id']}", headers=headers)).status_code == 404
    assert (
        await client.delete("/api/v1/silences/99999999999999999999999", headers=headers)
    ).status_code == 404


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"for": "2h"}, "silence target is empty"),
        ({"target": "a b", "for": "2h"}, "use a check name"),
        ({"target": "fine"}, 'give "for"'),
        ({"target": "fine", "for": "soon"}, "for:"),
        ({"target": "fine", "for": "100d"}, "within 90 days"),
        ({"target": "fine", "until": "2000-01-01T00:00:00+00:00"}, "must end after now"),
        ({"target": "fine", "until": "tomorrow"}, "ISO"),
    ],
    ids=["no-target", "bad-target", "no-duration", "bad-duration", "too-long", "in-the-past", "bad-until"],
)
async def test_bad_silences_are_400_with_the_reason(
    served_sqlite: Served, fields: dict[str, str], message: str
) -> None:
    response = await served_sqlite.client.post(
        "/api/v1/silences", json=fields, headers=served_sqlite.authed()
    )
    assert response.status_code == 400 and message in response.json()["error"]
    assert served_sqlite.store.silences(datetime.now().astimezone()) == []


async def test_non_json_bodies_are_400(served_sqlite: Served) -> None:
    client, headers = served_sqlite.client, served_sqlite.authed()
    assert (await client.post("/api/v1/silences", content=b"{nope", headers=headers)).status_code == 400
    assert (await client.post("/api/v1/silences", json=["fine"], headers=headers)).status_code == 400
    assert (await client.post("/api/v1/silences", json={"target": 3}, headers=headers)).status_code == 400


async def test_the_page_forms_act_and_come_back_to_the_page(served_sqlite: Served) -> None:
    await open_incident(served_sqlite)
    client, base = served_sqlite.client, served_sqlite.base
    page = (await client.get("/", auth=("me", TOKEN))).text
    assert 'action="/api/v1/checks/broken/ack"' in page and 'action="/api/v1/silences"' in page
    same = {**FORM, "Origin": base, "Sec-Fetch-Site": "same-origin"}
    acked = await client.post("/api/v1/checks/broken/ack", content=b"", headers=same, auth=("me", TOKEN))
    assert acked.status_code == 303 and acked.headers["location"] == "/"
    added = await client.post(
        "/api/v1/silences",
        content=b"target=fine&for=1h&reason=from+the+page",
        headers=same,
        auth=("me", TOKEN),
    )
    assert added.status_code == 303
    (silence,) = served_sqlite.store.silences(datetime.now().astimezone())
    assert (silence.target, silence.reason) == ("fine", "from the page")
    page = (await client.get("/", auth=("me", TOKEN))).text
    assert f'action="/api/v1/silences/{silence.id}/delete"' in page and "acknowledged by web" in page
    ended = await client.post(f"/api/v1/silences/{silence.id}/delete", headers=same, auth=("me", TOKEN))
    assert ended.status_code == 303
    assert served_sqlite.store.silences(datetime.now().astimezone()) == []


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}],
    ids=["foreign-origin", "opaque-origin", "cross-site-fetch"],
)
async def test_cross_site_posts_are_refused_even_with_credentials(
    served_sqlite: Served, headers: dict[str, str]
) -> None:
    await open_incident(served_sqlite)
    client = served_sqlite.client
    attempt = {**FORM, **headers}
    silenced = await client.post(
        "/api/v1/silences", content=b"target=*&for=90d", headers=attempt, auth=("me", TOKEN)
    )
    assert silenced.status_code == 403
    assert (
        await client.post("/api/v1/checks/broken/ack", headers=attempt, auth=("me", TOKEN))
    ).status_code == 403
    assert served_sqlite.store.silences(datetime.now().astimezone()) == []
    assert served_sqlite.store.incidents(open_only=True)[0].acknowledged_at is None


async def test_acting_needs_the_token(served_sqlite: Served) -> None:
    response = await served_sqlite.client.post("/api/v1/silences", json={"target": "fine", "for": "1h"})
    assert response.status_code == 401
