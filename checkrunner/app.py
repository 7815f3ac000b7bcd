"""Composition root: config + store + engine, opened and closed together."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from checkrunner.config import Config, load_config
from checkrunner.core.clock import Clock, SystemClock
from checkrunner.engine import Engine
from checkrunner.store import Store

CONFIG_ENV = "CHECKRUNNER_CONFIG"
DEFAULT_CONFIG = "schedules.yaml"


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
