"""Fixtures of the web surface tests (helpers in support.py)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from checkrunner.config import load_config
from tests.web.support import Served, serve, write_config


@pytest.fixture
async def served(tmp_path: Path, db_url: str) -> AsyncIterator[Served]:
    """The standard config (token set) served on both backends."""
    async with serve(load_config(write_config(tmp_path, db_url))) as running:
        yield running


@pytest.fixture
async def served_sqlite(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Served]:
    """The standard config served on SQLite only (tests about HTTP, not storage)."""
    async with serve(load_config(write_config(tmp_path, sqlite_url))) as running:
        yield running


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log line of the test, debug included (to look for secrets in them)."""
    caplog.set_level(logging.DEBUG)
    return caplog
