"""What the running daemon reports about itself: the Observer seam.

The engine, the dispatcher and the notifier call an :class:`Observer` at the few points an
operator wants counted (a check result, a fire, a delivery attempt). The web room implements
it with Prometheus metrics; everywhere else it is the no-op :class:`NullObserver`, so nothing
below the web room knows about metrics. Outbox depth and open incidents are not pushed: the
web room reads them from the store at scrape time.

Contract for implementations: every method is called on the event loop (or in the thread of
a store batch), must return quickly (the fire path calls it thousands of times a second),
must never raise, and must not block on I/O.
"""

from __future__ import annotations

from typing import Protocol

from checkrunner.core.result import CheckResult

#: Outcomes of a fire as reported to :meth:`Observer.fire`.
FIRE_OUTCOMES = ("ran", "skipped", "missed")


class Observer(Protocol):
    def check_result(self, result: CheckResult) -> None:
        """One check run finished with ``result`` (after thresholds)."""

    def fire(self, schedule: str, outcome: str, lateness_s: float | None) -> None:
        """A fire of job ``schedule`` was ``ran``, ``skipped`` or ``missed``; ``lateness_s`` is
        actual start minus scheduled time for fires that ran, None otherwise."""

    def notification(self, channel: str, outcome: str) -> None:
        """A delivery attempt to ``channel`` ended with ``outcome`` (sent, retry, failed, expired)."""


class NullObserver:
    """The observer that observes nothing (the default everywhere)."""

    def check_result(self, result: CheckResult) -> None:
        return None

    def fire(self, schedule: str, outcome: str, lateness_s: float | None) -> None:
        return None

    def notification(self, channel: str, outcome: str) -> None:
        return None


__all__ = ["FIRE_OUTCOMES", "NullObserver", "Observer"]
