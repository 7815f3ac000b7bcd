"""The tcp check against real listeners on 127.0.0.1 (see conftest.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from checkrunner.core.result import Observation
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext, CheckPlugin
from checkrunner.plugins.registry import discover
from tests.checks.conftest import HangupWatch, Peer, Pki

PLUGIN: CheckPlugin[Any] = discover(entry_points_too=False).get("tcp")  # type: ignore[assignment]
StartTcp = Callable[..., Awaitable[Peer]]
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def run(raw: dict[str, Any], limit: float = 2.0, base_dir: Path = Path(".")) -> Observation:
    context = CheckContext(check="t", now=datetime.now(UTC), timeout=limit, base_dir=base_dir)
    return await PLUGIN.run(PLUGIN.Options.model_validate(raw), context)


def replying(reply: bytes, *, wait_for: bytes = b"", then_close: bool = False) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if wait_for:
            await reader.readuntil(wait_for)
        writer.write(reply)
        await writer.drain()
        if not then_close:
            await reader.read()  # keep the connection until the client is done

    return handle


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()


@pytest.mark.parametrize(
    ("handler", "raw", "status", "summary"),
    [
        (silent, {}, Status.OK, r"^TCP connection to 127\.0\.0\.1:\d+ in \d+ ms$"),
        (
            replying(b"+PONG\r\n", wait_for=b"PING\r\n"),
            {"send": "PING\r\n", "expect": "+PONG"},
            Status.OK,
            r"^TCP connection to 127\.0\.0\.1:\d+ in \d+ ms; got '\+PONG'$",
        ),
        (
            replying(b"SSH-2.0-OpenSSH_9.6\r\n"),
            {"expect": "SSH-2.0"},
            Status.OK,
            "got 'SSH-2.0-OpenSSH_9.6'$",
        ),
        (
            replying(b"-ERR unknown\r\n", wait_for=b"\n", then_close=True),
            {"send": "PING\n", "expect": "+PONG"},
            Status.CRITICAL,
            r"^expected '\+PONG' from 127\.0\.0\.1:\d+, got '-ERR unknown\\r\\n'$",
        ),
        (
            hang_up,
            {"expect": "+PONG"},
            Status.CRITICAL,
            r"^expected '\+PONG' from 127\.0\.0\.1:\d+, got nothing before the connection closed$",
        ),
        (replying(b"x" * 65536), {"expect": "+PONG"}, Status.CRITICAL, r"got 'xxxx+'$"),
    ],
    ids=[
        "an open port is ok",
        "a reply containing the expected text is ok",
        "a banner containing the expected text is ok",
        "a different reply is critical",
        "a peer hanging up without a word is critical",
        "a flood without the expected text is critical after a bounded read",
    ],
)
async def test_tcp_check_talks_to_real_listeners(
    tcp_server: StartTcp, handler: Handler, raw: dict[str, Any], status: Status, summary: str
) -> None:
    peer = await tcp_server(handler)
    observation = await run({"host": "127.0.0.1", "port": peer.port, **raw})
    assert observation.status is status, observation
    assert re.search(summary, observation.summary), observation.summary
    assert observation.value == observation.metrics["connect_ms"]
    assert ("response_ms" in observation.metrics) is ("expect" in raw)


@pytest.mark.parametrize(
    ("host", "summary"),
    [
        ("127.0.0.1", "connection refused to 127.0.0.1:{port}"),
        ("localhost", "connection refused to localhost:{port}"),
        ("nohost.invalid", "DNS lookup failed for nohost.invalid"),
    ],
    ids=[
        "a closed port is critical",
        "every address of a name refusing is critical",
        "an unknown name is critical",
    ],
)
async def test_unreachable_targets_are_critical(closed_port: int, host: str, summary: str) -> None:
    observation = await run({"host": host, "port": closed_port})
    assert (observation.status, observation.summary) == (Status.CRITICAL, summary.format(port=closed_port))
    assert observation.value is None


@pytest.mark.parametrize(
    ("handler", "got"),
    [(silent, ""), (replying(b"-ERR busy\r\n"), r" \(got '-ERR busy\\r\\n'\)")],
    ids=["a silent peer", "a peer that said something else and waits"],
)
async def test_waiting_past_the_timeout_for_a_reply_raises_timeout_error(
    tcp_server: StartTcp, handler: Handler, got: str
) -> None:
    peer = await tcp_server(handler)
    message = rf"^timed out after 0\.3s waiting for '\+PONG' from 127\.0\.0\.1:\d+{got}$"
    with pytest.raises(TimeoutError, match=message):
        await run({"host": "127.0.0.1", "port": peer.port, "expect": "+PONG"}, limit=0.3)


async def test_cancelling_a_run_closes_its_connection(tcp_server: StartTcp) -> None:
    watch = HangupWatch()
    peer = await tcp_server(watch)
    task = asyncio.create_task(run({"host": "127.0.0.1", "port": peer.port, "expect": "never"}, limit=30))
    await asyncio.wait_for(watch.connected.wait(), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(watch.closed.wait(), 2)


@pytest.mark.parametrize(
    ("leaf", "raw", "status", "summary"),
    [
        (
            {},
            {"ca_file": "pki/ca.pem"},
            Status.OK,
            r"^TLS connection to 127\.0\.0\.1:\d+ in \d+ ms; got 'hello'$",
        ),
        (
            {"self_signed": True},
            {},
            Status.CRITICAL,
            r"^TLS failure with 127\.0\.0\.1:\d+: certificate verify failed: self-signed certificate$",
        ),
        ({"self_signed": True}, {"verify_tls": False}, Status.OK, "^TLS connection"),
    ],
    ids=[
        "a certificate from the private ca is trusted",
        "a self-signed certificate is a tls failure",
        "verify_tls false accepts a self-signed certificate",
    ],
)
async def test_tls_connections(
    tcp_server: StartTcp,
    pki: Pki,
    tmp_path: Path,
    leaf: dict[str, Any],
    raw: dict[str, Any],
    status: Status,
    summary: str,
) -> None:
    peer = await tcp_server(replying(b"hello\n"), ssl=pki.issue(**leaf).server_context())
    options = {"host": "127.0.0.1", "port": peer.port, "tls": True, "expect": "hello", **raw}
    observation = await run(options, base_dir=tmp_path)
    assert observation.status is status, observation
    assert re.search(summary, observation.summary), observation.summary


async def test_tls_to_a_plain_tcp_server_is_critical(tcp_server: StartTcp) -> None:
    peer = await tcp_server(replying(b"HTTP/1.1 400 Bad Request\r\n\r\n"))
    observation = await run({"host": "127.0.0.1", "port": peer.port, "tls": True})
    assert observation.status is Status.CRITICAL
    assert re.fullmatch(r"TLS failure with 127\.0\.0\.1:\d+: \S.*", observation.summary), observation.summary


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"host": "h", "port": 0}, "greater than or equal to 1"),
        ({"host": "h", "port": 65536}, "less than or equal to 65535"),
        ({"host": "h"}, "port\n  Field required"),
        ({"host": "", "port": 1}, "at least 1 character"),
        ({"host": "db:5432", "port": 1}, "give the port as port:"),
        ({"host": "tcp://db", "port": 1}, "not a host name or address"),
        ({"host": "h", "port": 1, "expect": ""}, "at least 1 character"),
        ({"host": "h", "port": 1, "verify_tls": False}, "only apply with tls: true"),
        ({"host": "h", "port": 1, "timeout": 3}, "Extra inputs are not permitted"),
    ],
    ids=[
        "port zero",
        "a port above 65535",
        "a missing port",
        "an empty host",
        "a port inside the host",
        "a url as host",
        "an empty expect",
        "tls options without tls",
        "a common key is not a tcp option",
    ],
)
def test_invalid_options_are_config_errors(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        PLUGIN.Options.model_validate(raw)


@pytest.mark.parametrize(
    ("host", "stored"),
    [("::1", "::1"), ("[::1]", "::1"), ("db.internal", "db.internal")],
    ids=["a bare ipv6 address", "a bracketed ipv6 address", "a host name"],
)
def test_hosts_are_stored_bare(host: str, stored: str) -> None:
    options: Any = PLUGIN.Options.model_validate({"host": host, "port": 1})
    assert options.host == stored
