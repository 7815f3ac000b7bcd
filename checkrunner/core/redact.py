"""Masking of secrets: every known secret value is replaced by ``****``.

The Redactor is filled while the configuration loads (channel URLs, tokens, ping keys,
``${ENV}`` values used in credentials) and applied to everything that leaves the process:
log lines, CLI output, reports, web pages, stored messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

MASK = "****"
#: Field names whose values are secrets wherever they appear.
SECRET_FIELD = re.compile(r"(token|password|passwd|secret|key|apikey|api_key|auth)", re.IGNORECASE)
#: Values shorter than this are not masked by substring (masking "a" would wreck text).
_MIN_SECRET = 4


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= _MIN_SECRET and secret not in self._secrets:
            self._secrets.add(secret)
            self._pattern = None

    def add_url_credentials(self, url: str, *, path_tokens: bool = False) -> None:
        """Register the credentials of a URL as secrets (see :func:`url_secret_parts`)."""
        for part in url_secret_parts(url, path_tokens=path_tokens):
            self.add(part)

    def __contains__(self, text: str) -> bool:
        return text in self._secrets

    def __call__(self, text: str) -> str:
        if not self._secrets or not text:
            return text
        if self._pattern is None:
            # Longest first so that a secret containing another is masked whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))
        return self._pattern.sub(MASK, text)


def url_secret_parts(url: str, *, path_tokens: bool = False) -> list[str]:
    """The parts of a URL that carry credentials: the password, query values whose name looks
    secret (token, key, …) or whose value looks like a token, and, with ``path_tokens`` (for
    Apprise channel URLs, not database URLs), host/path segments of non-HTTP URLs that look
    like tokens (``slack://T000/B000/XXXX``).

    Plain words are left alone on purpose: the redactor masks by substring everywhere, so
    registering ``format=markdown`` or a user name would wreck unrelated text.
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return []
    found: list[str] = []
    if password:
        found.append(password)
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if SECRET_FIELD.search(name) or _looks_like_token(value):
            found.append(value)
    if path_tokens and parts.scheme not in ("http", "https", ""):
        segments = [parts.netloc.rpartition("@")[2], *parts.path.split("/")]
        found.extend(s for s in segments if _looks_like_token(s))
    return found


def _looks_like_token(text: str) -> bool:
    """Long, dense, with digits: what API tokens and webhook ids look like (not host names)."""
    return (
        len(text) >= 8
        and re.fullmatch(r"[A-Za-z0-9_\-]+", text) is not None
        and any(c.isdigit() for c in text)
        and any(c.isalpha() for c in text)
    )
