"""Discovery of check plugins.

Sources, in order: the ``checks/`` folder shipped with checkrunner, the entry-point group
``checkrunner.checks``, then the user's folder (``checks_dir:``, default ``checks/`` beside
schedules.yaml). Files are loaded by path under a private module name
(``checkrunner._checks.<source>.<stem>``), so a top-level ``checks`` package elsewhere never
collides. Two plugins with the same ``type`` are an error naming both origins.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from checkrunner.plugins.contract import CheckPlugin

ENTRY_POINT_GROUP = "checkrunner.checks"


def builtin_checks_dir() -> Path:
    """The shipped ``checks/`` folder: next to the package in a checkout, inside it when
    installed (the wheel maps ``checks/`` to ``checkrunner/_builtin_checks``)."""
    here = Path(__file__).resolve().parent.parent
    installed = here / "_builtin_checks"
    if installed.is_dir():
        return installed
    return here.parent / "checks"


class PluginError(Exception):
    """A plugin could not be loaded, or two plugins claim one type."""


@dataclass(frozen=True, slots=True)
class LoadedPlugin:
    plugin: CheckPlugin  # type: ignore[type-arg]
    origin: str


class Registry:
    def __init__(self) -> None:
        self._plugins: dict[str, LoadedPlugin] = {}

    def add(self, plugin: CheckPlugin, origin: str) -> None:  # type: ignore[type-arg]
        kind = plugin.type
        if kind in self._plugins:
            raise PluginError(
                f"check type {kind!r} is defined twice: {self._plugins[kind].origin} and {origin}"
            )
        self._plugins[kind] = LoadedPlugin(plugin, origin)

    def get(self, kind: str) -> CheckPlugin | None:  # type: ignore[type-arg]
        loaded = self._plugins.get(kind)
        return loaded.plugin if loaded else None

    def origin(self, kind: str) -> str:
        return self._plugins[kind].origin

    def types(self) -> list[str]:
        return sorted(self._plugins)

    def __iter__(self) -> Iterator[CheckPlugin]:  # type: ignore[type-arg]
        return (loaded.plugin for loaded in self._plugins.values())

    def __len__(self) -> int:
        return len(self._plugins)


def _plugins_in(module: ModuleType) -> list[type[CheckPlugin]]:  # type: ignore[type-arg]
    return [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, CheckPlugin)
        and obj.__module__ == module.__name__
        and not inspect.isabstract(obj)
    ]


#: Modules already executed, by (path, mtime): reloading a config must not re-import plugins.
_LOADED: dict[tuple[str, float], ModuleType] = {}


def _load_file(path: Path, source: str) -> ModuleType:
    key = (str(path.resolve()), path.stat().st_mtime)
    if key in _LOADED:
        return _LOADED[key]
    module = _exec_file(path, source)
    _LOADED[key] = module
    return module


def _exec_file(path: Path, source: str) -> ModuleType:
    name = f"checkrunner._checks.{source}.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise PluginError(f"{path}: failed to load: {type(exc).__name__}: {exc}") from exc
    return module


def _scan_folder(registry: Registry, folder: Path, source: str) -> None:
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module = _load_file(path, source)
        for cls in _plugins_in(module):
            registry.add(cls(), str(path))


def _entry_point_plugins() -> Iterable[tuple[CheckPlugin, str]]:  # type: ignore[type-arg]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:
            raise PluginError(f"entry point {ep.name} ({ep.value}): {exc}") from exc
        if inspect.isclass(obj) and issubclass(obj, CheckPlugin):
            yield obj(), f"entry point {ep.value}"
        elif isinstance(obj, ModuleType):
            for cls in _plugins_in(obj):
                yield cls(), f"entry point {ep.value}"
        else:
            raise PluginError(f"entry point {ep.name} ({ep.value}) is not a CheckPlugin")


def discover(user_dir: Path | None = None, *, entry_points_too: bool = True) -> Registry:
    """Build the registry: shipped checks, entry points, then ``user_dir`` if it exists."""
    registry = Registry()
    _scan_folder(registry, builtin_checks_dir(), "builtin")
    if entry_points_too:
        for plugin, origin in _entry_point_plugins():
            registry.add(plugin, origin)
    if user_dir is not None and user_dir.is_dir() and user_dir.resolve() != builtin_checks_dir().resolve():
        _scan_folder(registry, user_dir, f"user{abs(hash(str(user_dir.resolve())))}")
    return registry
