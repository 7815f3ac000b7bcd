"""Reading schedules.yaml into plain Python data plus the position of every key and value.

PyYAML's composer gives nodes with marks; we build the data ourselves so that every key path
(``("checklists", "morning", "steps", 2)``) maps to the line and column of its key and of its
value. Duplicate keys, non-string keys and alias bombs are reported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from checkrunner.core.problems import Problem

Path = tuple[str | int, ...]
#: Upper bound on nodes built (aliases re-expand): a "billion laughs" file stops here.
MAX_NODES = 200_000


@dataclass
class Source:
    file: str
    data: Any
    #: Position (1-based line, col) of the key of each mapping entry.
    key_pos: dict[Path, tuple[int, int]] = field(default_factory=dict)
    #: Position of each value node.
    value_pos: dict[Path, tuple[int, int]] = field(default_factory=dict)
    #: Block style of scalar values ('>' folded, '|' literal), to explain unquoted thresholds.
    styles: dict[Path, str] = field(default_factory=dict)

    def where(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Line/col for a path: the value (or key) itself, else its nearest known ancestor."""
        probe = tuple(path)
        while True:
            table = (self.key_pos, self.value_pos) if key else (self.value_pos, self.key_pos)
            for positions in table:
                if probe in positions:
                    return positions[probe]
            if not probe:
                return (1, 1)
            probe = probe[:-1]

    def problem(self, path: Path, message: str, *, key: bool = False, warning: bool = False) -> Problem:
        line, col = self.where(path, key=key)
        return Problem(self.file, line, col, format_path(path), message, "warning" if warning else "error")


def format_path(path: Path) -> str:
    return ".".join(str(part) for part in path)


class _Builder:
    def __init__(self, source: Source, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        self.constructor = yaml.SafeLoader("")
        self.count = 0

    def mark(self, node: yaml.Node) -> tuple[int, int]:
        return (node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig
        self.source.value_pos.setdefault(path, self.mark(node))
        if isinstance(node, yaml.ScalarNode):
            if node.style in (">", "|"):
                self.source.styles[path] = node.style
            return self.constructor.construct_object(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, index)) for index, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        raise AssertionError(f"unexpected YAML node {node!r}")

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for src in sources:
                    if isinstance(src, yaml.MappingNode):
                        for k, v in self.mapping(src, path).items():
                            merged.setdefault(k, v)
                    else:
                        self.problems.append(self.source.problem(path, "'<<' merges only mappings"))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                line, col = self.mark(key_node)
                self.problems.append(
                    Problem(self.source.file, line, col, format_path(path), "keys must be plain strings")
                )
                continue
            key = self.constructor.construct_object(key_node)
            if not isinstance(key, str):
                # YAML 1.1 reads `on:`/`yes:` as booleans and `1:` as ints; keep them as text
                # (exit_codes: {1: warning} relies on the original spelling).
                key = key_node.value
            child = (*path, key)
            if key in result:
                line, col = self.mark(key_node)
                first = self.source.key_pos.get(child, (0, 0))[0]
                self.problems.append(
                    Problem(
                        self.source.file,
                        line,
                        col,
                        format_path(child),
                        f"duplicate key (first defined on line {first})",
                    )
                )
                continue
            self.source.key_pos[child] = self.mark(key_node)
            result[key] = self.build(value_node, child)
        for key, value in merged.items():
            result.setdefault(key, value)
        return result


class _TooBig(Exception):
    pass


def _yaml_problem(file: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None) or ""
    message = " ".join(f"{context} {problem}".split())
    if "block scalar" in context:
        context_mark = getattr(exc, "context_mark", None)
        if context_mark is not None:
            line, col = context_mark.line + 1, context_mark.column + 1
        message = (
            'quote threshold expressions: an unquoted > or | starts a YAML block scalar (write warn: "> 500")'
        )
    elif "found character '>'" in message or "found character '|'" in message:
        message += ' (quote threshold expressions: warn: "> 500")'
    elif "found character '\\t'" in message:
        message += " (YAML does not allow tabs for indentation)"
    return Problem(file, line, col, "(yaml)", message)


def parse_yaml(text: str, file: str) -> tuple[Source, list[Problem]]:
    """Parse ``text``; problems carry YAML syntax errors (key path ``(yaml)``) and duplicates."""
    source = Source(file, None)
    problems: list[Problem] = []
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        return source, [_yaml_problem(file, exc)]
    except (ValueError, RecursionError) as exc:  # e.g. NUL bytes, absurd nesting
        return source, [Problem(file, 1, 1, "(yaml)", f"cannot parse: {type(exc).__name__}: {exc}")]
    if node is None:
        source.data = {}
        return source, problems
    builder = _Builder(source, problems)
    try:
        source.data = builder.build(node, ())
    except _TooBig:
        return source, [Problem(file, 1, 1, "(yaml)", f"document expands to more than {MAX_NODES} nodes")]
    except yaml.YAMLError as exc:
        return source, [_yaml_problem(file, exc)]
    except (ValueError, RecursionError, TypeError) as exc:
        return source, [Problem(file, 1, 1, "(yaml)", f"cannot parse: {type(exc).__name__}: {exc}")]
    return source, problems
