"""Where the project's non-Python resources live: templates/, runtime_c/, boards/.

tinygen is installed editable from its checkout (setup.sh), so these sit beside the package.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = ROOT / "templates"
RUNTIME_DIR = ROOT / "runtime_c"
RUNTIME_INCLUDE_DIR = RUNTIME_DIR / "include"
KERNELS_DIR = RUNTIME_DIR / "kernels"
BOARDS_DIR = ROOT / "boards"
