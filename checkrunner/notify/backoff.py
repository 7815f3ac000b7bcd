"""When to try a failed delivery again: exponential backoff with jitter (DESIGN.md "Delivery retries").

The nominal delay after the n-th failed attempt is ``base * 2**(n-1)`` (10 s, 20 s, 40 s, …) capped
at ``max_backoff`` (10 min by default, ``alerting.delivery.max_backoff``). Jitter multiplies it by a
factor drawn uniformly from [0.8, 1.2] so that channels which failed together (an SMTP relay that was
down for everyone) do not retry in lockstep; the result never exceeds ``max_backoff``. Expiry (24 h)
is the outbox's business, not this function's.

Pure given ``rng``: pass ``random.Random(seed)`` in tests, one shared ``random.Random()`` in the
daemon.
"""

from __future__ import annotations

import random
from datetime import timedelta

BASE = timedelta(seconds=10)
MAX_BACKOFF = timedelta(minutes=10)
#: Jitter spread: the delay is the nominal one times a factor in [1 - JITTER, 1 + JITTER].
JITTER = 0.2
#: Doubling more often than this exceeds any sane cap; stopping here keeps the float finite.
_MAX_DOUBLINGS = 60


def next_attempt(
    attempt: int,
    *,
    base: timedelta = BASE,
    max_backoff: timedelta = MAX_BACKOFF,
    rng: random.Random,
) -> timedelta:
    """How long to wait after failed attempt number ``attempt`` (1 = the first send) before the next.

    Raises ValueError for ``attempt < 1``, a non-positive ``base``, or ``max_backoff < base``.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    if base <= timedelta(0):
        raise ValueError(f"base must be positive, got {base}")
    if max_backoff < base:
        raise ValueError(f"max_backoff ({max_backoff}) must not be shorter than base ({base})")
    cap = max_backoff.total_seconds()
    nominal = min(cap, base.total_seconds() * 2.0 ** min(attempt - 1, _MAX_DOUBLINGS))
    jittered = nominal * rng.uniform(1 - JITTER, 1 + JITTER)
    return timedelta(seconds=min(cap, jittered))
