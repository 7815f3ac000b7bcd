"""When things fire: cron schedules and time-of-day cadences, as pure functions of time.

Every query takes an explicit aware instant and a ``ZoneInfo`` and returns aware datetimes in
that zone; nothing here reads the clock. This package is the only one that imports apscheduler,
and only its cron field parsing: wall-clock to instant mapping (DST) is our own.

* ``CronSchedule`` (cron.py): crontab strings (POSIX OR of day fields) and APScheduler-field
  mappings (all fields ANDed); a time in a DST gap fires at the end of the gap, a repeated time
  fires at its first occurrence.
* ``Cadence`` / ``CadenceWindow`` / ``parse_between`` (cadence.py): "every 15m between
  08:00-12:00" windows; every instant whose local time is aligned fires (both passes of a
  repeated hour), aligned times inside a gap do not exist.
"""

from checkrunner.scheduling.cadence import Cadence, CadenceWindow, parse_between
from checkrunner.scheduling.cron import CronSchedule

__all__ = ["Cadence", "CadenceWindow", "CronSchedule", "parse_between"]
