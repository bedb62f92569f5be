"""The arrows of ARCHITECTURE.md, and no other distribution shadowing our packages."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("crawler", "pipeline", "extractors", "storage", "alerts")


def test_import_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a dev dependency: pip install -e '.[dev]'"
    done = subprocess.run([exe, str(ROOT / "pyproject.toml")], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout and "KEPT" in done.stdout


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_from_this_project(package, tmp_path):
    """`python -I` from a neutral folder must find our package, not a same-named one from PyPI."""
    code = f"import {package}, pathlib; print(pathlib.Path({package}.__file__).resolve())"
    done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(ROOT), f"{package} resolves to {done.stdout.strip()}"


def test_package_code_type_checks_strictly():
    """mypy --strict (pyproject [tool.mypy]) over the five packages."""
    exe = shutil.which("mypy", path=str(Path(sys.executable).parent))
    assert exe, "mypy is a dev dependency: pip install -e '.[dev]'"
    done = subprocess.run([exe], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]
