"""Why a delivery failed, and whether trying again can help (STYLE.md example 5).

Apprise's plugins report only True/False; the why is in what they log at WARNING/ERROR while they
run, which Apprise 2.x hands back per service attempt in ``AppriseResult``. The lines this module
reads, as apprise 2.2.0 writes them:

* HTTP plugins (``custom_json.py``, ``slack.py``, most others):
  ``Failed to send JSON POST notification: Verification Failed., error=401.`` and
  ``Failed to send to Slack: Unauthorized - Invalid Token., error=401.``
* any ``requests`` exception (refused, reset, DNS, read timeout) in those plugins:
  ``A Connection error occurred sending JSON notification to 127.0.0.1.`` (the exception itself is
  logged at DEBUG only, so refused and DNS cannot be told apart, and need not be: both are transient)
* email (``email/base.py``, ``email/smtp.py``): ``Connection error while submitting email to "host"``
  for every connection, TLS *and login* failure alike (the SMTP reply is at DEBUG), and
  ``SMTP recipient x was refused: 550 …`` for a refused recipient
* Apprise itself when the call deadline passes: ``Service 'JSON' did not finish within 1.003s.``

Permanent: a 3xx (a redirect Apprise will not follow means a wrong URL), 401, 403, 404 and any other
4xx but 408/425/429, a 5xx SMTP reply, an auth rejection named in words, a message Apprise could
not prepare. Transient: timeouts, connection errors, 5xx, 408/425/429, 4xx SMTP replies, and
anything unrecognised, so that an unknown failure is retried until it expires, not dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Longest reason kept; the rest of a long plugin message is cut.
MAX_REASON = 300

_HTTP = re.compile(r"\berror=(\d{3})\b")
_SMTP = re.compile(r"\brefused: ([245]\d\d)\b")
_TIMEOUT = re.compile(r"did not finish within|timed? ?out", re.IGNORECASE)
_CONNECTION = re.compile(r"connection|socket|resolv|unreachable|refused|reset by peer", re.IGNORECASE)
_AUTH = re.compile(
    r"unauthori[sz]ed|forbidden|invalid (api )?(token|key)|authenticat|credential", re.IGNORECASE
)
_UNUSABLE = re.compile(
    r"could not prepare|there are no .*recipients|not supported|unsupported", re.IGNORECASE
)
#: Apprise's own retry notes say nothing about the cause.
_NOISE = re.compile(r"; trying again\.$")


def _http_permanent(code: int) -> bool:
    if code in (408, 425, 429) or code >= 500:
        return False
    # 3xx and 4xx will not change by themselves; other codes (200 with an unexpected body) might.
    return 300 <= code < 500


#: (pattern, permanent given the match), most specific first: a status code beats any wording.
_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], bool]], ...] = (
    (_HTTP, lambda m: _http_permanent(int(m[1]))),
    (_SMTP, lambda m: m[1].startswith("5")),
    (_TIMEOUT, lambda m: False),
    (_AUTH, lambda m: True),
    (_CONNECTION, lambda m: False),
    (_UNUSABLE, lambda m: True),
)


@dataclass(frozen=True)
class Failure:
    permanent: bool
    reason: str


def classify(service: str, lines: Sequence[str], *, timed_out: bool) -> Failure:
    """The verdict on a failed send from the WARNING/ERROR ``lines`` Apprise captured for
    ``service`` (in the order logged). ``timed_out`` is Apprise's own TIMEOUT status.

    The reason is the most telling line, prefixed with the service name, on one line. It is not
    redacted here: the caller masks it (and must do so before cutting, so that no secret is left
    half visible).
    """
    useful = [" ".join(line.split()) for line in lines if line.strip() and not _NOISE.search(line)]
    for pattern, permanent in _RULES:
        for line in useful:
            match = pattern.search(line)
            if match:
                return Failure(permanent(match), f"{service}: {line}")
    if timed_out:
        return Failure(False, f"{service}: did not answer before the deadline")
    if useful:
        return Failure(False, f"{service}: {useful[-1]}")
    return Failure(False, f"{service}: not delivered (Apprise logged no reason)")


def one_line(text: str, limit: int = MAX_REASON) -> str:
    """``text`` on one line, cut to ``limit`` characters with ``...``."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."
