"""A wheel of tinygen carries everything it needs besides Python: templates, runtime C, boards.

setup.sh installs editable from the checkout; a user may instead `pip install` a built wheel, where
nothing beside the package exists. The wheel must hold every file of templates/, runtime_c/ and
boards/ under tinygen/_data, where tinygen.resources looks.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tinygen import resources

ROOT = Path(__file__).resolve().parents[1]


def test_resources_resolve_to_the_checkout():
    assert resources.TEMPLATES_DIR == ROOT / "templates"
    assert resources.RUNTIME_DIR == ROOT / "runtime_c"
    assert resources.BOARDS_DIR == ROOT / "boards"


@pytest.mark.slow
def test_wheel_carries_templates_runtime_and_boards(tmp_path):
    # Built from a copy: setuptools' build/lib in the checkout may hold files since deleted.
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for top in ("tinygen", "templates", "runtime_c", "boards", "platformio"):
        shutil.copytree(ROOT / top, source / top, symlinks=True, ignore=ignore)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=600)
    (wheel,) = tmp_path.glob("tinygen-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "tinygen/cli.py" in names
    assert not [n for n in names if n.startswith("tinygen/testing/")], "the test helpers ship in the wheel"
    packaged = {n for n in names if n.startswith("tinygen/_data/")}
    expected = {
        f"tinygen/_data/{p.relative_to(ROOT).as_posix()}"
        for top in ("templates", "runtime_c", "boards", "platformio")
        for p in (ROOT / top).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert len(expected) > 50
    assert packaged == expected


def test_the_package_does_not_import_the_test_helpers():
    """tinygen/testing is left out of the wheel (pyproject.toml): no module users get may import it."""
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in (ROOT / "tinygen").rglob("*.py")
                 if "testing" not in p.relative_to(ROOT / "tinygen").parts[:1]
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if "tinygen.testing" in line and ("import" in line)]
    assert offenders == []
