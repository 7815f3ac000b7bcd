"""Watching schedules.yaml for edits, by polling its stat (no inotify dependency).

Editors truncate then write, or write a temporary file and rename it over the original; a
change is reported only once the file has been stable for ``debounce`` seconds, and a file
that is briefly missing (mid-rename) is waited for, not reported.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

Signature = tuple[int, int, int] | None


def signature(path: Path) -> Signature:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class FileWatcher:
    def __init__(
        self,
        path: Path,
        on_change: Callable[[], Awaitable[None]],
        *,
        interval: float = 0.5,
        debounce: float = 0.5,
    ) -> None:
        self.path = path
        self.on_change = on_change
        self.interval = interval
        self.debounce = debounce
        self.seen = signature(path)

    def accept_current(self) -> None:
        """Forget a change that was applied another way (SIGHUP)."""
        self.seen = signature(self.path)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            current = signature(self.path)
            if current is None or current == self.seen:
                continue
            # Wait until the file stops changing.
            while True:
                await asyncio.sleep(self.debounce)
                again = signature(self.path)
                if again == current:
                    break
                current = again
            if current is None:
                continue
            self.seen = current
            await self.on_change()
