"""A real headless Chromium opens the status page of a running daemon with checks in several
states and sees what a person would: names, states, values, uptime, an escaped summary, a
link to a checklist run. Screenshots (wall screen and phone) are saved as test artifacts."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.daemon.support import REPO, start, wait_until

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Upper bound of one Chromium run (a cold start on a busy 2-core machine takes a few seconds).
CHROMIUM_S = 90.0
STARTUP_S = 30.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
    ),
]

BODY = """\
checks:
  api-ok: {type: command, run: [/bin/true], every: 1s, tags: [prod]}
  queue-depth: {type: command, run: [/bin/echo, "depth 42"], value: {regex: "depth (\\\\d+)"}, warn: "> 40", every: 1s}
  evil-target: {type: command, run: [/bin/sh, -c, "echo '<script>document.title=1</script><b>bold</b>'; exit 2"], every: 1s}
  never-run: {type: command, run: [/bin/true]}
checklists:
  morning: {title: Morning health check, schedule: "0 9 * * *", steps: [api-ok, evil-target]}
"""


class Rows(HTMLParser):
    """The check rows of the status page: data-check -> (data-status, visible text)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, tuple[str, str]] = {}
        self._current: str | None = None
        self._status = ""
        self._text: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "tr" and values.get("data-check"):
            self._current, self._status, self._text = (
                values["data-check"],
                values.get("data-status") or "",
                [],
            )

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._current is not None:
            self.rows[self._current] = (self._status, " ".join(" ".join(self._text).split()))
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._text.append(data)


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}"]  # fmt: skip
    return subprocess.run(
        [CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=CHROMIUM_S, check=False
    )


def test_chromium_shows_the_live_status_page_as_a_person_sees_it(tmp_path: Path, sqlite_url: str) -> None:
    config = tmp_path / "schedules.yaml"
    config.write_text(
        f'timezone: America/Sao_Paulo\ndatabase: "{sqlite_url}"\nalerting: {{default: []}}\n'
        + BODY
        + 'server: {listen: "127.0.0.1:0"}\n'
    )
    checklist = subprocess.run(
        [sys.executable, "-m", "checkrunner", "--config", str(config), "checklist", "morning"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert checklist.returncode == 2, checklist.stderr
    daemon = start(config)
    try:
        found = wait_until(
            lambda: re.search(r"web listening on http://127\.0\.0\.1:(\d+)/", daemon.text()),
            STARTUP_S,
            "web up",
        )
        url = f"http://127.0.0.1:{found[1]}/"
        wait_until(lambda: daemon.text().count("check=queue-depth") >= 2, STARTUP_S, "a few results")
        dom = chromium(tmp_path / "profile", "--dump-dom", url)
        assert dom.returncode == 0, dom.stderr[-2000:]
        wall = tmp_path / "status-wall.png"
        phone = tmp_path / "status-phone.png"
        for shot, size in ((wall, "1280,900"), (phone, "390,844")):
            taken = chromium(tmp_path / "profile", f"--screenshot={shot}", f"--window-size={size}", url)
            assert taken.returncode == 0, taken.stderr[-2000:]
    finally:
        assert daemon.stop() == 0
    print(f"\nscreenshots: {wall} {phone}")
    page = Rows()
    page.feed(dom.stdout)
    assert set(page.rows) == {"api-ok", "queue-depth", "evil-target", "never-run"}
    assert page.rows["api-ok"][0] == "ok" and "100.00%" in page.rows["api-ok"][1]
    assert page.rows["queue-depth"][0] == "warning" and " 42 " in f" {page.rows['queue-depth'][1]} "
    status, text = page.rows["evil-target"]
    assert status == "critical" and "0.00%" in text
    assert "<script>document.title=1</script><b>bold</b>" in text  # shown as text, not run or rendered
    assert page.rows["never-run"] == ("pending", page.rows["never-run"][1])
    assert "not run yet" in page.rows["never-run"][1]
    assert page.scripts == 0
    assert "<title>1</title>" not in dom.stdout  # the injected script never ran
    assert re.search(r'<a href="/runs/\d+">#\d+</a>', dom.stdout)
    for shot in (wall, phone):
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, shot
