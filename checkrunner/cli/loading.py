"""Loading the config for a command, and the redactor of the config loaded last.

Log lines and error messages are masked with the secrets of the newest config (the daemon
tells the CLI about every reload), so this module keeps that one piece of state for the CLI.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from checkrunner.app import config_path, load_config
from checkrunner.config import Config

_current: list[Callable[[str], str]] = [lambda text: text]


def remember(config: Config) -> None:
    _current[0] = config.redactor


def load(args: argparse.Namespace) -> Config:
    """The config named by ``--config`` (or the default), remembered for redaction."""
    config = load_config(config_path(args.config))
    remember(config)
    return config


def redact(text: str) -> str:
    """``text`` with the secrets of the config loaded last masked (unchanged before one loaded)."""
    return _current[0](text)


def current_redactor() -> Callable[[str], str]:
    return _current[0]
