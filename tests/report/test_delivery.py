"""Reports leave the building: the HTML email arrives at a real SMTP server (aiosmtpd) with its
numbers; hostile values are escaped; one message per channel in the channel's format."""

from __future__ import annotations

import re
from pathlib import Path

from checkrunner.config import load_config
from checkrunner.config.model import Channel
from checkrunner.core.redact import Redactor
from checkrunner.notify import ChannelSender
from checkrunner.report.compose import build_report
from checkrunner.report.deliver import channel_messages, dedup_key
from checkrunner.report.periods import parse_period
from checkrunner.report.render import report_message
from checkrunner.store import Store
from checkrunner.templating import make_environment
from tests.notify.conftest import Mailbox
from tests.report.conftest import CONFIG, NOW, TZ_NAME, World, load_golden


async def test_the_html_report_arrives_by_email_with_its_numbers(world: World, smtp: Mailbox) -> None:
    load_golden(world)
    view = build_report(
        world.store, world.config, "daily", parse_period("2026-11-21", NOW, world.config.timezone), NOW
    )
    message = report_message(make_environment(None, world.config.timezone), view, "html")

    sender = ChannelSender("email-admins", Channel(url=smtp.url, format="html"), Redactor())
    delivery = await sender.send(message, timeout=20)

    assert delivery.delivered, delivery.reason
    [mail] = smtp.received
    assert mail["Subject"] == "Daily report — Sat 21 Nov 2026"
    html_part = mail.get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()
    row = html[html.index("<b>api</b>") : html.index("<b>quiet</b>")]
    assert "95.83%" in row and "-4.17 pp" in row and "0 / 71.5 / 143" in row
    assert re.search(r"2 · 1h 30m", row)
    assert html.count("background:#d64545") >= 2  # the red summary bar and the red hour cell
    assert "<script" not in html.lower()
    # Apprise adds a plain-text alternative derived from the HTML: the figures survive in it.
    plain = mail.get_body(("plain",))
    assert plain is not None
    assert "95.83%" in plain.get_content() and "0 / 71.5 / 143" in plain.get_content()


def test_each_channel_gets_the_report_in_its_own_format(world: World) -> None:
    load_golden(world)
    view = build_report(
        world.store, world.config, "daily", parse_period("2026-11-21", NOW, world.config.timezone), NOW
    )
    messages = channel_messages(make_environment(None, world.config.timezone), view, world.config)
    assert {name: m.format for name, m in messages.items()} == {
        "email-admins": "html",
        "slack-ops": "markdown",
    }
    assert messages["slack-ops"].body.startswith("*Daily report*")
    assert messages["email-admins"].title == messages["slack-ops"].title == "Daily report — Sat 21 Nov 2026"
    assert dedup_key("daily", view.period) == "report:daily:2026-11-21"
    assert dedup_key("daily", view.period, NOW) == "report:daily:2026-11-21:manual:2026-11-22T12:00:00+00:00"


def test_a_hostile_report_title_is_escaped_in_html(tmp_path: Path, sqlite_url: str) -> None:
    body = CONFIG.format(tz=TZ_NAME, db=sqlite_url).replace(
        "daily: {schedule:", "daily: {title: \"<script>alert('x')</script> & co\", schedule:"
    )
    (tmp_path / "schedules.yaml").write_text(body, encoding="utf-8")
    config = load_config(tmp_path / "schedules.yaml", env={})
    with Store.open(sqlite_url) as store:
        view = build_report(store, config, "daily", parse_period("2026-11-21", NOW, config.timezone), NOW)
    html = report_message(make_environment(None, config.timezone), view, "html").body
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co" in html
