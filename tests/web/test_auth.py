"""Token auth: Bearer or Basic (password = token) everywhere but /healthz and /ping."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from checkrunner.config import load_config
from checkrunner.web.auth import authorized
from tests.web.support import BODY, TOKEN, Served, serve, write_config


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"Bearer {TOKEN}", True),
        (f"bearer   {TOKEN}  ", True),
        (basic("anyone", TOKEN), True),
        (basic("", TOKEN), True),
        (None, False),
        ("", False),
        ("Bearer", False),
        (f"Bearer {TOKEN}x", False),
        (f"Bearer {TOKEN[:-1]}", False),
        (basic(TOKEN, "wrong"), False),
        ("Basic !!!not-base64!!!", False),
        ("Basic " + base64.b64encode(TOKEN.encode()).decode(), False),  # no user:password colon
        ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), False),
        (f"Token {TOKEN}", False),
        ("Bearer tök-ñon-ascii", False),
    ],
    ids=[
        "bearer",
        "bearer-case-and-spaces",
        "basic-any-user",
        "basic-empty-user",
        "no-header",
        "empty-header",
        "bearer-without-token",
        "longer-token",
        "shorter-token",
        "token-as-user-not-password",
        "basic-garbage",
        "basic-without-colon",
        "basic-not-utf8",
        "unknown-scheme",
        "non-ascii-token",
    ],
)
def test_authorization_header_carries_the_token_only_as_bearer_or_basic_password(
    header: str | None, expected: bool
) -> None:
    assert authorized(header, TOKEN) is expected


@pytest.mark.parametrize(
    "path", ["/", "/metrics", "/api/v1/checks", "/api/v1/openapi.json", "/runs/1", "/nope"]
)
async def test_without_credentials_every_path_but_healthz_and_ping_is_401_with_a_basic_prompt(
    served_sqlite: Served, path: str
) -> None:
    response = await served_sqlite.client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic ")
    assert TOKEN not in response.text


async def test_bearer_and_basic_open_the_status_page_and_a_wrong_token_does_not(
    served_sqlite: Served,
) -> None:
    client = served_sqlite.client
    assert (await client.get("/", headers={"Authorization": f"Bearer {TOKEN}"})).status_code == 200
    assert (await client.get("/", auth=("admin", TOKEN))).status_code == 200
    assert (await client.get("/", auth=("admin", "not-it"))).status_code == 401
    assert (await client.get("/", headers={"Authorization": "Bearer not-it"})).status_code == 401


async def test_healthz_and_ping_need_no_token(served_sqlite: Served) -> None:
    client = served_sqlite.client
    assert (await client.get("/healthz")).status_code == 200
    # /ping is not behind the token: it answers by its own key (404 = unknown or wrong key)
    assert (await client.post("/ping/backup?key=wrong")).status_code == 404


async def test_without_a_token_the_loopback_surface_is_open(tmp_path: Path, sqlite_url: str) -> None:
    config = load_config(write_config(tmp_path, sqlite_url, BODY, 'server: {listen: "127.0.0.1:0"}'))
    async with serve(config) as running:
        assert (await running.client.get("/")).status_code == 200
        assert (await running.client.get("/api/v1/checks")).status_code == 200


async def test_a_token_changed_by_a_reload_applies_at_once(
    served_sqlite: Served, tmp_path: Path, sqlite_url: str
) -> None:
    text = (tmp_path / "schedules.yaml").read_text().replace(TOKEN, "tok-NEW-SENTINEL-1234")
    (tmp_path / "schedules.yaml").write_text(text)
    served_sqlite.engine.config = load_config(tmp_path / "schedules.yaml")  # what Daemon.reload does
    client = served_sqlite.client
    assert (await client.get("/", auth=("a", TOKEN))).status_code == 401
    assert (await client.get("/", auth=("a", "tok-NEW-SENTINEL-1234"))).status_code == 200
