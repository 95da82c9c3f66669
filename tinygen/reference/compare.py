"""One input's tensors against TFLite Micro's, bit for bit: the comparison `tinygen run --trace` (the
firmware's TRACE frames, tinygen/jobs.py) and the host harness (tinygen/testing/compare.py) share.
"""

from __future__ import annotations

import numpy as np

from tinygen.compiler import CompiledModel
from tinygen.reference.tflm import ReferenceRun
from tinygen.schedule.patches import computed_mask


def compare_tensors(compiled: CompiledModel, record_index: int, traced: dict[int, bytes], outputs: list[bytes],
                    ref: ReferenceRun) -> tuple[int, list[str], float]:
    """One input's traced tensors (index -> bytes after its op) and outputs against TFLM's, bit for
    bit: (tensors compared, one line per differing tensor, the largest |difference|). Shared by the
    host harness and the firmware's TRACE frames (jobs.run_on_board(trace=True)). Checked in the
    order of `traced`: the firmware's is its sending order, so there the first line is the earliest
    tensor that went wrong, not the one with the lowest index."""
    graph = compiled.graph
    checks = [(t, traced[t], ref.tensors[t]) for t in traced]
    checks += [(graph.outputs[i], outputs[i], ref.outputs[i]) for i in range(len(graph.outputs))]
    compared, mismatches, max_diff = 0, [], 0.0
    for tensor_index, ours_raw, theirs in checks:
        tensor = graph.tensor(tensor_index)
        ours = np.frombuffer(ours_raw, dtype=tensor.dtype.numpy).reshape(tensor.shape)
        theirs = np.asarray(theirs).astype(tensor.dtype.numpy, copy=False).reshape(tensor.shape)
        mask = computed_mask(compiled.patch, tensor_index) if compiled.patch else None
        if mask is not None:  # gathered from patches: compare what the patches computed
            ours, theirs = ours[mask], theirs[mask]
        compared += 1
        if ours.tobytes() != theirs.tobytes():
            diff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
            max_diff = max(max_diff, float(np.nanmax(diff)))
            mismatches.append(
                f"input {record_index}: tensor {tensor_index} '{tensor.name}' differs in {int((diff != 0).sum())} of "
                f"{diff.size} elements (max |diff| {float(np.nanmax(diff))})")
    return compared, mismatches, max_diff
