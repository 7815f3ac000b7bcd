"""Bulk statements handed straight to the driver's executemany (the write path's hot loop).

SQLAlchemy's ``conn.execute(statement, [params, …])`` builds every parameter set through the
compiler's ``construct_params``: a fifth of the CPU of recording a batch of results. Here the
statement is compiled once per dialect, and each column's own bind processor (the same function
SQLAlchemy would apply: UTC datetimes, JSON) is applied in one tight loop, datetimes memoized
(a batch shares a handful of distinct instants). Positional paramstyles only (SQLite's qmark);
other dialects take SQLAlchemy's path, which already batches there (insertmanyvalues).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.types import TypeEngine

Processor = Callable[[Any], Any]
_Compiled = tuple[str, tuple[str, ...], tuple[Processor | None, ...]]
#: Compiled statements per (statement identity, dialect): statements are module constants.
_COMPILED: dict[tuple[int, str, tuple[str, ...]], _Compiled | None] = {}


def execute_many(conn: Connection, statement: UpdateBase, params: Sequence[Mapping[str, Any]]) -> None:
    """``conn.execute(statement, params)``, cheaper. ``statement`` must live as long as the
    process (a module constant): compiled forms are cached by its identity. Every parameter
    set must have the same keys."""
    if not params:
        return
    compiled = _compiled(statement, conn.dialect, tuple(params[0]))
    if compiled is None:
        conn.execute(statement, list(params))
        return
    sql, names, processors = compiled
    memo: dict[datetime, Any] = {}
    columns = tuple(zip(names, processors, strict=True))
    rows = []
    for one in params:
        row = []
        for name, process in columns:
            value = one[name]
            if process is not None and value is not None:
                if type(value) is datetime:
                    converted = memo.get(value)
                    if converted is None:
                        converted = memo[value] = process(value)
                    value = converted
                else:
                    value = process(value)
            row.append(value)
        rows.append(tuple(row))
    conn.exec_driver_sql(sql, rows)


def _compiled(statement: UpdateBase, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled | None:
    # Compiled for the keys given, as SQLAlchemy does (an INSERT without values lists only the
    # columns the parameters name; every parameter set must name the same ones).
    key = (id(statement), dialect.name, keys)
    if key in _COMPILED:
        return _COMPILED[key]
    done = statement.compile(dialect=dialect, column_keys=list(keys))
    found: _Compiled | None = None
    if done.positional and done.positiontup is not None:
        names = tuple(done.positiontup)
        processors = tuple(_processor(done.binds[name].type, dialect) for name in names)
        found = (done.string, names, processors)
    _COMPILED[key] = found
    return found


def _processor(type_: TypeEngine[Any], dialect: Dialect) -> Processor | None:
    # The dialect's own implementation (SQLite stores DATETIME with microseconds), as SQLAlchemy
    # itself applies it.
    return type_.dialect_impl(dialect).bind_processor(dialect)
