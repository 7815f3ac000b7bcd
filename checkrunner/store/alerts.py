"""Queries on incidents, notification intents and silences (the alerting half of the outbox).

Each function takes a Connection inside a transaction owned by
:class:`~checkrunner.store.repository.Store`, which documents the public contract. The key
invariant lives in :func:`apply_transitions`: an incident change and the intents decided for it
are written in the caller's one transaction, together with the results and states that caused
them, so a crash leaves either all of them or none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, and_, func, insert, or_, select, update

from checkrunner.alerting import Incident, Intent, Kind, Severity, Silence
from checkrunner.alerting.decide import Decide
from checkrunner.core.status import Status
from checkrunner.state.machine import Transition
from checkrunner.store.database import dialect_insert
from checkrunner.store.records import IncidentRecord
from checkrunner.store.tables import incidents, notifications, silences

# -- intents ------------------------------------------------------------------------------------


def insert_intents(conn: Connection, intents: Sequence[Intent], state: str = "pending") -> int:
    """Insert ``intents``; one whose dedup key exists already is skipped. How many were new."""
    if not intents:
        return 0
    rows = [
        {
            "dedup_key": intent.dedup_key,
            "kind": intent.kind,
            "check": intent.check,
            "channel": intent.channel,
            "severity": intent.severity,
            "incident_id": intent.incident,
            "facts": dict(intent.facts),
            "decided_at": intent.decided_at,
            "not_before": intent.not_before,
            "state": state,
        }
        for intent in dict((i.dedup_key, i) for i in intents).values()
    ]
    statement = (
        dialect_insert(conn, notifications)
        .on_conflict_do_nothing(index_elements=[notifications.c.dedup_key])
        .returning(notifications.c.id)
    )
    return len(conn.execute(statement, rows).all())


def intent_of(row: Row[Any]) -> Intent:
    return Intent(
        dedup_key=row.dedup_key,
        kind=cast(Kind, row.kind),
        check=row.check,
        channel=row.channel,
        severity=cast(Severity, row.severity),
        not_before=row.not_before,
        decided_at=row.decided_at,
        incident=row.incident_id,
        facts=row.facts or {},
    )


def intents_in(
    conn: Connection, states: Sequence[str], *, lock: bool = False
) -> list[tuple[int, str, Intent]]:
    """``(row id, state, intent)`` of every intent in ``states``, oldest decision first.

    ``lock`` (composing): on PostgreSQL the rows are locked for the transaction and rows another
    composer holds are skipped, so two daemons never compose one intent into two messages (on
    SQLite the write transaction serialises composers already)."""
    query = (
        select(notifications)
        .where(notifications.c.state.in_(states))
        .order_by(notifications.c.decided_at, notifications.c.id)
    )
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [(row.id, row.state, intent_of(row)) for row in conn.execute(query)]


def any_in(conn: Connection, states: Sequence[str]) -> bool:
    query = select(notifications.c.id).where(notifications.c.state.in_(states)).limit(1)
    return conn.execute(query).first() is not None


def set_intent_state(
    conn: Connection, keys: Iterable[str], state: str, message_id: int | None = None
) -> None:
    keys = list(keys)
    if not keys:
        return
    values: dict[str, Any] = {"state": state}
    if message_id is not None:
        values["message_id"] = message_id
    conn.execute(update(notifications).where(notifications.c.dedup_key.in_(keys)).values(**values))


# -- incidents ----------------------------------------------------------------------------------


def incident_record(row: Row[Any]) -> IncidentRecord:
    return IncidentRecord(
        id=row.id,
        check=row.check,
        status=Status(row.status),
        peak=Status(row.peak),
        opened_at=row.opened_at,
        resolved_at=row.resolved_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        suppressed_by=row.suppressed_by,
    )


def incident_records(
    conn: Connection,
    *,
    open_only: bool = False,
    checks: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[IncidentRecord]:
    """Incidents newest first; ``since``/``until`` keep those overlapping that span."""
    query = select(incidents).order_by(incidents.c.opened_at.desc(), incidents.c.id.desc())
    if open_only:
        query = query.where(incidents.c.resolved_at.is_(None))
    if checks is not None:
        query = query.where(incidents.c.check.in_(list(checks)))
    if until is not None:
        query = query.where(incidents.c.opened_at < until)
    if since is not None:
        query = query.where(or_(incidents.c.resolved_at.is_(None), incidents.c.resolved_at >= since))
    if limit is not None:
        query = query.limit(limit)
    return [incident_record(row) for row in conn.execute(query)]


def incidents_with_notices(conn: Connection, records: Sequence[IncidentRecord]) -> list[Incident]:
    """The alerting view of ``records``: each with every intent decided for it."""
    notices: dict[int, list[Intent]] = {record.id: [] for record in records}
    if notices:
        query = select(notifications).where(notifications.c.incident_id.in_(list(notices)))
        for row in conn.execute(query):
            notices[row.incident_id].append(intent_of(row))
    return [
        Incident(
            id=record.id,
            check=record.check,
            status=record.status,
            opened_at=record.opened_at,
            acknowledged=record.acknowledged_at is not None,
            notices=tuple(notices[record.id]),
            suppressed_by=record.suppressed_by,
        )
        for record in records
    ]


def apply_transitions(conn: Connection, transitions: Sequence[Transition], decide: Decide) -> list[Intent]:
    """Open, update or resolve the incident of each transition (in order), let ``decide`` say
    what to tell, and store its intents. The intents stored (new dedup keys only)."""
    if not transitions:
        return []
    checks = {t.check for t in transitions}
    current = {
        incident.check: incident
        for incident in incidents_with_notices(conn, incident_records(conn, open_only=True, checks=checks))
    }
    decided: list[Intent] = []
    for transition in transitions:
        incident = current.get(transition.check)
        if transition.current is Status.OK:
            if incident is None:
                continue  # recovered from a state nobody opened an incident for (e.g. before 0002)
        elif incident is None:
            incident = _open(conn, transition)
        else:
            incident = _worsen(conn, incident, transition)
        decision = decide(transition, incident)
        if decision.suppressed_by is not None:
            conn.execute(
                update(incidents)
                .where(incidents.c.id == incident.id)
                .values(suppressed_by=decision.suppressed_by)
            )
        insert_intents(conn, decision.intents)
        decided.extend(decision.intents)
        if transition.current is Status.OK:
            conn.execute(
                update(incidents)
                .where(incidents.c.id == incident.id)
                .values(status=int(Status.OK), resolved_at=transition.at)
            )
            current.pop(transition.check, None)
        else:
            current[transition.check] = replace(
                incident,
                notices=(*incident.notices, *decision.intents),
                suppressed_by=decision.suppressed_by or incident.suppressed_by,
            )
    return decided


def _open(conn: Connection, transition: Transition) -> Incident:
    status = int(transition.current)
    new_id = conn.execute(
        insert(incidents)
        .values(check=transition.check, status=status, peak=status, opened_at=transition.at)
        .returning(incidents.c.id)
    ).scalar_one()
    return Incident(id=new_id, check=transition.check, status=transition.current, opened_at=transition.at)


def _worsen(conn: Connection, incident: Incident, transition: Transition) -> Incident:
    # peak by rank (ok < warning < unknown < critical), not by Nagios number.
    row = conn.execute(select(incidents.c.peak).where(incidents.c.id == incident.id)).one()
    peak = Status(row.peak)
    if transition.current.rank > peak.rank:
        peak = transition.current
    conn.execute(
        update(incidents)
        .where(incidents.c.id == incident.id)
        .values(status=int(transition.current), peak=int(peak))
    )
    return replace(incident, status=transition.current)


def acknowledge(conn: Connection, check: str, at: datetime, by: str | None) -> int | None:
    """Acknowledge the open incident of ``check``; its id, or None when none is open."""
    row = conn.execute(
        select(incidents.c.id).where(and_(incidents.c.check == check, incidents.c.resolved_at.is_(None)))
    ).first()
    if row is None:
        return None
    conn.execute(
        update(incidents)
        .where(and_(incidents.c.id == row.id, incidents.c.acknowledged_at.is_(None)))
        .values(acknowledged_at=at, acknowledged_by=by)
    )
    return int(row.id)


def count_open(conn: Connection) -> int:
    query = select(func.count()).select_from(incidents).where(incidents.c.resolved_at.is_(None))
    return int(conn.execute(query).scalar_one())


# -- silences -----------------------------------------------------------------------------------


def add_silence(
    conn: Connection, target: str, until: datetime, reason: str, at: datetime, by: str | None
) -> int:
    statement = (
        insert(silences)
        .values(target=target, until=until, reason=reason, created_at=at, created_by=by)
        .returning(silences.c.id)
    )
    return int(conn.execute(statement).scalar_one())


def active_silences(conn: Connection, now: datetime) -> list[Silence]:
    """Silences in force at ``now`` (not removed, not expired), oldest first."""
    query = (
        select(silences)
        .where(and_(silences.c.removed_at.is_(None), silences.c.until > now))
        .order_by(silences.c.id)
    )
    return [Silence(row.id, row.target, row.until, row.reason) for row in conn.execute(query)]


def remove_silence(conn: Connection, silence_id: int, at: datetime) -> bool:
    """End silence ``silence_id`` now; False when it does not exist or is over already."""
    result = conn.execute(
        update(silences)
        .where(and_(silences.c.id == silence_id, silences.c.removed_at.is_(None), silences.c.until > at))
        .values(removed_at=at)
    )
    return bool(result.rowcount)


def silences_by_id(conn: Connection, ids: Iterable[int]) -> Mapping[int, Silence]:
    query = select(silences).where(silences.c.id.in_(list(ids)))
    return {row.id: Silence(row.id, row.target, row.until, row.reason) for row in conn.execute(query)}
