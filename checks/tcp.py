"""``type: tcp``: a TCP (optionally TLS) connection, and optionally a short conversation.

Options::

    host: db.internal
    port: 5432                  # 1-65535
    send: "PING\\r\\n"           # optional, written once connected
    expect: "+PONG"             # optional: must appear in the first 4 KiB the peer sends
    tls: false                  # wrap the connection in TLS
    verify_tls: true            # with tls: verify the certificate and the host name
    ca_file: certs/ca.pem       # with tls: a private CA, relative to schedules.yaml

The value is the connect time in ms (TCP connect plus the TLS handshake when ``tls``), also
the metric ``connect_ms``; with ``expect``, ``response_ms`` is the time until it was seen.
A DNS failure, a refused or reset connection, a TLS failure and an ``expect`` not found
before the peer closed or 4 KiB arrived are ``critical``; a peer that stays silent past the
check's timeout raises ``TimeoutError``. The connection is always closed, cancellation
included.
"""

from __future__ import annotations

import asyncio
import time

from pydantic import Field, field_validator, model_validator

from checkrunner.core.result import Observation, one_line
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext, CheckOptions, CheckPlugin
from checkrunner.plugins.net import (
    check_host,
    client_tls,
    close_stream,
    connect_error,
    host_port,
    open_stream,
)

#: Bytes read at most while looking for ``expect`` (a banner or a short reply).
READ_LIMIT = 4096
#: Seconds granted to a polite close (TLS close_notify) before the socket is dropped.
CLOSE_GRACE = 1.0


class TcpOptions(CheckOptions):
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    send: str | None = None
    expect: str | None = Field(default=None, min_length=1)
    tls: bool = False
    verify_tls: bool = True
    ca_file: str | None = None

    @field_validator("host")
    @classmethod
    def _check_host(cls, host: str) -> str:
        return check_host(host)

    @model_validator(mode="after")
    def _check_tls_options(self) -> TcpOptions:
        if not self.tls and ("verify_tls" in self.model_fields_set or self.ca_file is not None):
            raise ValueError("verify_tls and ca_file only apply with tls: true")
        return self


class TcpCheck(CheckPlugin[TcpOptions]):
    type = "tcp"
    Options = TcpOptions

    def target_host(self, options: TcpOptions) -> str | None:
        return options.host

    def describe(self, options: TcpOptions) -> str:
        return f"{'tls' if options.tls else 'tcp'}://{host_port(options.host, options.port)}"

    async def run(self, options: TcpOptions, ctx: CheckContext) -> Observation:
        tls = client_tls(options.verify_tls, options.ca_file, ctx.base_dir) if options.tls else None
        where = host_port(options.host, options.port)
        phase = f"connecting to {where}"
        received = bytearray()  # filled in place, so that a timeout can still show it
        started = time.perf_counter()
        try:
            async with asyncio.timeout(ctx.timeout):
                reader, writer = await open_stream(options.host, options.port, tls)
                connect_ms = (time.perf_counter() - started) * 1000
                try:
                    if options.send is not None:
                        writer.write(options.send.encode())
                        await writer.drain()
                    if options.expect is not None:
                        phase = f"waiting for {options.expect!r} from {where}"
                        await _read_until(reader, options.expect.encode(), received)
                finally:
                    await close_stream(writer)
        except TimeoutError:
            got = f" (got {_excerpt(received)!r})" if received else ""
            raise TimeoutError(f"timed out after {ctx.timeout:g}s {phase}{got}") from None
        except OSError as exc:  # DNS, connect, TLS, or the peer went away while we talked
            return Observation(Status.CRITICAL, one_line(connect_error(exc, options.host, options.port)))
        connect_ms = round(connect_ms, 3)
        metrics = {"connect_ms": connect_ms}
        summary = f"{'TLS' if tls else 'TCP'} connection to {where} in {connect_ms:.0f} ms"
        if options.expect is not None:
            metrics["response_ms"] = round((time.perf_counter() - started) * 1000, 3)
            excerpt = _excerpt(received)
            if options.expect.encode() not in received:
                got = f"got {excerpt!r}" if received else "got nothing before the connection closed"
                return Observation(
                    Status.CRITICAL,
                    one_line(f"expected {options.expect!r} from {where}, {got}"),
                    connect_ms,
                    metrics,
                )
            lines = excerpt.strip().splitlines()
            summary += f"; got {lines[0] if lines else excerpt!r}"
        return Observation(Status.OK, one_line(summary), connect_ms, metrics)


async def _read_until(reader: asyncio.StreamReader, wanted: bytes, received: bytearray) -> None:
    """Append to ``received`` until ``wanted`` appears, the peer closes, or READ_LIMIT bytes."""
    while wanted not in received and len(received) < READ_LIMIT:
        chunk = await reader.read(READ_LIMIT - len(received))
        if not chunk:
            return
        received += chunk


def _excerpt(received: bytes | bytearray) -> str:
    return bytes(received[:200]).decode("utf-8", errors="replace")
