"""TFLite Micro as the golden model: run a .tflite and read every tensor it computed.

The tflite-micro wheel's interpreter is TFLM's C++ runtime with its reference kernels, the
arithmetic tinygen must reproduce bit for bit. kPreserveAllTensors keeps every intermediate
tensor readable after invoke() (otherwise the arena reuses their memory).
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass

import numpy as np
import tflite

# TFLM needs an arena size up front; generous, since the reference is only run on the host.
DEFAULT_ARENA_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ReferenceRun:
    outputs: tuple[np.ndarray, ...]
    tensors: dict[int, np.ndarray]  # every tensor index TFLM can report -> its contents


class TflmReference:
    def __init__(self, model_bytes: bytes, arena_bytes: int = DEFAULT_ARENA_BYTES, preserve_all: bool = True) -> None:
        from tflite_micro import runtime  # imported late: it loads a large native library

        config = runtime.InterpreterConfig.kPreserveAllTensors if preserve_all else runtime.InterpreterConfig.kAllocationRecording
        self._interpreter = runtime.Interpreter.from_bytes(
            model_bytes, arena_size=arena_bytes, intrepreter_config=config)
        # The binding cannot say how many inputs there are (probing prints errors): ask the file.
        subgraph = tflite.Model.GetRootAsModel(model_bytes, 0).Subgraphs(0)
        self._num_inputs = subgraph.InputsLength()
        self._num_outputs = subgraph.OutputsLength()
        # A model with state (variable tensors) runs its records as one sequence, as the firmware
        # does: reset before the first only. A stateless one is reset before each (it changes nothing).
        self._stateful = any(subgraph.Tensors(i).IsVariable() or subgraph.Tensors(i).Type() == tflite.TensorType.RESOURCE
                             for i in range(subgraph.TensorsLength()))
        self._started = False

    def input_details(self, index: int) -> dict:
        return self._interpreter.get_input_details(index)

    def run(self, inputs: list[np.ndarray], tensor_indices: list[int] | None = None) -> ReferenceRun:
        interp = self._interpreter
        if not (self._stateful and self._started):
            interp.reset()
        self._started = True
        for i, x in enumerate(inputs):
            interp.set_input(x, i)
        interp.invoke()
        outputs = tuple(np.array(interp.get_output(i)) for i in range(self._num_outputs))
        tensors: dict[int, np.ndarray] = {}
        for index in tensor_indices or []:
            tensors[index] = np.array(interp.GetTensor(index, 0)["tensor_data"])
        return ReferenceRun(outputs=outputs, tensors=tensors)


def tflm_arena_head_bytes(model_bytes: bytes) -> int:
    """TFLM's activation plan size (the arena 'head'), from print_allocations() on fd 2."""
    from tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(model_bytes, arena_size=DEFAULT_ARENA_BYTES)
    with tempfile.TemporaryFile() as capture:
        saved = os.dup(2)
        try:
            os.dup2(capture.fileno(), 2)
            interp.print_allocations()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        text = capture.read().decode("utf-8", "replace")
    match = re.search(r"head\D*(\d+)", text)
    if not match:
        raise RuntimeError(f"unexpected TFLM allocation report: {text[:200]!r}")
    return int(match.group(1))
