"""Where the project's non-Python resources live: templates/, runtime_c/, boards/.

They sit at the top of the checkout; tinygen/_data links to them, and a wheel carries copies there,
so one lookup serves an editable install (setup.sh) and `pip install tinygen-*.whl` alike. Resolved, so
a checkout compiles the runtime from its real path, as before.
"""

from __future__ import annotations

from pathlib import Path

# The checkout holding the package (site-packages in a wheel install): the benchmark's default models
# are looked for beside it, in ../shared.
ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(__file__).resolve().parent / "_data"
TEMPLATES_DIR = (DATA_DIR / "templates").resolve()
RUNTIME_DIR = (DATA_DIR / "runtime_c").resolve()
RUNTIME_INCLUDE_DIR = RUNTIME_DIR / "include"
KERNELS_DIR = RUNTIME_DIR / "kernels"
BOARDS_DIR = (DATA_DIR / "boards").resolve()
PLATFORMIO_DIR = (DATA_DIR / "platformio").resolve()  # the local dev-platform for the emulated boards
