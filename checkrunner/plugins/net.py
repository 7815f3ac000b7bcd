"""Network helpers shared by the tcp, tls and http check types: host validation, one-line
connection errors, TLS client contexts, and opening/closing streams within a deadline."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from pathlib import Path

from checkrunner.core.errors import CheckFailed

#: Seconds given to a peer to acknowledge a close before we stop waiting.
CLOSE_GRACE = 1.0


def check_host(host: str) -> str:
    """A bare host name or address (IPv6 with or without brackets); raises ValueError."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not bare or any(char.isspace() or char in "/@?#[]" for char in bare):
        raise ValueError(f"host {host!r} is not a host name or address (no scheme, path or port)")
    if ":" in bare:
        try:
            ipaddress.IPv6Address(bare)
        except ValueError:
            raise ValueError(f"host {host!r} is not a host name: give the port as port:") from None
    return bare


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def known_failure(exc: BaseException, host: str, where: str) -> str | None:
    """One line for the connection failures a check reports as such (TLS, DNS, refused,
    reset), or None for anything else. ``where`` is how the target is named ("host:port")."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS failure with {where}: certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failure with {where}: {exc.reason or exc}"
    if isinstance(exc, socket.gaierror):
        return f"DNS lookup failed for {host}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused to {where}"
    if isinstance(exc, ConnectionResetError):
        return f"connection reset by {where}"
    return None


def connect_error(exc: OSError, host: str, port: int) -> str:
    """One line naming why a connection (or its TLS handshake) failed."""
    where = host_port(host, port)
    return known_failure(exc, host, where) or f"cannot connect to {where}: {exc.strerror or exc}"


async def open_stream(
    host: str, port: int, tls: ssl.SSLContext | None = None, server_name: str | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to each address of ``host`` in turn; raises the OSError of the last attempt
    (``socket.gaierror`` when the name does not resolve). asyncio alone would merge several
    failures into one unclassifiable "Multiple exceptions" error (``localhost`` has two)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    failure = OSError(f"no address for {host}")
    for address in dict.fromkeys(str(info[4][0]) for info in infos):
        try:
            return await asyncio.open_connection(
                address, port, ssl=tls, server_hostname=(server_name or host) if tls else None
            )
        except OSError as exc:
            failure = exc
            if isinstance(exc, ssl.SSLError):
                break  # the server answered: its other addresses would say the same
    raise failure


async def close_stream(writer: asyncio.StreamWriter) -> None:
    """Close politely but never wait long: a peer that ignores the close gets a reset."""
    writer.close()
    try:
        async with asyncio.timeout(CLOSE_GRACE):
            await writer.wait_closed()
    except OSError:  # TimeoutError included: the peer did not answer the close
        pass
    finally:
        writer.transport.abort()  # a no-op once closed; frees the socket on cancellation too


def client_tls(verify: bool, ca_file: str | None, base_dir: Path) -> ssl.SSLContext:
    """A client TLS context: system trust store, a private CA, or no verification."""
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_file is None:
        return ssl.create_default_context()
    path = base_dir / ca_file
    try:
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise CheckFailed(f"cannot load ca_file {path}: {getattr(exc, 'strerror', None) or exc}") from None
