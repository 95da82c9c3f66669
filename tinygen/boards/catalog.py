"""Finding and loading board definitions: the built-in boards/*.toml, or a user's own file."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from tinygen.boards.schema import Board
from tinygen.errors import BoardError
from tinygen.resources import BOARDS_DIR

DEFAULT_BOARD = "mps2-an386"


def _is_path(name_or_path: str | Path) -> bool:
    text = str(name_or_path)
    return isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text


def _describe(error: ValidationError) -> str:
    # An unknown key usually is a misspelt one: name it first, before the "required" it causes.
    problems = sorted(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
    first = problems[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
    more = len(problems) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{where}: {message}{suffix}"


def board_from_file(path: Path) -> Board:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BoardError(f"board file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BoardError(f"cannot read board file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise BoardError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Board.model_validate(data)
    except ValidationError as exc:
        raise BoardError(f"{path}: {_describe(exc)}") from None


def builtin_board_names() -> list[str]:
    return sorted(p.stem for p in BOARDS_DIR.glob("*.toml"))


def load_board(name_or_path: str | Path) -> Board:
    """A built-in board by name ("mps2-an386"), or a board file by path ("my-board.toml")."""
    if _is_path(name_or_path):
        return board_from_file(Path(name_or_path))
    path = BOARDS_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        known = ", ".join(builtin_board_names()) or "none"
        raise BoardError(f"unknown board '{name_or_path}' (known: {known}; or give a path to a .toml board file)")
    board = board_from_file(path)
    if board.name != name_or_path:
        raise BoardError(f"{path}: declares name '{board.name}', but the file is named '{name_or_path}'")
    return board


def list_boards() -> list[Board]:
    return [load_board(name) for name in builtin_board_names()]
