"""Render typed values (kernels/cvalues.py) as C initializers and literals.

Only formatting lives here: which constants exist and what they are called is decided in emit.py,
and where they go in the file is decided by the templates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np

from tinygen.kernels.cvalues import ConstArray, CStruct, CValue

VALUES_PER_LINE = 24


def c_int(value: int) -> str:
    value = int(value)
    if value == -(2**31):
        return "(-2147483647 - 1)"  # -2147483648 is unary minus on an out-of-range literal
    if value == -(2**63):
        return "(-9223372036854775807LL - 1)"
    if not -(2**31) <= value < 2**31:
        return f"{value}LL"
    return str(value)


def c_float(value: float) -> str:
    value = float(np.float32(value))
    if not math.isfinite(value):
        raise ValueError(f"non-finite float constant {value}")
    text = f"{value:.9g}"  # 9 significant digits round-trip every float32 exactly
    if "e" not in text and "." not in text:
        text += ".0"
    return text + "f"


def c_string(text: str) -> str:
    # Model text is untrusted: '?' is escaped too, so no "??=" trigraph can form.
    escaped = re.sub(r"[^\x20-\x7e]", "?", text).replace("\\", "\\\\").replace('"', '\\"').replace("?", "\\?")
    return '"' + escaped + '"'


def c_comment(text: str) -> str:
    """Model text made safe inside /* */: printable ASCII, no comment delimiters, no trigraphs."""
    text = re.sub(r"[^\x20-\x7e]", ".", text)
    return text.replace("*/", "* /").replace("/*", "/ *").replace("??", "?.")


def c_identifier(text: str) -> str:
    ident = re.sub(r"[^0-9A-Za-z_]", "_", text)
    return ident if ident and not ident[0].isdigit() else "_" + ident


def array_body(values: np.ndarray, c_type: str) -> str:
    """The brace-less body of an array initializer, wrapped at VALUES_PER_LINE values."""
    flat = np.asarray(values).ravel()
    fmt: Callable[[object], str] = c_float if c_type == "float" else c_int
    if c_type == "float":
        items = [fmt(v) for v in flat.tolist()]
    elif flat.dtype.itemsize <= 2:
        items = [str(v) for v in flat.tolist()]  # int8/int16 never need the INT_MIN spelling
    else:
        items = [fmt(v) for v in flat.tolist()]
    lines = (", ".join(items[i:i + VALUES_PER_LINE]) for i in range(0, len(items), VALUES_PER_LINE))
    return ",\n    ".join(lines)


def struct_initializer(value: CStruct, array_name: Callable[[ConstArray], str]) -> str:
    """A designated initializer; ConstArray fields become the name of their emitted array."""
    parts = [f".{name} = {scalar_or_nested(v, array_name)}" for name, v in value.fields()]
    return "{ " + ", ".join(parts) + " }"


def scalar_or_nested(value: CValue, array_name: Callable[[ConstArray], str]) -> str:
    if isinstance(value, CStruct):
        return struct_initializer(value, array_name)
    if isinstance(value, ConstArray):
        return array_name(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return c_int(int(value))
    if isinstance(value, (float, np.floating)):
        return c_float(float(value))
    if isinstance(value, tuple):  # a fixed-size array field (e.g. one entry per LSTM gate)
        return "{ " + ", ".join(scalar_or_nested(v, array_name) for v in value) + " }"
    raise TypeError(f"cannot render {type(value).__name__} inside a struct")
