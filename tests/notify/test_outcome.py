"""Classifying a failed send from the lines apprise 2.2.0 logs (copied from its plugins' source)."""

from __future__ import annotations

import pytest

from checkrunner.notify.outcome import Failure, classify, one_line


@pytest.mark.parametrize(
    ("lines", "timed_out", "expected"),
    [
        (["Failed to send JSON POST notification: Verification Failed., error=401."], False,
         Failure(True, "JSON: Failed to send JSON POST notification: Verification Failed., error=401.")),
        (["Failed to send JSON POST notification: error=403."], False, Failure(True, "JSON: Failed to send JSON POST notification: error=403.")),
        (["Failed to send JSON POST notification: Page not found., error=404."], False,
         Failure(True, "JSON: Failed to send JSON POST notification: Page not found., error=404.")),
        (["Failed to send JSON POST notification: error=422."], False, Failure(True, "JSON: Failed to send JSON POST notification: error=422.")),
        (["Failed to send JSON POST notification: error=301."], False, Failure(True, "JSON: Failed to send JSON POST notification: error=301.")),
        (["Failed to send JSON POST notification: error=429."], False, Failure(False, "JSON: Failed to send JSON POST notification: error=429.")),
        (["Failed to send JSON POST notification: error=408."], False, Failure(False, "JSON: Failed to send JSON POST notification: error=408.")),
        (["Failed to send JSON POST notification: Internal server error., error=500."], False,
         Failure(False, "JSON: Failed to send JSON POST notification: Internal server error., error=500.")),
        (["Failed to send to Slack: error=200."], False, Failure(False, "JSON: Failed to send to Slack: error=200.")),
        (["A Connection error occurred sending JSON notification to 127.0.0.1."], False,
         Failure(False, "JSON: A Connection error occurred sending JSON notification to 127.0.0.1.")),
        (["Service 'JSON' did not finish within 0.503s."], True, Failure(False, "JSON: Service 'JSON' did not finish within 0.503s.")),
        ([], True, Failure(False, "JSON: did not answer before the deadline")),
        (['Connection error while submitting email to "smtp.example.com"'], False,
         Failure(False, 'JSON: Connection error while submitting email to "smtp.example.com"')),
        (["SMTP recipient ops@example.com was refused: 550 b'no such user'"], False,
         Failure(True, "JSON: SMTP recipient ops@example.com was refused: 550 b'no such user'")),
        (["SMTP recipient ops@example.com was refused: 451 b'try later'"], False,
         Failure(False, "JSON: SMTP recipient ops@example.com was refused: 451 b'try later'")),
        (["There are no Email recipients to notify"], False, Failure(True, "JSON: There are no Email recipients to notify")),
        (["Could not prepare the notification: body too large"], False,
         Failure(True, "JSON: Could not prepare the notification: body too large")),
        (["Attempt 1/2 for 'JSON' failed; trying again.", "Failed to send JSON POST notification: error=502."], False,
         Failure(False, "JSON: Failed to send JSON POST notification: error=502.")),
        (["Notification service 'JSON' raised an exception."], False, Failure(False, "JSON: Notification service 'JSON' raised an exception.")),
        (["Something\nnew   and odd"], False, Failure(False, "JSON: Something new and odd")),
        ([], False, Failure(False, "JSON: not delivered (Apprise logged no reason)")),
    ],
    ids=["401-permanent", "403-permanent", "404-permanent", "other-4xx-permanent", "redirect-permanent",
         "429-transient", "408-transient", "500-transient", "unexpected-200-transient", "connection-error-transient",
         "apprise-deadline-transient", "timeout-without-lines-transient", "smtp-connection-transient",
         "smtp-5xx-recipient-permanent", "smtp-4xx-recipient-transient", "no-recipients-permanent",
         "unpreparable-message-permanent", "retry-note-skipped", "plugin-crash-transient",
         "unknown-line-transient-on-one-line", "no-lines-transient"],
)  # fmt: skip
def test_failures_are_classified_from_apprise_log_lines(
    lines: list[str], timed_out: bool, expected: Failure
) -> None:
    assert classify("JSON", lines, timed_out=timed_out) == expected


def test_a_status_code_outweighs_wording_in_an_earlier_line() -> None:
    lines = ["A Connection error occurred sending JSON notification to h.", "Failed to send: error=401."]
    assert classify("JSON", lines, timed_out=False).permanent


def test_one_line_flattens_and_cuts_long_reasons() -> None:
    assert one_line("a\n b\tc") == "a b c"
    assert one_line("x" * 400, limit=20) == "x" * 17 + "..."
