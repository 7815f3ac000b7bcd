"""``type: http``: one HTTP(S) request, judged by its status, its body and a number from it.

Options::

    url: https://api.example.com/health      # http or https
    method: GET                              # GET HEAD POST PUT PATCH DELETE OPTIONS
    headers: {Authorization: "Bearer ${TOKEN}"}
    body: "text"                             # or json: {any: value}; not both
    expect:
      status: 200                            # or [200, 204], "2xx" (the default), "3xx" …
      json: {"$.status": healthy}            # every match of the JSONPath equals the value
      contains: "ok"                         # also not_contains:, regex:
    value: "$.avg_response_ms"               # the number thresholds apply to (or {regex: …});
                                             # without it: the response time in ms
    follow_redirects: true                   # at most 10 hops; the final status counts
    verify_tls: true
    ca_file: certs/ca.pem                    # a private CA, relative to schedules.yaml
    max_body: 1MiB                           # read at most this much of the body
    auth: {username: u, password: p}         # HTTP Basic

Verdicts: a refused connection, a DNS or TLS failure, a reset connection, too many redirects
and a failed expectation are ``critical``; a body that is not JSON where a JSONPath needs it,
a JSONPath that matches nothing and an expectation that would need more than ``max_body``
bytes are ``unknown``; a timeout raises ``TimeoutError``. Metrics: ``status_code``,
``response_ms`` (the whole exchange: redirects and body included) and ``body_bytes``.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import re
import ssl
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal, cast

import httpx
from jsonpath_ng import JSONPath
from pydantic import Field, GetCoreSchemaHandler, field_validator, model_validator
from pydantic_core import core_schema

from checkrunner.core.errors import CheckFailed
from checkrunner.core.result import Observation, bounded, one_line
from checkrunner.core.sizes import format_size, parse_size
from checkrunner.core.status import Status, worst
from checkrunner.plugins.contract import CheckContext, CheckOptions, CheckPlugin, secret
from checkrunner.plugins.httpclient import http_client
from checkrunner.plugins.net import known_failure
from checkrunner.plugins.values import ValueSpec, compile_jsonpath, jsonpath_values

MAX_REDIRECTS = 10
#: Characters of the body shown in ``detail`` when something failed.
EXCERPT = 1000
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header name (RFC 9110 token)


def _plain_schema(parse: Any, dump: Any) -> Any:
    return core_schema.no_info_plain_validator_function(
        parse, serialization=core_schema.plain_serializer_function_ser_schema(dump)
    )


@lru_cache(maxsize=4096)  # the URLs of the loaded config (and of the one before a reload)
def _parse_url(url: str) -> httpx.URL:
    return httpx.URL(url)


@dataclass(frozen=True, slots=True)
class StatusExpectation:
    """Accepted status codes: exact codes and classes (``2`` for ``"2xx"``)."""

    codes: frozenset[int]
    classes: frozenset[int]
    text: str

    @classmethod
    def parse(cls, raw: Any) -> StatusExpectation:
        if isinstance(raw, StatusExpectation):
            return raw
        items = raw if isinstance(raw, list) else [raw]
        codes: set[int] = set()
        classes: set[int] = set()
        for item in items:
            if isinstance(item, str) and re.fullmatch(r"[1-5]xx", item.strip(), re.IGNORECASE):
                classes.add(int(item.strip()[0]))
            elif isinstance(item, int | str) and not isinstance(item, bool) and str(item).strip().isdigit():
                code = int(item)
                if not 100 <= code <= 599:
                    raise ValueError(f"status {code} is not an HTTP status (100-599)")
                codes.add(code)
            else:
                raise ValueError(
                    f"status must be a code (200), a class ('2xx') or a list of them, got {item!r}"
                )
        if not items:
            raise ValueError("status list is empty")
        text = " or ".join(str(item).strip() for item in items)
        return cls(frozenset(codes), frozenset(classes), text)

    def matches(self, code: int) -> bool:
        return code in self.codes or code // 100 in self.classes

    def __str__(self) -> str:
        return self.text

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return _plain_schema(cls.parse, str)


@dataclass(frozen=True, slots=True)
class JsonExpectations:
    """``{JSONPath: expected value}``, compiled when the config loads."""

    items: tuple[tuple[str, JSONPath, Any], ...]

    @classmethod
    def parse(cls, raw: Any) -> JsonExpectations:
        if isinstance(raw, JsonExpectations):
            return raw
        if not isinstance(raw, dict) or not raw:
            raise ValueError(
                'expect.json is a mapping of JSONPath to expected value, e.g. {"$.status": healthy}'
            )
        return cls(tuple((expr, compile_jsonpath(expr), expected) for expr, expected in raw.items()))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return _plain_schema(cls.parse, lambda v: {expr: expected for expr, _, expected in v.items})


class Expect(CheckOptions):
    status: StatusExpectation = StatusExpectation.parse("2xx")
    json_: JsonExpectations | None = Field(default=None, alias="json")
    contains: str | None = None
    not_contains: str | None = None
    regex: re.Pattern[str] | None = None

    @field_validator("regex", mode="before")
    @classmethod
    def _compile_regex(cls, raw: Any) -> Any:
        if isinstance(raw, str):
            try:
                return re.compile(raw, re.MULTILINE)
            except re.error as exc:
                raise ValueError(f"invalid regex {raw!r}: {exc}") from None
        return raw


class BasicAuth(CheckOptions):
    username: str
    password: str = secret("")


class HttpOptions(CheckOptions):
    url: str
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    json_: Any = Field(default=None, alias="json")
    expect: Expect = Expect()
    value: ValueSpec | None = None
    follow_redirects: bool = True
    verify_tls: bool = True
    ca_file: str | None = None
    max_body: int = 2**20
    auth: BasicAuth | None = None

    @property
    def parsed_url(self) -> httpx.URL:
        """``url`` parsed once, not on every run (parsing costs more than the rest of
        building the request; a pydantic private attribute costs a slow ``__getattr__``)."""
        return _parse_url(self.url)

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:  # the URL itself may hold a secret: never echo it
            raise ValueError(f"invalid URL: {exc}") from None
        if parsed.scheme not in ("http", "https"):
            raise ValueError(
                f"the URL must start with http:// or https://, not {parsed.scheme or 'nothing'!r}"
            )
        if not parsed.host:
            raise ValueError("the URL has no host")
        return url

    @field_validator("method", mode="before")
    @classmethod
    def _upper_method(cls, method: Any) -> Any:
        return method.upper() if isinstance(method, str) else method

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _TOKEN.fullmatch(name):
                raise ValueError(f"invalid header name {name!r}")
            if "\r" in value or "\n" in value:
                raise ValueError(f"header {name} contains a line break")
        return headers

    @field_validator("value")
    @classmethod
    def _check_value(cls, value: ValueSpec | None) -> ValueSpec | None:
        if value is not None and value.kind == "perfdata":
            raise ValueError("{perfdata: …} is for nagios checks; use a JSONPath or {regex: …}")
        return value

    @field_validator("max_body", mode="before")
    @classmethod
    def _check_size(cls, raw: Any) -> int:
        return parse_size(raw)

    @model_validator(mode="after")
    def _check_combinations(self) -> HttpOptions:
        if self.body is not None and "json_" in self.model_fields_set:
            raise ValueError("give either body: or json:, not both")
        expect = self.expect
        reads_body = expect.json_ or expect.contains or expect.not_contains or expect.regex or self.value
        if self.method == "HEAD" and reads_body:
            raise ValueError("a HEAD response has no body: expect json/contains/regex and value cannot apply")
        return self


@dataclass(frozen=True, slots=True)
class Exchange:
    """The final response of one request (after redirects), body read up to the cap."""

    status_code: int
    reason: str
    body: bytes
    truncated: bool
    encoding: str
    elapsed_ms: float
    redirects: int


class _Unreachable(Exception):
    """The target did not serve; the message is the critical summary."""


class HttpCheck(CheckPlugin[HttpOptions]):
    type = "http"
    Options = HttpOptions

    def target_host(self, options: HttpOptions) -> str | None:
        return options.parsed_url.host or None

    def describe(self, options: HttpOptions) -> str:
        url = options.parsed_url
        return f"{options.method} {url.scheme}://{url.netloc.decode('ascii')}{url.path}"

    async def run(self, options: HttpOptions, ctx: CheckContext) -> Observation:
        client, owned = _client(options, ctx)
        try:
            # httpx's timeout applies per phase; the check's timeout bounds the whole exchange.
            async with asyncio.timeout(ctx.timeout):
                exchange = await _exchange(client, options, ctx.timeout)
        except (TimeoutError, httpx.TimeoutException) as exc:
            where = (
                _where(exc.request.url) if isinstance(exc, httpx.TimeoutException) else _where(options.url)
            )
            raise TimeoutError(f"timed out after {ctx.timeout:g}s waiting for {where}") from None
        except _Unreachable as exc:
            return Observation(Status.CRITICAL, one_line(str(exc)))
        except httpx.TransportError as exc:
            return Observation(Status.CRITICAL, one_line(_transport_summary(exc)))
        finally:
            if owned:
                await client.aclose()
        return evaluate(options, exchange)


def _client(options: HttpOptions, ctx: CheckContext) -> tuple[httpx.AsyncClient, bool]:
    """The shared client when its TLS settings fit, else a private one (closed after the run)."""
    if ctx.http is not None and options.verify_tls and options.ca_file is None:
        return ctx.http, False
    verify: ssl.SSLContext | bool = options.verify_tls
    if options.verify_tls and options.ca_file is not None:
        path = ctx.base_dir / Path(options.ca_file)
        try:
            verify = ssl.create_default_context(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise CheckFailed(
                f"cannot load ca_file {path}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
    return http_client(verify=verify, timeout=ctx.timeout), True


async def _exchange(client: httpx.AsyncClient, options: HttpOptions, io_timeout: float) -> Exchange:
    request = client.build_request(
        options.method,
        options.parsed_url,
        headers=options.headers or None,
        content=options.body,
        json=options.json_ if "json_" in options.model_fields_set else None,
        timeout=io_timeout,
    )
    auth = httpx.BasicAuth(options.auth.username, options.auth.password) if options.auth else None
    started = time.perf_counter()
    # Redirects are followed here rather than by httpx so that the hop limit holds for any
    # client (the shared one included). Credentials go with the first request only; httpx
    # copies them to a same-origin redirect and drops them across origins.
    for hop in range(MAX_REDIRECTS + 1):
        response = await client.send(
            request, stream=True, auth=auth if hop == 0 else None, follow_redirects=False
        )
        try:
            if options.follow_redirects and response.next_request is not None:
                request = response.next_request
                continue
            body, truncated = await _read_capped(response, options.max_body)
        finally:
            await response.aclose()
        encoding = _charset(response)
        reason = response.reason_phrase or httpx.codes.get_reason_phrase(response.status_code)
        elapsed = (time.perf_counter() - started) * 1000
        return Exchange(response.status_code, reason, body, truncated, encoding, elapsed, hop)
    raise _Unreachable(f"too many redirects (more than {MAX_REDIRECTS}) from {_where(options.url)}")


def _charset(response: httpx.Response) -> str:
    """The body's text encoding: the Content-Type charset when Python knows it, else utf-8.
    (httpx parses the header with ``email.message`` on every call: skipped when no charset.)"""
    content_type = response.headers.get("Content-Type")
    if content_type is None or "charset" not in content_type.lower():
        return "utf-8"
    encoding = response.charset_encoding or "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "utf-8"
    return encoding


async def _read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of the (decoded) body; stops reading as soon as it has them."""
    chunks: list[bytes] = []
    size = 0
    # aiter_bytes() is an async generator; closing it now (not at garbage collection) matters
    # because we leave it early.
    async with aclosing(cast(AsyncGenerator[bytes, None], response.aiter_bytes())) as stream:
        async for chunk in stream:
            room = limit - size
            if len(chunk) > room:
                chunks.append(chunk[:room])
                return b"".join(chunks), True
            chunks.append(chunk)
            size += len(chunk)
    return b"".join(chunks), False


def _where(url: httpx.URL | str) -> str:
    url = httpx.URL(url)
    port = url.port or (443 if url.scheme == "https" else 80)
    return f"[{url.host}]:{port}" if ":" in url.host else f"{url.host}:{port}"


def _transport_summary(exc: httpx.TransportError) -> str:
    """One line naming what failed, from the OS/TLS error at the root of httpx's chain."""
    url = exc.request.url
    where = _where(url)
    causes: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and len(causes) < 12:
        causes.append(cause)
        if isinstance(cause, BaseExceptionGroup) and cause.exceptions:
            cause = cause.exceptions[0]
        else:
            cause = cause.__cause__ or cause.__context__
    for cause in causes:
        if (known := known_failure(cause, url.host, where)) is not None:
            return known
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{where} broke off the response: {exc}"
    return f"request to {where} failed: {exc or type(exc).__name__}"


def evaluate(options: HttpOptions, exchange: Exchange) -> Observation:
    """The verdict on a response (pure): status, then body expectations, then the value."""
    metrics = {
        "status_code": float(exchange.status_code),
        "response_ms": round(exchange.elapsed_ms, 3),
        "body_bytes": float(len(exchange.body)),
    }
    latency = metrics["response_ms"] if options.value is None else None
    got = f"{exchange.status_code} {exchange.reason}"
    if not options.expect.status.matches(exchange.status_code):
        return Observation(
            Status.CRITICAL,
            one_line(f"expected status {options.expect.status}, got {got}"),
            latency,
            metrics,
            _excerpt(exchange),
        )
    body = _Body(exchange, options.max_body)
    failures = body.failures(options.expect)
    value = latency
    if options.value is not None:
        try:
            value = body.value(options.value)
        except CheckFailed as exc:
            failures.append((Status.UNKNOWN, str(exc)))
    if failures:
        status = worst(status for status, _ in failures)
        first = next(message for failed, message in failures if failed is status)
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        detail = "\n".join(message for _, message in failures) + "\n\n" + (_excerpt(exchange) or "")
        return Observation(status, one_line(first + more), None, metrics, bounded(detail))
    summary = f"{got} in {exchange.elapsed_ms:.0f} ms"
    if exchange.redirects:
        summary += f" after {exchange.redirects} redirect{'s' if exchange.redirects > 1 else ''}"
    if options.value is not None and value is not None:
        summary += f"; {options.value} = {value:g}"
    return Observation(Status.OK, one_line(summary), value, metrics)


class _Body:
    """The body as text and as JSON (parsed once, on demand), aware of the cap."""

    def __init__(self, exchange: Exchange, limit: int) -> None:
        self.exchange = exchange
        self.limit = limit
        self._document: Any = None
        self._parsed = False

    @cached_property
    def text(self) -> str:  # decoded only for a text expectation (most checks have none)
        return self.exchange.body.decode(self.exchange.encoding, errors="replace")

    @property
    def cut(self) -> str:
        return f"body larger than {format_size(self.limit)}"

    def document(self, expr: str) -> Any:
        if self.exchange.truncated:
            raise CheckFailed(f"{self.cut}, cannot apply JSONPath {expr}")
        if not self._parsed:
            try:
                self._document = json.loads(self.exchange.body)
            except ValueError:
                raise CheckFailed(f"response is not JSON, cannot apply JSONPath {expr}") from None
            self._parsed = True
        return self._document

    def failures(self, expect: Expect) -> list[tuple[Status, str]]:
        found: list[tuple[Status, str]] = []
        unsure = Status.UNKNOWN if self.exchange.truncated else Status.CRITICAL
        for expr, path, expected in expect.json_.items if expect.json_ else ():
            try:
                values = jsonpath_values(path, self.document(expr))
            except CheckFailed as exc:
                found.append((Status.UNKNOWN, str(exc)))
                continue
            wrong = [actual for actual in values if not _same(actual, expected)]
            if not values:
                found.append((Status.UNKNOWN, f"JSONPath {expr} matched nothing"))
            elif wrong:
                found.append((Status.CRITICAL, f"{expr} is {_show(wrong[0])}, expected {_show(expected)}"))
        cut = f" ({self.cut}; only its start was searched)" if self.exchange.truncated else ""
        if expect.contains is not None and expect.contains not in self.text:
            found.append((unsure, f"body does not contain {_show(expect.contains)}{cut}"))
        if expect.not_contains is not None:
            if expect.not_contains in self.text:
                found.append((Status.CRITICAL, f"body contains {_show(expect.not_contains)}"))
            elif self.exchange.truncated:
                found.append(
                    (
                        Status.UNKNOWN,
                        f"{self.cut}, cannot tell whether it contains {_show(expect.not_contains)}",
                    )
                )
        if expect.regex is not None and not expect.regex.search(self.text):
            found.append((unsure, f"body does not match /{expect.regex.pattern}/{cut}"))
        return found

    def value(self, spec: ValueSpec) -> float:
        if spec.kind == "jsonpath":
            return spec.from_json(self.document(spec.expr))
        try:
            return spec.from_text(self.text)
        except CheckFailed as exc:
            cut = f" ({self.cut}; only its start was searched)" if self.exchange.truncated else ""
            raise CheckFailed(f"{exc}{cut}") from None


def _same(actual: Any, expected: Any) -> bool:
    """YAML-scalar equality: numbers compare by value, but true is not 1."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    return bool(actual == expected)


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:79] + "…"


def _excerpt(exchange: Exchange) -> str | None:
    if not exchange.body:
        return None
    text = exchange.body[: EXCERPT * 4].decode(exchange.encoding, errors="replace")
    return bounded(text, EXCERPT)
