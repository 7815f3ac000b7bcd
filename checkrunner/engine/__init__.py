"""The engine: fire -> run -> store -> state -> alerting -> outbox.

It calls the stages in sequence and owns no policy of its own: schedules come from the
scheduler, runs from the runner, decisions from ``state`` and ``alerting``, persistence from the
store (a synchronous repository, called in a worker thread so the event loop never blocks on it),
delivery from ``notify``.

* ``core``      Engine: running checks and checklists, recording results, states, incidents and
                intents in one transaction; report runs
* ``alerting``  AlertingOps (mixed into Engine): followups, SLO burn alerts, system alerts, the
                outbox and queueing rendered messages
"""

from checkrunner.engine.core import Batcher, ChecklistRun, Engine

__all__ = ["Batcher", "ChecklistRun", "Engine"]
