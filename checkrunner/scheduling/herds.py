"""Spreading herds: many monitors with one cadence would all fire at the same instants.

Cadences align to their window start, so every monitor with ``every: 10s`` fires at :00, :10,
… together: ten thousand of them are a herd of ten thousand fires at one instant every 10 s,
which no scheduler starts within milliseconds. When more than :data:`HERD_SIZE` monitors share
one cadence, each of them is shifted by a fixed offset in ``[0, min(shortest every,
MAX_SPREAD))``, drawn from a hash of its name: stable across restarts, reloads and daemons
(every instance of a shared database computes the same fire times), and independent of the
other members. Smaller groups stay aligned to the second.

The offsets fall on a grid of slots holding about :data:`PER_SLOT` members each, not anywhere:
a daemon wakes up once per slot and starts its dozen or two fires together, which costs far less
CPU per fire than one wake-up per fire (a thread hand-off and a transaction each), while a
slot is still small enough to start within milliseconds. The number of slots is a power of two
(for N members, the smallest with N / slots <= PER_SLOT), so it changes only when a herd
doubles or halves, and a member's slot follows from its own hash alone.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import timedelta

from checkrunner.scheduling.cadence import Cadence

#: More monitors than this sharing every fire instant are spread.
HERD_SIZE = 50
#: A herd is spread over at most this long (or its shortest ``every``, when shorter).
MAX_SPREAD = timedelta(seconds=60)
#: About this many members of a herd share one slot (fire instant).
PER_SLOT = 20


def spread_herds(cadences: Mapping[str, Cadence]) -> dict[str, Cadence]:
    """``cadences`` by monitor name, with the members of herds shifted (see the module doc)."""
    groups: dict[Cadence, list[str]] = {}
    for name, cadence in cadences.items():
        groups.setdefault(cadence, []).append(name)
    spread = dict(cadences)
    for cadence, names in groups.items():
        if len(names) <= HERD_SIZE or cadence.offset:
            continue
        width_ms = int(min(cadence.shortest_every, MAX_SPREAD) / timedelta(milliseconds=1))
        slots = 1 << max(0, math.ceil(math.log2(len(names) / PER_SLOT)))
        slots = max(1, min(slots, width_ms))  # at least 1 ms apart
        for name in names:
            slot = int(_fraction(name) * slots)
            spread[name] = cadence.shifted(timedelta(milliseconds=slot * width_ms // slots))
    return spread


def _fraction(name: str) -> float:
    """A fixed number in [0, 1) for ``name`` (not hash(): that changes with every process)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
