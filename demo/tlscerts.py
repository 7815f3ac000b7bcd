"""A private CA, made once, and the demo's HTTPS certificates, issued at every start.

``ca.pem`` and ``ca-key.pem`` (mode 0600) are created once in the data folder; a tls check
trusts them with ``ca_file: demo-data/ca.pem``. Server certificates for ``localhost`` and
``127.0.0.1`` are issued again at every start with the lifetimes of :data:`LIFETIMES` (the
``cert`` check's modes: ok 90 days left, warning 14, critical 3), so the days left never
depend on how old the data folder is. EC P-256 keys: issuing all of them takes milliseconds.
Uses the ``cryptography`` package when it is installed, else the ``openssl`` command.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

Backend = Literal["cryptography", "openssl"]
LIFETIMES = {"ok": 90, "warning": 14, "critical": 3}
CA_DAYS = 3650
CA_NAME = "checkrunner demo CA"


def default_backend() -> Backend:
    try:
        import cryptography  # noqa: F401
    except ImportError:
        return "openssl"
    return "cryptography"


def prepare(folder: Path, now: datetime, backend: Backend | None = None) -> dict[str, Path]:
    """Make the CA when missing and issue one server certificate per mode; returns
    ``{mode: path of a PEM file holding key and certificate}``."""
    backend = backend or default_backend()
    ca, ca_key = folder / "ca.pem", folder / "ca-key.pem"
    if not (ca.exists() and ca_key.exists()):
        (_make_ca_cryptography if backend == "cryptography" else _make_ca_openssl)(ca, ca_key, now)
        os.chmod(ca_key, 0o600)
    out = folder / "tls"
    out.mkdir(exist_ok=True)
    issued = {}
    for mode, days in LIFETIMES.items():
        pem = out / f"server-{mode}.pem"
        issue = _issue_cryptography if backend == "cryptography" else _issue_openssl
        issue(ca, ca_key, pem, days, now)
        os.chmod(pem, 0o600)
        issued[mode] = pem
    return issued


def _make_ca_cryptography(ca: Path, ca_key: Path, now: datetime) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    ca_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    ca.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _issue_cryptography(ca: Path, ca_key: Path, pem: Path, days: int, now: datetime) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    issuer = x509.load_pem_x509_certificate(ca.read_bytes())
    signer = serialization.load_pem_private_key(ca_key.read_bytes(), password=None)
    if not isinstance(signer, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{ca_key} is not the EC key this demo makes; remove ca.pem and ca-key.pem")
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(signer, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pem.write_bytes(private + cert.public_bytes(serialization.Encoding.PEM))


def _openssl(*args: str) -> None:
    try:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)
    except FileNotFoundError:
        raise RuntimeError(
            "HTTPS needs the cryptography package or the openssl command; install one"
        ) from None
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(
            f"openssl {args[0]} failed: {exc.stderr.decode(errors='replace').strip()}"
        ) from None


_EC = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


def _make_ca_openssl(ca: Path, ca_key: Path, now: datetime) -> None:
    _openssl("req", "-x509", *_EC, "-keyout", str(ca_key), "-out", str(ca), "-days", str(CA_DAYS),
             "-subj", f"/CN={CA_NAME}", "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip


def _issue_openssl(ca: Path, ca_key: Path, pem: Path, days: int, now: datetime) -> None:
    key, csr, crt, ext = (pem.with_suffix(suffix) for suffix in (".key", ".csr", ".crt", ".ext"))
    ext.write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
        "extendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
    )
    try:
        _openssl("req", "-new", *_EC, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=localhost")
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-days", str(days),
                 "-set_serial", str(secrets.randbits(63)), "-extfile", str(ext), "-out", str(crt))  # fmt: skip
        pem.write_bytes(key.read_bytes() + crt.read_bytes())
    finally:
        for path in (key, csr, crt, ext):
            path.unlink(missing_ok=True)
