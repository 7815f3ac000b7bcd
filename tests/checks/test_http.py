"""The http check against a real HTTP/1.1 peer on 127.0.0.1 (see conftest.py)."""

from __future__ import annotations

import asyncio
import gzip
import re
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from checkrunner.core.result import Observation
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext, CheckPlugin
from checkrunner.plugins.httpclient import shared_client
from checkrunner.plugins.registry import discover
from tests.checks.conftest import HangupWatch, HttpPeer, Pki, Reply, Request, abort_with_reset

PLUGIN: CheckPlugin[Any] = discover(entry_points_too=False).get("http")  # type: ignore[assignment]
HEALTHY = Reply(200, {"status": "healthy", "avg_response_ms": 612, "up": True, "items": [{"s": "ok"}] * 2})
StartHttp = Callable[..., Awaitable[HttpPeer]]


def ctx(
    timeout: float = 2.0, base_dir: Path = Path("."), http: httpx.AsyncClient | None = None
) -> CheckContext:
    return CheckContext(check="t", now=datetime.now(UTC), timeout=timeout, base_dir=base_dir, http=http)


async def run(raw: dict[str, Any], **kwargs: Any) -> Observation:
    return await PLUGIN.run(PLUGIN.Options.model_validate(raw), ctx(**kwargs))


async def redirect_forever(request: Request, writer: asyncio.StreamWriter) -> Reply:
    hop = int(request.target.rsplit("=", 1)[1]) if "=" in request.target else 0
    return Reply(302, headers={"Location": f"/loop?n={hop + 1}"})


@pytest.mark.parametrize(
    ("routes", "raw", "status", "summary"),
    [
        ({"/h": HEALTHY}, {"expect": {"status": 200}}, Status.OK, r"^200 OK in \d+ ms$"),
        (
            {"/h": Reply(503, "down")},
            {},
            Status.CRITICAL,
            r"^expected status 2xx, got 503 Service Unavailable$",
        ),
        ({"/h": Reply(204)}, {"expect": {"status": [200, 204]}}, Status.OK, r"^204 No Content in"),
        ({"/h": Reply(500)}, {"expect": {"status": "5xx"}}, Status.OK, r"^500 Internal Server Error"),
        (
            {"/h": Reply(200, {"status": "degraded"})},
            {"expect": {"json": {"$.status": "healthy"}}},
            Status.CRITICAL,
            r"^\$\.status is 'degraded', expected 'healthy'$",
        ),
        ({"/h": HEALTHY}, {"expect": {"json": {"$.status": "healthy", "$.up": True}}}, Status.OK, "^200 OK"),
        (
            {"/h": HEALTHY},
            {"expect": {"json": {"$.up": 1}}},
            Status.CRITICAL,
            r"^\$\.up is true, expected 1$",
        ),
        ({"/h": HEALTHY}, {"expect": {"json": {"$.items[*].s": "ok"}}}, Status.OK, "^200 OK"),
        (
            {"/h": Reply(200, {"items": [{"s": "ok"}, {"s": "bad"}]})},
            {"expect": {"json": {"$.items[*].s": "ok"}}},
            Status.CRITICAL,
            r"^\$\.items\[\*\]\.s is 'bad', expected 'ok'$",
        ),
        (
            {"/h": HEALTHY},
            {"expect": {"json": {"$.missing": 1}}},
            Status.UNKNOWN,
            r"^JSONPath \$\.missing matched nothing$",
        ),
        (
            {"/h": Reply(200, "<html>hello</html>")},
            {"expect": {"json": {"$.status": "healthy"}}},
            Status.UNKNOWN,
            r"^response is not JSON, cannot apply JSONPath \$\.status$",
        ),
        ({"/h": Reply(200, "all fine")}, {"expect": {"contains": "fine"}}, Status.OK, "^200 OK"),
        (
            {"/h": Reply(200, "all fine")},
            {"expect": {"contains": "great"}},
            Status.CRITICAL,
            "^body does not contain 'great'$",
        ),
        (
            {"/h": Reply(200, "ERROR: disk")},
            {"expect": {"not_contains": "ERROR"}},
            Status.CRITICAL,
            "^body contains 'ERROR'$",
        ),
        ({"/h": Reply(200, "version 3")}, {"expect": {"regex": r"version \d+"}}, Status.OK, "^200 OK"),
        (
            {"/h": Reply(200, "version x")},
            {"expect": {"regex": r"version \d+", "contains": "nope"}},
            Status.CRITICAL,
            r"^body does not contain 'nope' \(and 1 more\)$",
        ),
        (
            {"/h": HEALTHY},
            {"value": "$.avg_response_ms"},
            Status.OK,
            r"^200 OK in \d+ ms; \$\.avg_response_ms = 612$",
        ),
        (
            {"/h": Reply(200, {"avg_response_ms": "fast"})},
            {"value": "$.avg_response_ms"},
            Status.UNKNOWN,
            r"^JSONPath \$\.avg_response_ms is 'fast', not a number$",
        ),
        ({"/h": Reply(200, "rate=0.93")}, {"value": {"regex": r"rate=([\d.]+)"}}, Status.OK, "= 0.93$"),
        (
            {
                "/h": Reply(302, headers={"Location": "/a"}),
                "/a": Reply(301, headers={"Location": "/b"}),
                "/b": HEALTHY,
            },
            {},
            Status.OK,
            r"^200 OK in \d+ ms after 2 redirects$",
        ),
        (
            {"/h": Reply(302, headers={"Location": "/b"}), "/b": HEALTHY},
            {"follow_redirects": False},
            Status.CRITICAL,
            "^expected status 2xx, got 302 Found$",
        ),
        (
            {"/h": Reply(302, headers={"Location": "/b"})},
            {"follow_redirects": False, "expect": {"status": "3xx"}},
            Status.OK,
            "^302 Found in",
        ),
        (
            {"/h": redirect_forever, "/loop": redirect_forever},
            {},
            Status.CRITICAL,
            r"^too many redirects \(more than 10\) from 127\.0\.0\.1:\d+$",
        ),
    ],
    ids=[
        "expected 200 is ok",
        "a 503 fails the default 2xx expectation",
        "a status from a list is ok",
        "a status class is ok",
        "a json value that differs is critical",
        "json values equal to yaml scalars are ok",
        "json true does not equal yaml 1",
        "every match of a wildcard path equal is ok",
        "one wildcard match that differs is critical",
        "a jsonpath that matches nothing is unknown",
        "a jsonpath over html is unknown",
        "a body containing the text is ok",
        "a body without the text is critical",
        "a body with forbidden text is critical",
        "a body matching the regex is ok",
        "several failures are counted in the summary",
        "the value comes from a jsonpath",
        "a value that is not a number is unknown",
        "the value comes from a regex",
        "redirects are followed and counted",
        "a redirect not followed fails 2xx",
        "a redirect not followed can be expected",
        "a redirect loop is critical",
    ],
)
async def test_http_check_judges_real_responses(
    http_server: StartHttp, routes: dict[str, Any], raw: dict[str, Any], status: Status, summary: str
) -> None:
    peer = await http_server(routes)
    observation = await run({"url": peer.url("/h"), **raw})
    assert observation.status is status, observation
    assert re.search(summary, observation.summary), observation.summary


async def test_redirect_loop_stops_after_ten_hops(http_server: StartHttp) -> None:
    peer = await http_server({"/h": redirect_forever, "/loop": redirect_forever})
    await run({"url": peer.url("/h")})
    assert len(peer.requests) == 11


@pytest.mark.parametrize(
    ("raw", "status", "value"),
    [
        ({}, Status.OK, "latency"),
        ({"value": "$.avg_response_ms"}, Status.OK, 612.0),
        ({"expect": {"status": 201}}, Status.CRITICAL, "latency"),
        ({"expect": {"status": 201}, "value": "$.avg_response_ms"}, Status.CRITICAL, None),
    ],
    ids=[
        "without value the value is the response time",
        "with value the value is the number from the body",
        "a failed status keeps the response time for latency thresholds",
        "a failed status has no body value",
    ],
)
async def test_value_is_latency_unless_a_value_is_given(
    http_server: StartHttp, raw: dict[str, Any], status: Status, value: float | str | None
) -> None:
    peer = await http_server({"/h": HEALTHY})
    observation = await run({"url": peer.url("/h"), **raw})
    assert observation.status is status
    expected = observation.metrics["response_ms"] if value == "latency" else value
    assert observation.value == expected
    assert observation.metrics["status_code"] == 200
    assert observation.metrics["body_bytes"] > 0


@pytest.mark.parametrize(
    ("raw", "method", "headers", "body"),
    [
        ({}, "GET", {}, b""),
        ({"method": "post", "json": {"a": 1}}, "POST", {"content-type": "application/json"}, b'{"a":1}'),
        ({"method": "PUT", "body": "hello"}, "PUT", {}, b"hello"),
        ({"headers": {"X-Api-Key": "k-123"}}, "GET", {"x-api-key": "k-123"}, b""),
        ({"auth": {"username": "ops", "password": "pw"}}, "GET", {"authorization": "Basic b3BzOnB3"}, b""),
        ({"method": "HEAD"}, "HEAD", {}, b""),
    ],
    ids=["a plain get", "a json post", "a text put", "custom headers", "basic auth", "a head request"],
)
async def test_request_is_sent_as_configured(
    http_server: StartHttp, raw: dict[str, Any], method: str, headers: dict[str, str], body: bytes
) -> None:
    peer = await http_server({"/h": HEALTHY})
    observation = await run({"url": peer.url("/h"), **raw})
    assert observation.status is Status.OK, observation
    (request,) = peer.requests
    assert (request.method, request.body.replace(b" ", b"")) == (method, body)
    assert {name: request.headers.get(name) for name in headers} == headers


async def test_credentials_are_not_sent_to_another_origin(http_server: StartHttp) -> None:
    other = await http_server({"/b": HEALTHY})
    peer = await http_server({"/h": Reply(302, headers={"Location": other.url("/b", host="localhost")})})
    observation = await run({"url": peer.url("/h"), "auth": {"username": "ops", "password": "pw"}})
    assert observation.status is Status.OK
    assert "authorization" in peer.requests[0].headers
    assert "authorization" not in other.requests[0].headers


async def stall(request: Request, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(30)


async def stall_mid_body(request: Request, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
    await writer.drain()
    await asyncio.sleep(30)


async def trickle(request: Request, writer: asyncio.StreamWriter) -> None:
    # Each byte arrives well within httpx's per-read timeout; only the whole-run bound stops it.
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(1000):
        writer.write(b"x")
        await writer.drain()
        await asyncio.sleep(0.05)


async def reset_mid_body(request: Request, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n" + b"x" * 100)
    await writer.drain()
    await asyncio.sleep(0.05)
    abort_with_reset(writer)


async def close_mid_body(request: Request, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n" + b"x" * 100)
    await writer.drain()
    writer.close()


async def hang_up(request: Request, writer: asyncio.StreamWriter) -> None:
    writer.close()


@pytest.mark.parametrize(
    ("handler", "summary"),
    [
        (reset_mid_body, r"^connection reset by 127\.0\.0\.1:\d+$"),
        (
            close_mid_body,
            r"^127\.0\.0\.1:\d+ broke off the response: peer closed connection without sending complete",
        ),
        (
            hang_up,
            r"^127\.0\.0\.1:\d+ broke off the response: Server disconnected without sending a response",
        ),
    ],
    ids=[
        "a reset mid-body is critical",
        "a close mid-body is critical",
        "a hang-up before the response is critical",
    ],
)
async def test_broken_responses_are_critical(http_server: StartHttp, handler: Any, summary: str) -> None:
    peer = await http_server({"/h": handler})
    observation = await run({"url": peer.url("/h")})
    assert observation.status is Status.CRITICAL
    assert re.search(summary, observation.summary), observation.summary


async def test_refused_connection_is_critical(closed_port: int) -> None:
    observation = await run({"url": f"http://127.0.0.1:{closed_port}/health"})
    assert (observation.status, observation.summary) == (
        Status.CRITICAL,
        f"connection refused to 127.0.0.1:{closed_port}",
    )


async def test_dns_failure_is_critical() -> None:
    observation = await run({"url": "http://nohost.invalid/health"})
    assert (observation.status, observation.summary) == (
        Status.CRITICAL,
        "DNS lookup failed for nohost.invalid",
    )


@pytest.mark.parametrize(
    "handler", [stall, stall_mid_body, trickle], ids=["before headers", "mid-body", "trickling"]
)
async def test_a_slow_server_raises_timeout_error(http_server: StartHttp, handler: Any) -> None:
    peer = await http_server({"/h": handler})
    started = asyncio.get_running_loop().time()
    with pytest.raises(TimeoutError, match=r"^timed out after 0\.3s waiting for 127\.0\.0\.1:\d+$"):
        await run({"url": peer.url("/h")}, timeout=0.3)
    assert asyncio.get_running_loop().time() - started < 1.5


async def test_cancelling_a_run_closes_its_connection(tcp_server: Any) -> None:
    watch = HangupWatch()
    peer = await tcp_server(watch)
    task = asyncio.create_task(run({"url": f"http://127.0.0.1:{peer.port}/"}, timeout=30))
    await asyncio.wait_for(watch.connected.wait(), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(watch.closed.wait(), 2)


async def endless(request: Request, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 67108864\r\n\r\n")
    chunk = b"[" + b" " * 65535
    for _ in range(1024):  # 64 MiB at most; the client hangs up long before
        writer.write(chunk)
        await writer.drain()


@pytest.mark.parametrize(
    ("raw", "status", "summary"),
    [
        ({}, Status.OK, r"^200 OK in \d+ ms$"),
        (
            {"expect": {"json": {"$.a": 1}}},
            Status.UNKNOWN,
            r"^body larger than 1 MiB, cannot apply JSONPath \$\.a$",
        ),
        ({"value": "$.a"}, Status.UNKNOWN, r"^body larger than 1 MiB, cannot apply JSONPath \$\.a$"),
        ({"expect": {"contains": "["}}, Status.OK, "^200 OK"),
        (
            {"expect": {"contains": "]"}},
            Status.UNKNOWN,
            r"^body does not contain '\]' \(body larger than 1 MiB;",
        ),
        ({"expect": {"not_contains": "]"}}, Status.UNKNOWN, r"^body larger than 1 MiB, cannot tell whether"),
        (
            {"max_body": "64KiB", "expect": {"regex": "x"}},
            Status.UNKNOWN,
            "^body does not match /x/ .*64 KiB",
        ),
    ],
    ids=[
        "a huge body alone is fine",
        "a json expectation on a cut body is unknown",
        "a jsonpath value on a cut body is unknown",
        "text found in the start of a cut body is ok",
        "text not found in a cut body is unknown",
        "forbidden text not found in a cut body is unknown",
        "max_body takes a size with a unit",
    ],
)
async def test_huge_bodies_are_read_up_to_the_cap(
    http_server: StartHttp, raw: dict[str, Any], status: Status, summary: str
) -> None:
    peer = await http_server({"/h": endless})
    tracemalloc.start()
    try:
        observation = await run({"url": peer.url("/h"), **raw})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert observation.status is status, observation
    assert re.search(summary, observation.summary), observation.summary
    assert observation.metrics["body_bytes"] == (64 * 1024 if "max_body" in raw else 2**20)
    assert peak < 16 * 2**20  # the server offered 64 MiB


@pytest.mark.parametrize(
    ("leaf", "raw", "status", "summary"),
    [
        ({}, {"ca_file": "pki/ca.pem"}, Status.OK, "^200 OK"),
        (
            {},
            {},
            Status.CRITICAL,
            r"^TLS failure with 127\.0\.0\.1:\d+: certificate verify failed: unable to get local issuer",
        ),
        ({"self_signed": True}, {"verify_tls": False}, Status.OK, "^200 OK"),
        (
            {"sans": ["other.example"]},
            {"ca_file": "pki/ca.pem"},
            Status.CRITICAL,
            r"certificate verify failed: IP address mismatch",
        ),
        (
            {"not_after": timedelta(days=-1)},
            {"ca_file": "pki/ca.pem"},
            Status.CRITICAL,
            r"certificate verify failed: certificate has expired",
        ),
        ({}, {"ca_file": "pki/missing.pem"}, Status.UNKNOWN, "^cannot load ca_file"),
    ],
    ids=[
        "a certificate from the private ca is trusted with ca_file",
        "a private ca without ca_file is a tls failure",
        "verify_tls false accepts a self-signed certificate",
        "a certificate for another name is a tls failure",
        "an expired certificate is a tls failure",
        "a missing ca_file is unknown",
    ],
)
async def test_https_verification(
    http_server: StartHttp,
    pki: Pki,
    tmp_path: Path,
    leaf: dict[str, Any],
    raw: dict[str, Any],
    status: Status,
    summary: str,
) -> None:
    peer = await http_server({"/h": HEALTHY}, ssl=pki.issue(**leaf).server_context())
    try:
        observation = await run({"url": peer.url("/h"), **raw}, base_dir=tmp_path)
    except Exception as exc:  # CheckFailed: what the runner turns into unknown
        observation = Observation(Status.UNKNOWN, str(exc))
    assert observation.status is status, observation
    assert re.search(summary, observation.summary), observation.summary


@pytest.mark.parametrize(
    ("raw", "uses_shared"),
    [({}, True), ({"verify_tls": False}, False)],
    ids=["the shared client serves verified requests", "unverified requests get their own client"],
)
async def test_shared_client_is_used_when_compatible(
    http_server: StartHttp, raw: dict[str, Any], uses_shared: bool
) -> None:
    seen: list[httpx.Request] = []

    def transport(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"via": "shared"})

    peer = await http_server({"/h": HEALTHY})
    async with httpx.AsyncClient(transport=httpx.MockTransport(transport)) as shared:
        observation = await run({"url": peer.url("/h"), "value": "$.avg_response_ms", **raw}, http=shared)
        assert not shared.is_closed
    assert (len(seen), len(peer.requests)) == ((1, 0) if uses_shared else (0, 1))
    assert observation.status is (Status.UNKNOWN if uses_shared else Status.OK)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"url": "ftp://host/x"}, "must start with http:// or https://"),
        ({"url": "http://"}, "invalid URL|no host"),
        ({"url": "http://h", "method": "TRACE"}, "method"),
        ({"url": "http://h", "expect": {"regex": "("}}, "invalid regex '\\('"),
        ({"url": "http://h", "expect": {"json": {"status": 1}}}, "a JSONPath starts with '\\$'"),
        ({"url": "http://h", "expect": {"json": {"$.[": 1}}}, "invalid JSONPath"),
        ({"url": "http://h", "expect": {"status": "6xx"}}, "status must be a code"),
        ({"url": "http://h", "expect": {"status": 999}}, "not an HTTP status"),
        ({"url": "http://h", "expect": {"status": []}}, "status list is empty"),
        ({"url": "http://h", "value": "avg"}, "not a JSONPath"),
        ({"url": "http://h", "value": {"perfdata": "time"}}, "for nagios checks"),
        ({"url": "http://h", "body": "a", "json": {"a": 1}}, "either body: or json:"),
        ({"url": "http://h", "method": "HEAD", "expect": {"contains": "a"}}, "HEAD response has no body"),
        ({"url": "http://h", "headers": {"Bad Name": "x"}}, "invalid header name"),
        ({"url": "http://h", "headers": {"X-A": "a\r\nX-B: b"}}, "line break"),
        ({"url": "http://h", "max_body": "lots"}, "expected a positive size"),
        ({"url": "http://h", "timeout": 5}, "Extra inputs are not permitted"),
        ({"url": "http://h", "auth": {"username": "u", "pass": "p"}}, "Extra inputs"),
    ],
    ids=[
        "a non-http scheme",
        "a url without host",
        "an unsupported method",
        "a regex that does not compile",
        "a json key that is not a jsonpath",
        "a jsonpath that does not parse",
        "an unknown status class",
        "a status out of range",
        "an empty status list",
        "a value that is not a jsonpath",
        "a perfdata value",
        "both body and json",
        "body expectations on head",
        "a bad header name",
        "a header value with a line break",
        "an unreadable size",
        "a common key is not an http option",
        "an unknown auth key",
    ],
)
def test_invalid_options_are_config_errors(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PLUGIN.Options.model_validate(raw)


def test_password_is_a_secret_and_describe_hides_credentials() -> None:
    from checkrunner.plugins.contract import option_secrets

    options = PLUGIN.Options.model_validate(
        {
            "url": "https://u:pw@api.example.com/health?token=abc",
            "auth": {"username": "ops", "password": "s3cret"},
        }
    )
    assert option_secrets(options) == ["s3cret"]
    assert PLUGIN.describe(options) == "GET https://api.example.com/health"


@pytest.mark.parametrize(
    ("raw", "size"),
    [(1024, 1024), ("512KiB", 512 * 1024), ("1 MiB", 2**20), ("10MB", 10**7), ("7", 7)],
    ids=["bytes", "kibibytes", "mebibytes with a space", "megabytes", "a numeric string"],
)
def test_max_body_sizes(raw: object, size: int) -> None:
    options: Any = PLUGIN.Options.model_validate({"url": "http://h", "max_body": raw})
    assert options.max_body == size


@pytest.mark.parametrize("shared", [True, False], ids=["the shared client", "a private client"])
async def test_checks_send_no_cookies_and_the_checkrunner_user_agent(
    http_server: StartHttp, shared: bool
) -> None:
    set_cookie = Reply(200, "ok", headers={"Set-Cookie": "session=secret; Path=/"})
    peer = await http_server({"/login": set_cookie, "/h": HEALTHY})
    # localhost, not 127.0.0.1: cookie jars ignore cookies from IP addresses.
    urls = [peer.url("/login", host="localhost"), peer.url("/h", host="localhost")]
    async with shared_client() as client:
        for url in urls:
            observation = await run({"url": url}, http=client if shared else None)
            assert observation.status is Status.OK, observation
    assert [request.headers.get("cookie") for request in peer.requests] == [None, None]
    assert {request.headers["user-agent"] for request in peer.requests} == {"checkrunner"}


async def test_a_compressed_body_is_judged_decompressed(http_server: StartHttp) -> None:
    body = gzip.compress(b'{"status": "healthy", "n": 7}')
    peer = await http_server({"/h": Reply(200, body, headers={"Content-Encoding": "gzip"})})
    observation = await run(
        {"url": peer.url("/h"), "expect": {"json": {"$.status": "healthy"}}, "value": "$.n"}
    )
    assert (observation.status, observation.value) == (Status.OK, 7.0), observation
    assert observation.metrics["body_bytes"] == 29
