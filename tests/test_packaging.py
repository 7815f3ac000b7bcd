"""`pip install .` ships the built-in checks, templates and migrations inside the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contains_builtin_checks_templates_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("checkrunner-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for check in (REPO / "checks").glob("*.py"):
        assert f"checkrunner/_builtin_checks/{check.name}" in names
    for template in (REPO / "templates").glob("*.j2"):
        assert f"checkrunner/_templates/{template.name}" in names
    assert "checkrunner/store/migrations/env.py" in names
    assert any(n.startswith("checkrunner/store/migrations/versions/0001") for n in names)
    assert not any(n.startswith(("checks/", "templates/", "demo/", "tests/")) for n in names)
