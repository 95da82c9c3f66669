"""The properties every fuzzed model is held to.

`run_case`: compiling any bytes ends in a compiled model or a TinygenError, within a time limit,
without a warning (the CLI would print it as a second stderr line) and without a MemoryError.
`compare_with_tflm`: where tinygen compiles a model and TFLM accepts it, both compute the same bytes.
"""

from __future__ import annotations

import signal
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinygen.errors import TinygenError
from tinygen.ir import ops
from tinygen.ir.graph import DType, Graph


class CaseTimeout(BaseException):
    """A case ran past its wall-clock limit (a BaseException, so no `except Exception` swallows it)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expire(signum, frame):
        raise CaseTimeout(f"no result within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class Outcome:
    status: str   # "compiled", "rejected" (a TinygenError), or "crash"
    detail: str   # the error kind, or the traceback of a crash

    @property
    def ok(self) -> bool:
        return self.status != "crash"


def run_case(data: bytes, compile_fn: Callable[[bytes], Any], seconds: float = 10.0) -> Outcome:
    """Compile the bytes: a compiled model or a TinygenError is fine, anything else is a crash.

    A MemoryError is a crash even when wrapped in a TinygenError: the compiler must refuse absurd
    sizes before allocating them. So is a warning (numpy's overflow warnings, say): the CLI would
    print it as a second line on stderr.
    """
    try:
        with time_limit(seconds), warnings.catch_warnings():
            warnings.simplefilter("error")
            compile_fn(data)
    except TinygenError as exc:
        if "MemoryError" in str(exc):
            return Outcome("crash", f"{type(exc).__name__}: {exc}")
        return Outcome("rejected", f"{type(exc).__name__}: {exc.one_line()}")
    except (Exception, CaseTimeout):
        return Outcome("crash", traceback.format_exc())
    return Outcome("compiled", "")


# --- the optional second property: where tinygen compiles and TFLM accepts, the two agree -------

# tinygen.inputs draws float32 inputs in [-3, 3].
FLOAT_INPUT_BOUND = 3.0


def tflm_undefined(graph: Graph) -> str | None:
    """Why TFLM's result on random inputs is undefined behaviour, so no comparison means anything.

    QUANTIZE float32 -> int8: TFLM converts x / scale to int32 in C++, undefined beyond int32 (x86
    gives INT32_MIN, Arm saturates; tinygen saturates, see tg_quantize_f32_s8.c).
    """
    for op in graph.operators:
        if not isinstance(op.attrs, ops.Quantize):
            continue
        src, dst = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
        if src.dtype is not DType.FLOAT32 or dst.quant is None:
            continue
        bound = float(np.max(np.abs(src.data))) if src.data is not None else FLOAT_INPUT_BOUND
        if bound / dst.quant.scale >= 2.0**31:
            return f"operator #{op.index} QUANTIZE: |x| up to {bound} / scale {dst.quant.scale} leaves int32"
    return None


def _tflm_child(data: bytes, work_dir: str, conn) -> None:
    from tinygen.frontend.tflite_reader import parse_tflite
    from tinygen.reference.tflm import TflmReference
    from tinygen.testing.compare import compare_on_host

    why = tflm_undefined(parse_tflite(data))
    if why is not None:
        conn.send(("tflm-undefined", why))
        return
    try:
        TflmReference(data)
    except Exception as exc:
        conn.send(("tflm-refused", str(exc)[:200]))
        return
    try:
        result = compare_on_host(data, Path(work_dir), count=2)
    except Exception:
        conn.send(("error", traceback.format_exc()))
        return
    conn.send(("mismatch", "; ".join(result.mismatches[:3])) if result.mismatches else ("bit-exact", ""))


def compare_with_tflm(data: bytes, work_dir: Path, seconds: float = 120.0) -> tuple[str, str]:
    """("bit-exact" | "mismatch" | "tflm-refused" | "tflm-crashed" | "tflm-undefined" | "error", detail).

    In a forked child: TFLM's interpreter itself crashes (SIGSEGV) on some damaged models.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_tflm_child, args=(data, str(work_dir), child))
    proc.start()
    child.close()
    try:
        if parent.poll(seconds):
            return parent.recv()
        return ("error", f"no answer within {seconds} s")
    except EOFError:
        proc.join()
        return ("tflm-crashed", f"exit code {proc.exitcode}")
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
