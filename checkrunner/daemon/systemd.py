"""sd_notify without libsystemd: readiness, watchdog keep-alives and stopping notices for
``Type=notify`` units (NOTIFY_SOCKET / WATCHDOG_USEC are set by systemd; absent = no-op)."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


class Notifier:
    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        address = env.get("NOTIFY_SOCKET", "")
        self.address: str | None = ("\0" + address[1:]) if address.startswith("@") else (address or None)
        usec = env.get("WATCHDOG_USEC", "")
        #: Seconds between keep-alives (half the watchdog period), or None without a watchdog.
        self.watchdog_interval: float | None = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 else None

    def notify(self, message: str) -> bool:
        if not self.address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(message.encode(), self.address)
        except OSError:
            return False
        return True

    def ready(self) -> bool:
        return self.notify("READY=1\nSTATUS=scheduling")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")
