"""Opening a database: migrations, the tables/migration agreement, one-line errors, naive times."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from checkrunner.core.errors import StoreError
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.store import NaiveDatetimeError, Store, head_revision, mask_url
from checkrunner.store.migrate import VERSION_TABLE
from checkrunner.store.tables import metadata

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
NAIVE = datetime(2026, 11, 22, 12, 0)


def test_a_fresh_database_is_created_at_head(db_url: str) -> None:
    with Store.open(db_url) as store:
        assert store.revision() == head_revision()
        assert store.upgrade() == []


def test_without_migrate_a_fresh_database_is_left_empty_until_upgrade(db_url: str) -> None:
    with Store.open(db_url, migrate=False) as store:
        assert store.revision() is None
        assert store.upgrade() == ["0001", "0002", "0003", "0004"]
        assert store.upgrade() == []
        assert store.revision() == head_revision()


def test_a_database_at_head_opens_again_and_keeps_its_data(db_url: str) -> None:
    with Store.open(db_url) as store:
        store.record_ping("backup", "success", T0)
    with Store.open(db_url) as again:
        assert again.revision() == head_revision()
        assert again.ping_state("backup").last_ping == T0


def test_daemons_opening_a_fresh_database_at_once_migrate_it_once(
    db_url: str, run_concurrently: Callable[[Sequence[Callable[[], list[str]]]], list[list[str]]]
) -> None:
    starters = 4

    def start() -> list[str]:
        with Store.open(db_url, migrate=False) as store:
            return store.upgrade()

    outcomes = run_concurrently([start] * starters)
    assert (outcomes.count(["0001", "0002", "0003", "0004"]), outcomes.count([])) == (1, starters - 1)


def test_the_migrations_build_exactly_the_schema_of_the_tables_module(store: Store, db_url: str) -> None:
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_a_schema_newer_than_this_checkrunner_is_refused(db_url: str) -> None:
    Store.open(db_url).close()
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    finally:
        engine.dispose()
    with pytest.raises(StoreError, match="schema revision 9999, newer than this checkrunner"):
        Store.open(db_url)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url: str) -> None:
    Store.open(sqlite_url).close()
    engine = create_engine(sqlite_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        engine.dispose()
    with Store.open(sqlite_url) as store, pytest.raises(StoreError, match="FOREIGN KEY"):
        store.add_results([_result(T0, run_id=12345)])


def test_the_parent_folder_of_a_sqlite_file_is_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "checkrunner.db"
    with Store.open(f"sqlite:///{path}") as store:
        assert store.dialect == "sqlite"
    assert path.is_file()


def test_an_in_memory_sqlite_database_works_across_threads(
    run_concurrently: Callable[[Sequence[Callable[[], None]]], list[None]],
) -> None:
    with Store.open("sqlite://") as store:
        run_concurrently([partial(store.record_ping, "job", "success", T0)])
        assert store.ping_state("job").last_ping == T0


def _result(at: datetime, run_id: int | None = None) -> CheckResult:
    return CheckResult("api", Status.OK, at, 1.0, "ok", run_id=run_id)


@pytest.mark.parametrize(
    "write",
    [
        lambda s: s.add_results([_result(NAIVE)]),
        lambda s: s.history("api", since=NAIVE),
        lambda s: s.values("api", NAIVE, NAIVE),
        lambda s: s.start_run("check", "api", NAIVE),
        lambda s: s.record_ping("job", "success", NAIVE),
        lambda s: s.claim_fires([("m", NAIVE)], "a", T0),
        lambda s: s.claim_fires([("m", T0)], "a", NAIVE),
    ],
    ids=[
        "add-results",
        "history-since",
        "values-window",
        "start-run",
        "record-ping",
        "claim-fire",
        "claimed-at",
    ],
)
def test_a_naive_datetime_is_refused_and_nothing_is_written(
    sqlite_store: Store, write: Callable[[Store], object]
) -> None:
    with pytest.raises(NaiveDatetimeError, match="naive datetime 2026-11-22T12:00:00 refused"):
        write(sqlite_store)
    assert sqlite_store.history("api") == []
    assert sqlite_store.recent_runs() == []
    assert sqlite_store.last_fire("m") is None


def test_a_batch_with_one_naive_datetime_writes_none_of_it(store: Store) -> None:
    with pytest.raises(NaiveDatetimeError):
        store.add_results([_result(T0), _result(NAIVE)])
    assert store.history("api") == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "invalid database URL 'not a url'"),
        (
            "mysql://admin:hunter22@db.example/checks",
            "unsupported database 'mysql' in 'mysql://admin:****@db",
        ),
        (
            "postgresql://admin:hunter22@127.0.0.1:1/checks",
            "cannot open database postgresql://admin:****@127.0.0.1:1",
        ),
        (
            "postgres://admin:hunter22@127.0.0.1:1/checks",
            "cannot open database postgres://admin:****@127.0.0.1:1",
        ),
        (
            "postgresql+psycopg://admin@127.0.0.1:1/checks?password=hunter22",
            "cannot open database postgresql+psycopg://admin@127.0.0.1:1/checks?password=****",
        ),
    ],
    ids=["garbage", "unsupported-backend", "pg-port-closed", "postgres-scheme", "password-in-query"],
)
def test_an_unusable_url_is_one_line_with_the_password_masked(url: str, expected: str) -> None:
    with pytest.raises(StoreError) as raised:
        Store.open(url)
    message = str(raised.value)
    assert message.startswith(expected)
    assert "hunter22" not in message and "\n" not in message


def test_a_closed_postgres_port_says_the_connection_was_refused() -> None:
    with pytest.raises(
        StoreError, match=r"^cannot open database postgresql://u:\*\*\*\*@127.0.0.1:1/x: .*refused"
    ):
        Store.open("postgresql://u:pw12345@127.0.0.1:1/x")


def test_a_missing_postgres_database_is_named_in_one_line(pg_url: str) -> None:
    missing = pg_url.rsplit("/", 1)[0].replace("postgres@", "postgres:hunter22@") + "/cr_does_not_exist"
    with pytest.raises(StoreError) as raised:
        Store.open(missing)
    message = str(raised.value)
    assert 'database "cr_does_not_exist" does not exist' in message
    assert "hunter22" not in message and "\n" not in message


@pytest.mark.parametrize(
    ("make_path", "expected"),
    [
        (lambda tmp: tmp / "a-file" / "sub" / "checkrunner.db", "cannot create folder"),
        (lambda tmp: tmp / "a-folder", "unable to open database file"),
    ],
    ids=["parent-is-a-file", "path-is-a-folder"],
)
def test_an_unusable_sqlite_path_is_one_line(
    tmp_path: Path, make_path: Callable[[Path], Path], expected: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "a-folder").mkdir()
    url = f"sqlite:///{make_path(tmp_path)}"
    with pytest.raises(StoreError) as raised:
        Store.open(url)
    message = str(raised.value)
    assert message.startswith(f"cannot open database {url}: ")
    assert expected in message and "\n" not in message


def test_ping_of_a_stopped_database_is_a_store_error(tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    with Store.open(f"sqlite:///{folder / 'checkrunner.db'}") as store:
        store.ping()
        store.close()  # pooled connections closed: the next use reconnects
        (folder / "checkrunner.db").unlink()
        folder.rmdir()
        with pytest.raises(StoreError, match=r"^cannot reach database sqlite:///"):
            store.ping()


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql+psycopg://app:s3cr3t@db:5432/checks", "postgresql+psycopg://app:****@db:5432/checks"),
        ("postgres://app:p@ss:word@db/checks", "postgres://app:****@db/checks"),
        (
            "postgresql://app@db/checks?sslmode=require&password=x1",
            "postgresql://app@db/checks?sslmode=require&password=****",
        ),
        ("sqlite:///var/lib/checkrunner.db", "sqlite:///var/lib/checkrunner.db"),
        ("postgresql://app:@db/checks", "postgresql://app:****@db/checks"),
    ],
    ids=[
        "userinfo-password",
        "password-with-colon-and-at",
        "query-password",
        "no-password",
        "empty-password",
    ],
)
def test_mask_url_hides_the_password(url: str, masked: str) -> None:
    assert mask_url(url) == masked
