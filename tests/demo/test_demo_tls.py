"""The demo's private CA and server certificates, with both backends, checked by real handshakes."""

from __future__ import annotations

import shutil
import socket
import ssl
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from demo.tlscerts import LIFETIMES, Backend, prepare
from tests.demo.support import TZ

BACKENDS: list[Backend] = ["cryptography", "openssl"]


def _needs(backend: Backend) -> None:
    if backend == "openssl" and shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")


def handshake(server_pem: Path, ca: Path) -> dict[str, object]:
    """The peer certificate a client trusting only ``ca`` sees from a server using ``server_pem``."""
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(server_pem)
    client_side = ssl.create_default_context(cafile=ca)
    left, right = socket.socketpair()
    left.settimeout(10)
    right.settimeout(10)
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            with server_side.wrap_socket(right, server_side=True):
                pass
        except (ssl.SSLError, OSError) as exc:
            errors.append(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client_side.wrap_socket(left, server_hostname="127.0.0.1") as tls:
            cert = tls.getpeercert()
    finally:
        thread.join(10)
        right.close()
    assert cert is not None and not errors
    return dict(cert)


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKENDS)
def test_each_mode_certificate_is_trusted_through_the_ca_and_has_its_lifetime(tmp_path: Path, backend: Backend) -> None:  # fmt: skip
    _needs(backend)
    now = datetime.now(TZ)
    issued = prepare(tmp_path, now, backend)
    assert set(issued) == set(LIFETIMES)
    for mode, days in LIFETIMES.items():
        cert = handshake(issued[mode], tmp_path / "ca.pem")
        expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(str(cert["notAfter"])), TZ)
        assert abs(expires - (now + timedelta(days=days))) < timedelta(minutes=5), mode
    assert (tmp_path / "ca-key.pem").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKENDS)
def test_the_ca_is_made_once_and_server_certificates_are_issued_again(
    tmp_path: Path, backend: Backend
) -> None:
    _needs(backend)
    first = prepare(tmp_path, datetime.now(TZ), backend)["ok"].read_bytes()
    ca = (tmp_path / "ca.pem").read_bytes()
    second = prepare(tmp_path, datetime.now(TZ), backend)["ok"]
    assert (tmp_path / "ca.pem").read_bytes() == ca
    assert second.read_bytes() != first  # a new key and certificate
    handshake(second, tmp_path / "ca.pem")


def test_a_certificate_from_another_ca_is_refused(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    prepare(ours, datetime.now(TZ))
    foreign = prepare(theirs, datetime.now(TZ))["ok"]
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(foreign, ours / "ca.pem")
