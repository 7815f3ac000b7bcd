"""The retention job: prune what ``retention:`` no longer keeps (results, rollups, notifications).

Run daily by the daemon (job ``retention:daily``). Reports over pruned periods keep working
from rollups (see checkrunner/store/reportqueries.py); rows still needed are never pruned
(pending messages, open incidents).
"""

from __future__ import annotations

import logging
from datetime import datetime

from checkrunner.config import Config
from checkrunner.store import Store

log = logging.getLogger("checkrunner.report")

#: When the daemon prunes: daily, at a quiet minute of the night in the config's timezone.
SCHEDULE = "17 3 * * *"


def apply_retention(store: Store, config: Config, now: datetime) -> dict[str, int]:
    """Prune per ``config.retention`` as of ``now``; rows deleted per table (logged)."""
    keep = config.document.retention
    deleted = store.prune(now - keep.results, now - keep.rollups, now - keep.notifications)
    log.info("retention %s", " ".join(f"{table}={n}" for table, n in deleted.items()))
    return deleted
