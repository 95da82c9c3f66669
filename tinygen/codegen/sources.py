"""The generated C library of one model, as files in memory, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GeneratedSources:
    model_name: str            # C identifier prefix of every exported symbol
    files: tuple[tuple[str, str], ...]  # (relative path, text): "<name>.h", "<name>.c"
    arena_bytes: int

    @property
    def model_symbol(self) -> str:
        """The exported `const tg_model_t` describing the model (runtime_c/include/tinygen/tg_model.h)."""
        return f"{self.model_name}_model"

    @property
    def header_name(self) -> str:
        return f"{self.model_name}.h"
