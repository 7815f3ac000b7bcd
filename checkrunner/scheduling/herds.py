"""Spreading herds: many monitors with one cadence would all fire at the same instants.

Cadences align to their window start, so every monitor with ``every: 10s`` fires at :00, :10,
… together: ten thousand of them are a herd of ten thousand fires at one instant every 10 s,
which no scheduler starts within milliseconds. When more than :data:`HERD_SIZE` monitors share
one cadence, each of them is shifted by its own fixed offset in ``[0, min(shortest every,
MAX_SPREAD))``, drawn from a hash of its name: stable across restarts, reloads and daemons
(every instance of a shared database computes the same fire times), and independent of the
other members (adding a monitor moves nobody else). Smaller groups stay aligned to the second.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import timedelta

from checkrunner.scheduling.cadence import Cadence

#: More monitors than this sharing every fire instant are spread.
HERD_SIZE = 50
#: A herd is spread over at most this long (or its shortest ``every``, when shorter).
MAX_SPREAD = timedelta(seconds=60)


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
        for name in names:
            spread[name] = cadence.shifted(timedelta(milliseconds=int(_fraction(name) * width_ms)))
    return spread


def _fraction(name: str) -> float:
    """A fixed number in [0, 1) for ``name`` (not hash(): that changes with every process)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
