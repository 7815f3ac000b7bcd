"""The tls check against real TLS servers on 127.0.0.1 with certificates made per test."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography import x509
from pydantic import ValidationError

from checkrunner.core.errors import CheckFailed
from checkrunner.core.result import Observation
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext, CheckPlugin
from checkrunner.plugins.registry import discover
from tests.checks.conftest import Peer, Pki

PLUGIN: CheckPlugin[Any] = discover(entry_points_too=False).get("tls")  # type: ignore[assignment]
StartTcp = Callable[..., Awaitable[Peer]]
CA = "Checkrunner Test CA"
DATE = r"\d{4}-\d\d-\d\d \d\d:\d\d"


async def run(
    raw: dict[str, Any], base_dir: Path = Path("."), limit: float = 2.0, now: datetime | None = None
) -> Observation:
    context = CheckContext(check="t", now=now or datetime.now(UTC), timeout=limit, base_dir=base_dir)
    return await PLUGIN.run(PLUGIN.Options.model_validate(raw), context)


async def idle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()


async def not_tls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"SSH-2.0-OpenSSH_9.6\r\n")
    await writer.drain()
    await reader.read()


@pytest.mark.parametrize(
    ("leaf", "raw", "status", "days", "summary"),
    [
        (
            {},
            {"ca_file": "pki/ca.pem"},
            Status.OK,
            90,
            rf"^CN=localhost issued by {CA}, expires {DATE} UTC \(90\.0 days left\)$",
        ),
        ({"not_after": timedelta(days=5)}, {"ca_file": "pki/ca.pem"}, Status.OK, 5, r"\(5\.0 days left\)$"),
        (
            {"not_after": timedelta(days=-2)},
            {"ca_file": "pki/ca.pem"},
            Status.CRITICAL,
            -2,
            rf"^certificate expired on {DATE} UTC \(2\.0 days ago\): CN=localhost issued by {CA}$",
        ),
        (
            {"not_after": timedelta(days=-2)},
            {"verify": False},
            Status.CRITICAL,
            -2,
            "^certificate expired on ",
        ),
        (
            {"common_name": "selfie", "self_signed": True},
            {},
            Status.CRITICAL,
            90,
            r"^TLS failure with 127\.0\.0\.1:\d+: certificate verify failed: self-signed certificate; "
            r"CN=selfie issued by selfie, expires ",
        ),
        (
            {"common_name": "selfie", "self_signed": True},
            {"verify": False},
            Status.OK,
            90,
            "^CN=selfie issued by selfie, expires",
        ),
        (
            {},
            {"ca_file": "pki/ca.pem", "server_name": "other.test"},
            Status.CRITICAL,
            90,
            r"certificate verify failed: Hostname mismatch, certificate is not valid for 'other.test'.; CN=",
        ),
        ({}, {"ca_file": "pki/ca.pem", "server_name": "localhost"}, Status.OK, 90, "^CN=localhost"),
        (
            {"common_name": None, "sans": ["api.example.test"]},
            {"verify": False},
            Status.OK,
            90,
            f"^SAN=api.example.test issued by {CA}",
        ),
    ],
    ids=[
        "a valid certificate from the private ca is ok",
        "a certificate expiring soon is ok with its days left as value",
        "an expired certificate is critical",
        "an expired certificate is critical even without verification",
        "a self-signed certificate without ca_file is critical with the reason",
        "a self-signed certificate without verification is ok",
        "a certificate for another name is critical",
        "server_name selects the name to verify",
        "a certificate without cn is named by its first san",
    ],
)
async def test_tls_check_reads_real_certificates(
    tcp_server: StartTcp,
    pki: Pki,
    tmp_path: Path,
    leaf: dict[str, Any],
    raw: dict[str, Any],
    status: Status,
    days: int,
    summary: str,
) -> None:
    peer = await tcp_server(idle, ssl=pki.issue(**leaf).server_context())
    observation = await run({"host": "127.0.0.1", "port": peer.port, **raw}, base_dir=tmp_path)
    assert observation.status is status, observation
    assert re.search(summary, observation.summary), observation.summary
    assert observation.value == pytest.approx(days, abs=0.01)
    assert observation.metrics == {"days_left": observation.value}


async def test_days_left_count_from_the_runs_now(tcp_server: StartTcp, pki: Pki, tmp_path: Path) -> None:
    peer = await tcp_server(idle, ssl=pki.issue(not_after=timedelta(days=30)).server_context())
    later = datetime.now(UTC) + timedelta(days=10)
    observation = await run(
        {"host": "127.0.0.1", "port": peer.port, "ca_file": "pki/ca.pem"}, tmp_path, now=later
    )
    assert observation.value == pytest.approx(20, abs=0.01)


async def test_the_server_name_is_sent_as_sni(tcp_server: StartTcp, pki: Pki, tmp_path: Path) -> None:
    names: list[str | None] = []
    context = pki.issue(sans=["www.example.test"]).server_context()
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)
    peer = await tcp_server(idle, ssl=context)
    raw = {"host": "127.0.0.1", "port": peer.port, "server_name": "www.example.test", "ca_file": "pki/ca.pem"}
    observation = await run(raw, tmp_path)
    assert observation.status is Status.OK, observation
    assert names == ["www.example.test"]


@pytest.mark.parametrize(
    ("host", "handler", "summary"),
    [
        ("127.0.0.1", None, r"^connection refused to 127\.0\.0\.1:(\d+)$"),
        ("nohost.invalid", None, r"^DNS lookup failed for nohost\.invalid$"),
        ("127.0.0.1", not_tls, r"^TLS failure with 127\.0\.0\.1:\d+: \S"),
    ],
    ids=[
        "a refused port is critical",
        "an unknown name is critical",
        "a server that does not speak tls is critical",
    ],
)
async def test_unreachable_servers_are_critical(
    tcp_server: StartTcp, closed_port: int, host: str, handler: Any, summary: str
) -> None:
    port = (await tcp_server(handler)).port if handler else closed_port
    observation = await run({"host": host, "port": port})
    assert observation.status is Status.CRITICAL
    assert re.search(summary, observation.summary), observation.summary
    assert observation.value is None


async def test_a_server_that_never_answers_the_handshake_raises_timeout_error(tcp_server: StartTcp) -> None:
    peer = await tcp_server(idle)
    with pytest.raises(
        TimeoutError, match=r"^timed out after 0\.3s fetching the certificate of 127\.0\.0\.1:\d+$"
    ):
        await run({"host": "127.0.0.1", "port": peer.port}, limit=0.3)


async def test_a_missing_ca_file_cannot_be_evaluated(tmp_path: Path, closed_port: int) -> None:
    with pytest.raises(CheckFailed, match=r"^cannot load ca_file .*missing\.pem: No such file or directory$"):
        await run({"host": "127.0.0.1", "port": closed_port, "ca_file": "missing.pem"}, tmp_path)


EXPIRES = datetime(2030, 1, 1, 3, 0, tzinfo=UTC)
LEAF = f"CN=localhost issued by {CA}"


@pytest.mark.parametrize(
    ("now", "failure", "tz", "status", "summary"),
    [
        (
            EXPIRES - timedelta(days=31),
            None,
            UTC,
            Status.OK,
            f"{LEAF}, expires 2030-01-01 03:00 UTC (31.0 days left)",
        ),
        (
            EXPIRES - timedelta(days=31),
            None,
            ZoneInfo("America/Sao_Paulo"),
            Status.OK,
            f"{LEAF}, expires 2030-01-01 00:00 -03 (31.0 days left)",
        ),
        (
            EXPIRES + timedelta(days=365),
            None,
            UTC,
            Status.CRITICAL,
            f"certificate expired on 2030-01-01 03:00 UTC (365.0 days ago): {LEAF}",
        ),
        (
            EXPIRES - timedelta(days=31),
            "TLS failure with h:443: certificate verify failed: unable to get local issuer certificate",
            UTC,
            Status.CRITICAL,
            "TLS failure with h:443: certificate verify failed: unable to get local issuer certificate; "
            f"{LEAF}, expires 2030-01-01 03:00 UTC",
        ),
        (None, None, UTC, Status.CRITICAL, "certificate not valid before "),
    ],
    ids=[
        "a valid certificate names its expiry in utc",
        "the expiry is shown in the configuration's timezone",
        "expiry wins over everything",
        "a verification failure keeps the certificate's description",
        "a certificate not yet valid is critical",
    ],
)
def test_judging_a_certificate(
    pki: Pki, now: datetime | None, failure: str | None, tz: tzinfo, status: Status, summary: str
) -> None:
    cert = x509.load_pem_x509_certificate(pki.issue(not_after=EXPIRES).cert.read_bytes())
    now = now or cert.not_valid_before_utc - timedelta(days=10)
    observation = sys.modules[type(PLUGIN).__module__].judge(cert, failure, now, tz)
    assert observation.status is status
    assert observation.summary.startswith(summary), observation.summary
    assert observation.value == pytest.approx((EXPIRES - now).total_seconds() / 86400, abs=0.001)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"host": "h", "port": 0}, "greater than or equal to 1"),
        ({"host": "https://h"}, "not a host name or address"),
        ({"host": "h:443"}, "give the port as port:"),
        ({"host": "h", "server_name": "a b"}, "not a host name or address"),
        ({"port": 443}, "host\n  Field required"),
        ({"host": "h", "warn": "< 21"}, "Extra inputs are not permitted"),
    ],
    ids=[
        "port zero",
        "a url as host",
        "a port inside the host",
        "a server name with a space",
        "a missing host",
        "thresholds are not tls options",
    ],
)
def test_invalid_options_are_config_errors(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        PLUGIN.Options.model_validate(raw)


def test_port_defaults_to_443() -> None:
    options: Any = PLUGIN.Options.model_validate({"host": "example.com"})
    assert (options.port, PLUGIN.describe(options)) == (443, "tls://example.com:443")
