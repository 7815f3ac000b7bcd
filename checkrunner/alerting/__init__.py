"""Alert decisions, as pure functions of (what happened, the config, the world at ``now``).

No I/O, no store, no clock: every function takes ``now`` (aware) and the config timezone. The
engine records transitions and writes the intents decided here in the same transaction; the
outbox (notify) groups and delivers them.

* ``intents``    Intent (one outbox row: one notice for one channel, with a dedup key), Subject
* ``routes``     route(check, severity, now, tz, alerting) -> [Target]; coverage_gaps for validate
* ``silences``   Silence; targets: a name, ``tag:NAME`` or a glob
* ``maintenance`` active_window / window_ended over the config's maintenance windows
* ``flapping``   assess(): state-change ratio with high/low hysteresis
* ``context``    DecisionContext (the world at now), Incident (what was told so far), suppression()
* ``decide``     on_transition (problem / recovery / suppressed), on_flapping
* ``followups``  reminders, escalations, and problems told once their suppression ends
* ``system``     config_error, missed_fire: alerts about checkrunner itself
* ``grouping``   group() pending intents into one Batch per channel; cap() per max_per_hour

The typical pass, per fire: step every result (state), build ``DecisionContext`` with the new
hard states and flapping set, call ``on_transition`` for each transition (recording
``suppressed_by`` on the incident), then, every tick, ``followups`` over open incidents and
``group`` + ``cap`` over the outbox's pending intents.
"""

from checkrunner.alerting.context import DecisionContext, Incident, suppression
from checkrunner.alerting.decide import Decision, on_flapping, on_transition
from checkrunner.alerting.flapping import FlapVerdict, assess, change_ratio
from checkrunner.alerting.followups import followups
from checkrunner.alerting.grouping import Batch, Capped, cap, group, summary_intent
from checkrunner.alerting.intents import (
    CONFIG_SUBJECT,
    SCHEDULE_SUBJECT,
    Intent,
    Kind,
    Severity,
    Subject,
    severity_of,
)
from checkrunner.alerting.maintenance import active_window, in_scope, window_ended
from checkrunner.alerting.routes import Gap, Target, coverage_gaps, route
from checkrunner.alerting.silences import Silence, parse_target, silencing
from checkrunner.alerting.system import config_error, missed_fire

__all__ = [
    "CONFIG_SUBJECT",
    "SCHEDULE_SUBJECT",
    "Batch",
    "Capped",
    "Decision",
    "DecisionContext",
    "FlapVerdict",
    "Gap",
    "Incident",
    "Intent",
    "Kind",
    "Severity",
    "Silence",
    "Subject",
    "Target",
    "active_window",
    "assess",
    "cap",
    "change_ratio",
    "config_error",
    "coverage_gaps",
    "followups",
    "group",
    "in_scope",
    "missed_fire",
    "on_flapping",
    "on_transition",
    "parse_target",
    "route",
    "severity_of",
    "silencing",
    "summary_intent",
    "suppression",
    "window_ended",
]
