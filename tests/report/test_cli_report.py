"""``checkrunner report``: --out previews in the format of the file name, --period forms, and
one-line errors (exit 2); ``validate`` renders every template and points at a broken one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from checkrunner.cli.main import main
from tests.notify.conftest import Webhook
from tests.report.conftest import World, load_golden


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("name", "first", "fmt"),
    [
        ("week.html", "<!DOCTYPE html>", "html"),
        ("week.md", "*Daily report*", "markdown"),
        ("week.txt", "Daily report — Sat 21 Nov 2026", "text"),
        ("week", "Daily report — Sat 21 Nov 2026", "text"),
    ],
)
def test_out_writes_the_preview_in_the_format_of_the_file_name(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, first: str, fmt: str
) -> None:
    load_golden(world)
    out = tmp_path / name
    code, stdout, err = run(
        capsys,
        "--config",
        str(world.config.path),
        "report",
        "daily",
        "--period",
        "2026-11-21",
        "--out",
        str(out),
    )
    assert (code, err) == (0, ""), err
    assert stdout == f"daily 2026-11-21: wrote {fmt} report to {out}\n"
    text = out.read_text(encoding="utf-8")
    assert text.startswith(first) and "95.83%" in text


def test_no_notify_without_out_prints_the_text_report(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    load_golden(world)
    code, out, _ = run(
        capsys, "--config", str(world.config.path), "report", "daily", "--period", "2026-11-21", "--no-notify"
    )
    assert code == 0
    assert out.splitlines()[1] == "Uptime 95.83% · incidents 2 · results 144 · compared with 2026-11-20"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["report", "nope", "--out", "x.html"],
            "checkrunner: unknown report 'nope' (known: daily, monthly, weekly)",
        ),
        (
            ["report", "daily", "--period", "2026-13", "--out", "x.html"],
            "checkrunner: --period: period '2026-13': month must be in 1..12",
        ),
        (
            ["report", "daily", "--send"],
            "checkrunner: --send goes with --out FILE (without --out the report is sent anyway)",
        ),
        (
            ["report", "daily", "--out", "/nonexistent-dir/x.html"],
            "checkrunner: cannot write /nonexistent-dir/x.html: No such file or directory",
        ),
    ],
    ids=["unknown-report", "bad-period", "send-without-out", "unwritable"],
)
def test_errors_are_one_line_and_exit_2(
    world: World, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "--config", str(world.config.path), *args)
    assert (code, out, err) == (2, "", message + "\n")


def test_validate_points_at_the_line_of_a_broken_user_template(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = world.config.path.parent / "templates"
    folder.mkdir()
    (folder / "report.md.j2").write_text(
        "*{{ report.title }}*\n{{ report.no_such_field }}\n", encoding="utf-8"
    )
    (folder / "checklist.html.j2").write_text("<p>{% for s in steps %}{{ s.check }}</p>\n", encoding="utf-8")
    code, out, err = run(capsys, "--config", str(world.config.path), "validate")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"{folder / 'report.md.j2'}:2:0: (template report.md.j2): does not render: "
        "'checkrunner.report.compose.ReportView object' has no attribute 'no_such_field'",
        f"{folder / 'checklist.html.j2'}:1:0: (template checklist.html.j2): Unexpected end of template. "
        "Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block that needs to be "
        "closed is 'for'.",
    ]


def test_validate_accepts_the_shipped_templates(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--config", str(world.config.path), "validate")
    assert code == 0 and err == "" and "valid" in out


def test_out_with_send_writes_the_file_and_delivers_to_every_channel(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], webhooks: Callable[[], Webhook]
) -> None:
    load_golden(world)
    hook = webhooks()
    path = world.config.path
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("json://127.0.0.1:9/hook", hook.url("/slack")).replace(
            "json://127.0.0.1:9/mail", hook.url("/mail")
        ),
        encoding="utf-8",
    )
    out = tmp_path / "day.md"
    code, stdout, err = run(
        capsys,
        "--config",
        str(path),
        "report",
        "daily",
        "--period",
        "2026-11-21",
        "--out",
        str(out),
        "--send",
    )
    assert (code, err) == (0, ""), err
    assert stdout.splitlines() == [
        f"daily 2026-11-21: wrote markdown report to {out}",
        "daily 2026-11-21: delivered to email-admins",
        "daily 2026-11-21: delivered to slack-ops",
    ]
    posts = dict(hook.received)
    assert sorted(posts) == ["/mail", "/slack"]
    assert posts["/slack"]["title"] == "Daily report — Sat 21 Nov 2026"
    assert posts["/slack"]["message"].startswith("*Daily report*") and "95.83%" in posts["/slack"]["message"]
    assert "<!DOCTYPE html>" in posts["/mail"]["message"] and "0 / 71.5 / 143" in posts["/mail"]["message"]
    assert out.read_text(encoding="utf-8").startswith("*Daily report*")
