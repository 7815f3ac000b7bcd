"""``type: tls``: the certificate a TLS server presents, and how long it stays valid.

Options::

    host: example.com
    port: 443
    server_name: www.example.com    # SNI and the name verified; default: host
    ca_file: certs/ca.pem           # a private CA, relative to schedules.yaml
    verify: true                    # verify the chain and the name

The value (and the metric ``days_left``) is the number of days until the certificate
expires, counted from the run's ``now``: a float, negative once expired, so that
``warn: "< 21"`` and ``crit: "< 7"`` read naturally. The summary names the subject CN, the
issuer and the expiry date (in the configuration's timezone).

Verdicts: an expired certificate is ``critical`` whatever the thresholds say; a failed
verification is ``critical`` with OpenSSL's reason ("certificate verify failed:
self-signed certificate"), and the certificate is fetched a second time without
verification so that the summary and the value still describe it; a refused connection, a
DNS failure and a failed handshake are ``critical``; a timeout raises ``TimeoutError``.
"""

from __future__ import annotations

import asyncio
import ssl
from datetime import datetime, tzinfo

from cryptography import x509
from cryptography.x509.oid import NameOID
from pydantic import Field, field_validator

from checkrunner.core.errors import CheckFailed
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

#: Seconds granted to a polite close (TLS close_notify) before the socket is dropped.
CLOSE_GRACE = 1.0
_DAY = 86400.0


class TlsOptions(CheckOptions):
    host: str
    port: int = Field(default=443, ge=1, le=65535)
    server_name: str | None = None
    ca_file: str | None = None
    verify: bool = True

    @field_validator("host", "server_name")
    @classmethod
    def _check_host(cls, host: str | None) -> str | None:
        return None if host is None else check_host(host)


class TlsCheck(CheckPlugin[TlsOptions]):
    type = "tls"
    Options = TlsOptions

    def target_host(self, options: TlsOptions) -> str | None:
        return options.host

    def describe(self, options: TlsOptions) -> str:
        sni = f" ({options.server_name})" if options.server_name else ""
        return f"tls://{host_port(options.host, options.port)}{sni}"

    async def run(self, options: TlsOptions, ctx: CheckContext) -> Observation:
        host, port = options.host, options.port
        name = options.server_name or host
        verified = client_tls(options.verify, options.ca_file, ctx.base_dir)
        failure: str | None = None
        try:
            async with asyncio.timeout(ctx.timeout):
                try:
                    der = await _peer_certificate(host, port, verified, name)
                except ssl.SSLCertVerificationError as exc:
                    failure = connect_error(exc, host, port)
                    # Describe the certificate anyway: "expired 3 days ago" beats a bare
                    # "certificate has expired", and the value keeps its history.
                    der = await _peer_certificate(host, port, client_tls(False, None, ctx.base_dir), name)
        except TimeoutError:
            raise TimeoutError(
                f"timed out after {ctx.timeout:g}s fetching the certificate of {host_port(host, port)}"
            ) from None
        except OSError as exc:
            return Observation(Status.CRITICAL, one_line(failure or connect_error(exc, host, port)))
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError as exc:
            raise CheckFailed(f"cannot parse the certificate of {host_port(host, port)}: {exc}") from None
        return judge(cert, failure, ctx.now, ctx.tz)


def judge(cert: x509.Certificate, failure: str | None, now: datetime, tz: tzinfo) -> Observation:
    """The verdict on a fetched certificate (pure): expiry first, then verification."""
    expires = cert.not_valid_after_utc
    days_left = round((expires - now).total_seconds() / _DAY, 3)
    about = f"{_subject(cert)} issued by {_issuer(cert)}"
    local = expires.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    metrics = {"days_left": days_left}
    if days_left < 0:
        summary = f"certificate expired on {local} ({-days_left:.1f} days ago): {about}"
        return Observation(Status.CRITICAL, one_line(summary), days_left, metrics)
    if failure is not None:
        return Observation(
            Status.CRITICAL, one_line(f"{failure}; {about}, expires {local}"), days_left, metrics
        )
    if cert.not_valid_before_utc > now:  # only reachable with verify: false
        summary = f"certificate not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC: {about}"
        return Observation(Status.CRITICAL, one_line(summary), days_left, metrics)
    summary = f"{about}, expires {local} ({days_left:.1f} days left)"
    return Observation(Status.OK, one_line(summary), days_left, metrics)


def _first(name: x509.Name, *oids: x509.ObjectIdentifier) -> str | None:
    for oid in oids:
        for attribute in name.get_attributes_for_oid(oid):
            value = attribute.value
            return value if isinstance(value, str) else value.decode(errors="replace")
    return None


def _subject(cert: x509.Certificate) -> str:
    common_name = _first(cert.subject, NameOID.COMMON_NAME)
    if common_name:
        return f"CN={common_name}"
    try:  # modern certificates may carry their names only as SANs
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(name.value) for name in sans]
    except x509.ExtensionNotFound:
        names = []
    return f"SAN={names[0]}" if names else cert.subject.rfc4514_string() or "(no subject)"


def _issuer(cert: x509.Certificate) -> str:
    issuer = _first(cert.issuer, NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME)
    return issuer or cert.issuer.rfc4514_string() or "(no issuer)"


async def _peer_certificate(host: str, port: int, context: ssl.SSLContext, name: str) -> bytes:
    """The DER certificate the server presents after a completed handshake."""
    _, writer = await open_stream(host, port, context, name)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der: bytes | None = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    finally:
        await close_stream(writer)
    if not der:
        raise CheckFailed(f"{host_port(host, port)} completed the handshake without a certificate")
    return der
