"""A minimal SMTP receiver, so that the example's email alerts arrive offline in the demo's sinks.

Speaks just enough RFC 5321 for :mod:`smtplib` (and so Apprise's ``mailto://`` with
``mode=insecure``): EHLO/HELO, AUTH PLAIN and LOGIN (any credentials are accepted: it is a sink on
127.0.0.1), MAIL, RCPT, DATA (dot-unstuffed, at most :data:`MAX_MESSAGE` bytes), RSET, NOOP, QUIT.
No TLS. Standard library only: ``smtpd`` left Python in 3.12 and aiosmtpd is a test dependency.

``SmtpSink(port, deliver).start()`` binds at once (raising OSError when it cannot) and serves from a
thread with its own event loop; ``deliver(mail_from, rcpt_to, message)`` is called from that thread
for each accepted message; ``stop()`` closes everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage

MAX_MESSAGE = 1 << 20
#: Seconds a client may stay silent before the sink hangs up.
IDLE_S = 60.0

Deliver = Callable[[str, list[str], EmailMessage], None]


class SmtpSink:
    def __init__(self, port: int, deliver: Deliver) -> None:
        self.deliver = deliver
        self._sock = socket.create_server(("127.0.0.1", port))
        self.port: int = self._sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="smtp-sink", daemon=True)

    def start(self) -> SmtpSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._session, sock=self._sock))
        try:
            self._loop.run_forever()
        finally:
            server.close()
            self._loop.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, TimeoutError, asyncio.LimitOverrunError, ValueError):
            await self._converse(reader, writer)
        writer.close()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(*lines: str) -> None:
            writer.write(b"".join(line.encode() + b"\r\n" for line in lines))
            await writer.drain()

        async def hear() -> str:
            raw = await asyncio.wait_for(reader.readline(), IDLE_S)
            if not raw:
                raise ConnectionError("client left")
            return raw.decode("utf-8", "replace").rstrip("\r\n")

        await say("220 checkrunner-demo SMTP sink")
        sender, recipients = "", list[str]()
        while True:
            verb, _, arg = (await hear()).partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                await say("250-checkrunner-demo", "250-AUTH PLAIN LOGIN", "250 8BITMIME")
            elif verb == "AUTH":
                mechanism, _, initial = arg.partition(" ")
                # LOGIN asks for the user name (unless given) and the password; PLAIN sends both at once.
                prompts = ["VXNlcm5hbWU6", "UGFzc3dvcmQ6"] if mechanism.upper() == "LOGIN" else [""]
                for prompt in prompts[1:] if initial else prompts:
                    await say(f"334 {prompt}")
                    await hear()
                await say("235 2.7.0 accepted (a demo sink takes any credentials)")
            elif verb == "MAIL":
                sender, recipients = arg.partition(":")[2].strip(" <>"), []
                await say("250 OK")
            elif verb == "RCPT":
                recipients.append(arg.partition(":")[2].strip(" <>"))
                await say("250 OK")
            elif verb == "DATA":
                await say("354 end with <CRLF>.<CRLF>")
                data = await self._data(reader)
                message = message_from_bytes(data, policy=policy.default)
                assert isinstance(message, EmailMessage)
                self.deliver(sender, recipients, message)
                await say("250 OK: kept in the demo's email sink")
            elif verb == "QUIT":
                await say("221 bye")
                return
            elif verb in ("HELO", "RSET", "NOOP"):
                await say("250 OK")
            else:
                await say("502 command not implemented")

    async def _data(self, reader: asyncio.StreamReader) -> bytes:
        lines: list[bytes] = []
        size = 0
        while True:
            line = await asyncio.wait_for(reader.readline(), IDLE_S)
            if not line or line in (b".\r\n", b".\n"):
                return b"".join(lines)
            size += len(line)
            if size <= MAX_MESSAGE:  # past the limit: read to the end, keep the start
                lines.append(line[1:] if line.startswith(b"..") else line)
