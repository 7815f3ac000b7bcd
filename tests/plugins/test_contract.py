"""Every discovered plugin honours the contract (one test, parametrized over the registry)."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from checkrunner.core.result import Observation
from checkrunner.plugins.contract import CheckContext, CheckOptions, CheckPlugin
from checkrunner.plugins.registry import discover

REGISTRY = discover(None)
EXPECTED = {"command", "heartbeat", "http", "log", "nagios", "sql", "tcp", "tls"}


def test_all_shipped_check_types_are_discovered() -> None:
    assert set(REGISTRY.types()) >= EXPECTED


@pytest.mark.parametrize("kind", REGISTRY.types())
def test_plugin_honours_the_contract(kind: str) -> None:
    plugin = REGISTRY.get(kind)
    assert isinstance(plugin, CheckPlugin)
    assert plugin.type == kind and kind.isidentifier()
    assert issubclass(plugin.Options, CheckOptions) and issubclass(plugin.Options, BaseModel)
    assert plugin.Options.model_config.get("extra") == "forbid"
    assert inspect.iscoroutinefunction(plugin.run)
    assert inspect.getdoc(inspect.getmodule(type(plugin))), "the check module documents its options"
    # unknown keys are config errors naming the key
    with pytest.raises(ValidationError, match="surely_not_an_option"):
        plugin.Options.model_validate({"surely_not_an_option": 1})


@pytest.mark.parametrize("kind", ["command", "nagios", "log"])
async def test_plugin_returns_an_observation_for_a_target_it_understands(kind: str, tmp_path: Path) -> None:
    plugin = REGISTRY.get(kind)
    assert plugin is not None
    raw = {
        "command": {"run": ["/bin/echo", "ok"]},
        "nagios": {"run": ["/bin/echo", "OK - fine | t=1s"]},
        "log": {"path": str(tmp_path / "app.log"), "pattern": "ERROR"},
    }[kind]
    (tmp_path / "app.log").write_text("INFO x\n")
    ctx = CheckContext(check="c", now=datetime.now(UTC), timeout=5.0, base_dir=tmp_path)
    observation = await plugin.run(plugin.Options.model_validate(raw), ctx)
    assert isinstance(observation, Observation)
    assert observation.summary and "\n" not in observation.summary
