"""Discovery: shipped checks/, the user's folder, entry points; a duplicate type is an error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from checkrunner.config import load_config
from checkrunner.core.errors import ConfigError
from checkrunner.plugins.registry import PluginError, discover

PLUGIN = '''
"""A user's check type."""
from checkrunner.core.result import Observation
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext, CheckOptions, CheckPlugin


class Options(CheckOptions):
    answer: int = 42


class {cls}(CheckPlugin[Options]):
    type = "{kind}"
    Options = Options

    async def run(self, options: Options, ctx: CheckContext) -> Observation:
        return Observation(Status.OK, f"answer {{options.answer}}", value=float(options.answer))
'''


def write_plugin(folder: Path, kind: str, cls: str = "Answer", filename: str | None = None) -> None:
    folder.mkdir(exist_ok=True)
    (folder / (filename or f"{kind}.py")).write_text(textwrap.dedent(PLUGIN.format(kind=kind, cls=cls)))


def test_a_file_in_the_users_checks_folder_is_a_new_check_type(tmp_path: Path) -> None:
    write_plugin(tmp_path / "checks", "answer")
    (tmp_path / "schedules.yaml").write_text(
        "checks:\n  a: {type: answer, answer: 7, every: 1m}\nalerting: {default: []}\n"
    )
    config = load_config(tmp_path / "schedules.yaml", {})
    assert config.checks["a"].type == "answer"
    assert config.checks["a"].options.answer == 7  # type: ignore[attr-defined]


def test_unknown_option_of_a_user_plugin_is_a_config_error_with_a_line(tmp_path: Path) -> None:
    write_plugin(tmp_path / "checks", "answer")
    (tmp_path / "schedules.yaml").write_text("checks:\n  a: {type: answer, anser: 7, every: 1m}\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "schedules.yaml", {})
    assert any(
        ":2:" in p.render() and "unknown key 'anser' (did you mean 'answer'?)" in p.message
        for p in info.value.problems
    )


def test_checks_dir_key_points_at_another_folder(tmp_path: Path) -> None:
    write_plugin(tmp_path / "plugins", "answer")
    (tmp_path / "schedules.yaml").write_text("checks_dir: plugins\nchecks:\n  a: {type: answer, every: 1m}\n")
    assert load_config(tmp_path / "schedules.yaml", {}).checks["a"].type == "answer"


def test_a_duplicate_type_is_an_error_naming_both_files(tmp_path: Path) -> None:
    write_plugin(tmp_path, "http", cls="MyHttp")
    with pytest.raises(
        PluginError, match=r"check type 'http' is defined twice: .*checks/http.py and .*http.py"
    ):
        discover(tmp_path)


def test_a_duplicate_type_in_config_is_a_problem_at_checks_dir(tmp_path: Path) -> None:
    write_plugin(tmp_path / "checks", "http", cls="MyHttp", filename="mine.py")
    (tmp_path / "schedules.yaml").write_text("checks: {}\n")
    with pytest.raises(ConfigError, match="defined twice"):
        load_config(tmp_path / "schedules.yaml", {})


def test_a_plugin_that_fails_to_import_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import not_a_module_anywhere\n")
    with pytest.raises(PluginError, match=r"broken.py: failed to load: ModuleNotFoundError"):
        discover(tmp_path)


def test_user_plugins_load_under_a_private_module_name(tmp_path: Path) -> None:
    write_plugin(tmp_path, "answer")
    registry = discover(tmp_path)
    plugin = registry.get("answer")
    assert plugin is not None
    assert type(plugin).__module__.startswith("checkrunner._checks.")


def test_entry_point_group_checkrunner_checks_adds_a_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real installed-distribution layout: a module and a .dist-info folder on sys.path.
    write_plugin(tmp_path, "answer_ep", cls="AnswerEp", filename="answer_ep_pkg.py")
    info = tmp_path / "answer_ep-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: answer-ep\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[checkrunner.checks]\nanswer_ep = answer_ep_pkg:AnswerEp\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = discover(None)
    assert registry.get("answer_ep") is not None
    assert registry.origin("answer_ep") == "entry point answer_ep_pkg:AnswerEp"
