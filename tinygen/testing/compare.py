"""Bit-exact comparison of a compiled model, run on the host, against TFLite Micro.

Every tensor an operator writes is compared, not only the outputs, with no tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinygen.inputs import random_records
from tinygen.build.host import build_host_binary, run_host_binary
from tinygen.passes.choose_kernels import KernelSet
from tinygen.compiler import CompiledModel, compile_bytes
from tinygen.reference.tflm import TflmReference
from tinygen.reference.compare import compare_tensors
from tinygen.schedule.patches import NO_PATCH, PatchRequest


@dataclass
class Comparison:
    compiled: CompiledModel
    tensors_compared: int = 0
    mismatches: list[str] = field(default_factory=list)
    max_abs_diff: float = 0.0

    @property
    def bit_exact(self) -> bool:
        return not self.mismatches and self.tensors_compared > 0


def random_inputs(compiled: CompiledModel, count: int, seed: int = 0) -> list[list[np.ndarray]]:
    return random_records(compiled.graph, count, seed)


def compare_on_host(model_bytes: bytes, work_dir: Path, records: list[list[np.ndarray]] | None = None,
                    count: int = 3, seed: int = 0, name: str = "model", *, sanitize: bool = False,
                    guard_bytes: int = 0, kernel_set: KernelSet = KernelSet.OPTIMISED,
                    patch: PatchRequest = NO_PATCH, compiled: CompiledModel | None = None) -> Comparison:
    """compiled: run this compilation of model_bytes (e.g. with a hand-made plan) instead of compiling."""
    if compiled is None:
        compiled = compile_bytes(model_bytes, name=name, guard_bytes=guard_bytes, kernel_set=kernel_set, patch=patch)
    records = records if records is not None else random_inputs(compiled, count, seed)
    binary = build_host_binary(compiled.sources, work_dir, compiled.input_bytes, compiled.output_bytes,
                               sanitize=sanitize)
    run = run_host_binary(binary, [[np.ascontiguousarray(x).tobytes() for x in r] for r in records])
    reference = TflmReference(model_bytes)
    result = Comparison(compiled)
    graph = compiled.graph
    for r, record in enumerate(records):
        traced = sorted(t for (rec, t) in run.traces if rec == r)
        ref = reference.run(record, traced)
        count, mismatches, max_diff = compare_tensors(compiled, r, {t: run.traces[(r, t)] for t in traced},
                                                      run.outputs[r], ref)
        result.tensors_compared += count
        result.mismatches += mismatches
        result.max_abs_diff = max(result.max_abs_diff, max_diff)
    return result
