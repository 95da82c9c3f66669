"""Exports of the model's C library alone, without a firmware: an Arduino library (library.properties,
src/, examples/<name>/<name>.ino) or a PlatformIO library (library.json, src/).

Both are the library folder of library.py; the Arduino export adds its manifest and an example
sketch that runs one inference and prints the result. Written all or nothing, like a project.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2

from tinygen import __version__
from tinygen.codegen.sources import GeneratedSources
from tinygen.project.firmware import MARKER, refuse_foreign, replace_directory, staging_directory
from tinygen.project.library import library_description, write_library
from tinygen.resources import TEMPLATES_DIR

# library.properties must name a URL; this is where tinygen itself is published.
PROJECT_URL = "https://pypi.org/project/tinygen/"


def _render(name: str, context: dict) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR / "arduino")),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    return env.get_template(name).render(context)


def _write_arduino_extras(root: Path, sources: GeneratedSources, sha256: str) -> None:
    context = {"model_name": sources.model_name, "model_symbol": sources.model_symbol, "version": __version__,
               "tinygen_version": __version__, "arena_bytes": sources.arena_bytes, "sha256": sha256,
               "description": library_description(sources), "url": PROJECT_URL}
    (root / "library.properties").write_text(_render("library.properties.j2", context), encoding="utf-8")
    example = root / "examples" / sources.model_name
    example.mkdir(parents=True)
    (example / f"{sources.model_name}.ino").write_text(_render("example.ino.j2", context), encoding="utf-8")


def export_library(out_dir: Path, sources: GeneratedSources, sha256: str, arduino: bool) -> Path:
    """arduino: library.properties and an example sketch beside library.json; else library.json only."""
    out_dir = Path(out_dir).resolve()
    refuse_foreign(out_dir)
    staging = staging_directory(out_dir, ".tmp")
    try:
        staging.chmod(0o755)
        write_library(staging, sources)
        if arduino:
            _write_arduino_extras(staging, sources, sha256)
        kind = "Arduino" if arduino else "PlatformIO"
        (staging / MARKER).write_text(f"tinygen {__version__} {kind} library\n", encoding="utf-8")
        replace_directory(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
