"""Turning a channel URL into an Apprise service, and saying in one line why one cannot be.

:func:`check_channel_url` is what config validation calls; :func:`load_service` is what a sender
calls. Both only parse and construct: no plugin touches the network before ``notify()``.

Apprise loads its ~180 plugin modules on first use. One of them imports the stdlib ``imghdr``,
which warns on Python 3.11+; :func:`apprise_ready` loads them once with exactly that warning
silenced, so ``-W error`` (and pytest's ``filterwarnings = error``) keep working.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise
from apprise.manager_plugins import NotificationManager

from checkrunner.core.redact import Redactor

_SCHEME = re.compile(r"^\s*(?P<scheme>[a-z][a-z0-9+.-]*)://", re.IGNORECASE)
_loaded = False
_load_lock = threading.Lock()


def apprise_ready() -> None:
    """Load Apprise's plugins once (thread-safe, idempotent)."""
    global _loaded
    if _loaded:
        return
    with _load_lock:
        if _loaded:
            return
        # A library should not print through logging's last-resort handler when the application has
        # configured nothing (``validate`` would print Apprise's parse errors raw on stderr). With
        # a handler configured on the root logger, records still propagate to it as usual.
        logging.getLogger("apprise").addHandler(logging.NullHandler())
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=r".*'imghdr' is deprecated", category=DeprecationWarning
            )
            NotificationManager().load_modules()  # type: ignore[no-untyped-call]
        _loaded = True


def make_asset() -> apprise.AppriseAsset:
    """The settings every channel shares: our name where Apprise shows one (email From name,
    Slack footer, User-Agent), and no persistent store on disk."""
    return apprise.AppriseAsset(app_id="checkrunner", app_desc="checkrunner alerts", storage_mode="memory")


def load_service(url: str, asset: apprise.AppriseAsset) -> tuple[apprise.NotifyBase | None, str | None]:
    """``(service, None)`` for a URL Apprise can use, else ``(None, reason)``.

    The reason is one line and never contains the URL or any part of it (see :func:`_masked`).
    """
    apprise_ready()
    match = _SCHEME.match(url)
    if match is None:
        return None, "not an Apprise URL: expected scheme://…, such as slack://, mailto:// or json://"
    scheme = match["scheme"].lower()
    manager = NotificationManager()  # type: ignore[no-untyped-call]
    try:
        service = apprise.Apprise.instantiate(url, asset=asset, suppress_exceptions=False)
    except Exception as exc:  # plugin constructors raise anything from TypeError to their own errors
        name = manager[scheme].service_name if scheme in manager else scheme
        detail = _masked(url, " ".join(str(exc).split())) or type(exc).__name__
        return None, f"Apprise rejects this {name} URL: {detail}"
    if service is not None:
        return service, None
    if scheme in ("http", "https") and scheme not in manager:
        return (
            None,
            f"Apprise recognises no service in this {scheme}:// URL (for a plain webhook use json:// or jsons://)",
        )
    if scheme not in manager:
        return None, f"Apprise does not recognise {scheme}:// URLs (no notification service by that name)"
    plugin = manager[scheme]
    if not plugin.enabled:
        return None, f"{scheme}:// ({plugin.service_name}) is not available on this system"
    return None, f"Apprise cannot parse this {plugin.service_name} URL (missing host, token or recipient?)"


def check_channel_url(url: str) -> str | None:
    """None if Apprise recognises ``url`` and can build its service, else a one-line reason.

    No network I/O: this parses the URL and constructs the plugin, nothing more. The reason never
    repeats the URL's user, password, host, path or query values.
    """
    _, reason = load_service(url, make_asset())
    return reason


def _masked(url: str, text: str) -> str:
    """``text`` with every component of ``url`` masked. Used for messages about a URL Apprise
    rejected, where a malformed token is echoed back but looks like no token, so the usual
    "looks like a secret" heuristics cannot be trusted."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return Redactor([url])(text)
    userinfo, _, host = parts.netloc.rpartition("@")
    pieces = [*userinfo.split(":", 1), host, host.rpartition(":")[0], *parts.path.split("/")]
    pieces += [value for _, value in parse_qsl(parts.query)]
    return Redactor([*pieces, *(unquote(p) for p in pieces)])(text)
