"""The bits of a guard failure's invoke() status, read from runtime_c's tg_model.h.

The C header is their one definition: the guard check in the generated firmware packs them, codegen
checks a model fits them, and tinygen/device/status.py unpacks a status a board returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tinygen.resources import RUNTIME_INCLUDE_DIR

_DEFINE = re.compile(r"^#define\s+(TG_ERR_GUARD\w*|TG_GUARD_SCRATCH)\s+(0x[0-9A-Fa-f]+|\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class GuardCodes:
    guard: int          # TG_ERR_GUARD: the status is a guard failure
    below: int          # TG_ERR_GUARD_BELOW: the guard before the buffer changed
    op_shift: int       # TG_ERR_GUARD_OP_SHIFT
    op_max: int         # TG_ERR_GUARD_OP_MAX: the largest operator index a status can name
    tensor_mask: int    # TG_ERR_GUARD_TENSOR_MASK
    scratch: int        # TG_GUARD_SCRATCH: the tensor field of an operator's scratch buffer


def _read_codes() -> GuardCodes:
    defines = {name: int(value, 0)
               for name, value in _DEFINE.findall((RUNTIME_INCLUDE_DIR / "tinygen" / "tg_model.h").read_text())}
    return GuardCodes(defines["TG_ERR_GUARD"], defines["TG_ERR_GUARD_BELOW"], defines["TG_ERR_GUARD_OP_SHIFT"],
                      defines["TG_ERR_GUARD_OP_MAX"], defines["TG_ERR_GUARD_TENSOR_MASK"],
                      defines["TG_GUARD_SCRATCH"])


GUARD_CODES = _read_codes()
