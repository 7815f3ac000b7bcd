"""The result store: the only room that talks SQL (besides the sql check plugin).

Public surface::

    Store.open(url, *, migrate=True, clock=None) -> Store   # the contract: repository.py; methods
                                                             # by area: repository.py (results, runs,
                                                             # states, pings, fires, settings),
                                                             # repo_alerts.py, repo_reports.py
    RunRecord, StoredState, IncidentRecord, MessageRecord,   # domain records it returns
    NewMessage, ChannelHealth, Recording
    NaiveDatetimeError                                       # a naive datetime was passed in
    mask_url(url) -> str                                     # a database URL with its password as ****
    head_revision() -> str                                   # newest schema revision shipped

SQLite (the default) and PostgreSQL (psycopg 3) are supported; the schema is created and
migrated with Alembic (``migrations/``), never dropped.
"""

from checkrunner.store.database import mask_url
from checkrunner.store.migrate import head_revision
from checkrunner.store.records import (
    ChannelHealth,
    IncidentRecord,
    MessageRecord,
    NewMessage,
    Recording,
    RunRecord,
    StoredState,
)
from checkrunner.store.repository import Store
from checkrunner.store.tables import NaiveDatetimeError

__all__ = [
    "ChannelHealth",
    "IncidentRecord",
    "MessageRecord",
    "NaiveDatetimeError",
    "NewMessage",
    "Recording",
    "RunRecord",
    "Store",
    "StoredState",
    "head_revision",
    "mask_url",
]
