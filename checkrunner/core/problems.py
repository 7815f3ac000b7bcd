"""Problems found in a configuration, rendered as ``FILE:LINE:COL: key.path: message``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int  # 1-based; 0 when unknown
    col: int  # 1-based; 0 when unknown
    path: str  # "checklists.morning.steps.2", "(yaml)", or "" for the file as a whole
    message: str
    severity: Severity = "error"

    def render(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}" if self.line else f"{self.file}:1:1"
        prefix = "warning: " if self.severity == "warning" else ""
        key = self.path or "(file)"
        return f"{where}: {key}: {prefix}{self.message}"
