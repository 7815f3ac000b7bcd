"""Composition root: config + store + engine, opened and closed together."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from checkrunner.alerting.routes import route_lints
from checkrunner.config import Config
from checkrunner.config import load_config as load_bare
from checkrunner.core.clock import Clock, SystemClock
from checkrunner.engine import Engine
from checkrunner.store import Store

CONFIG_ENV = "CHECKRUNNER_CONFIG"
DEFAULT_CONFIG = "schedules.yaml"


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Load ``path`` with every room's warnings (alerting: statuses that reach no channel)."""
    return load_bare(path, env, lints=LINTS)


#: The extra warnings of ``validate`` (and of the daemon's start and reloads).
LINTS = (route_lints,)


def config_path(explicit: str | None, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(explicit or env.get(CONFIG_ENV) or DEFAULT_CONFIG)


@dataclass
class App:
    config: Config
    store: Store
    engine: Engine

    def close(self) -> None:
        self.store.close()


@contextmanager
def open_app(config: Config, clock: Clock | None = None) -> Iterator[App]:
    """Open the store named by ``config`` (creating and migrating it) and build the engine."""
    clock = clock or SystemClock()
    store = Store.open(config.database_url)
    try:
        yield App(config, store, Engine(config, store, clock))
    finally:
        store.close()


__all__ = ["CONFIG_ENV", "DEFAULT_CONFIG", "App", "config_path", "load_config", "open_app"]
