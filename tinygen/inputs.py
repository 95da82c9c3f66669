"""Input tensors for a run: loaded from the user's .npy/.npz, or random, checked against the model."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from tinygen.errors import InputError
from tinygen.ir.graph import Graph, Tensor

Record = list[np.ndarray]  # one array per model input, in the model's input order


def random_records(graph: Graph, count: int, seed: int = 0) -> list[Record]:
    """Uniform over the whole int8 range; floats in [-3, 3] for float32 inputs."""
    rng = np.random.default_rng(seed)
    records = []
    for _ in range(count):
        record = []
        for t in graph.input_tensors():
            if t.dtype.numpy.kind == "f":
                record.append(rng.uniform(-3, 3, size=t.shape).astype(np.float32))
            else:
                info = np.iinfo(t.dtype.numpy)
                record.append(rng.integers(info.min, info.max, size=t.shape, endpoint=True).astype(t.dtype.numpy))
        records.append(record)
    return records


def load_records(path: Path, graph: Graph) -> list[Record]:
    """A .npy holds one input tensor or a stack of them; a .npz holds one array per model input
    (named by the input tensor's name, or arr_0, arr_1, ... in input order)."""
    inputs = graph.input_tensors()
    try:
        loaded = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except ValueError as exc:
        # numpy takes a file with neither header for a pickle, and its reason is advice about those
        if "pickle" in str(exc):
            raise InputError(f"{path} is not a .npy or .npz file of arrays") from None
        raise InputError(f"{path} is not a readable .npy/.npz file ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path} is not a readable .npy/.npz file ({exc})") from None
    if isinstance(loaded, np.ndarray):
        if len(inputs) != 1:
            raise InputError(f"the model has {len(inputs)} inputs; give them in an .npz file, one array each")
        stacks = [_as_stack(loaded, inputs[0], path)]
    else:
        with loaded:
            names = list(loaded.files)
            arrays = []
            for i, t in enumerate(inputs):
                key = t.name if t.name in names else f"arr_{i}"
                if key not in names:
                    raise InputError(f"{path} has no array for input {i} '{t.name}' (found {names})")
                arrays.append(_as_stack(loaded[key], t, path))
            stacks = arrays
    counts = {len(s) for s in stacks}
    if len(counts) != 1:
        raise InputError(f"{path}: the inputs hold different numbers of samples {sorted(counts)}")
    return [[stack[k] for stack in stacks] for k in range(counts.pop())]


def _as_stack(array: np.ndarray, tensor: Tensor, path: Path) -> list[np.ndarray]:
    if array.dtype != tensor.dtype.numpy:
        raise InputError(
            f"{path}: input '{tensor.name}' must be {tensor.dtype.value}, got {array.dtype} "
            "(quantize it with the input's scale and zero point first)"
        )
    shape = tuple(tensor.shape)
    if array.shape == shape:
        return [array]
    if array.shape[1:] == shape:
        return [np.ascontiguousarray(a) for a in array]
    if array.size and array.size % max(1, tensor.num_elements) == 0 and array.shape[-len(shape):] == shape[1:] and shape[0] == 1:
        return [np.ascontiguousarray(a).reshape(shape) for a in array.reshape((-1, *shape[1:]))]
    raise InputError(f"{path}: input '{tensor.name}' has shape {list(array.shape)}; the model takes {list(shape)} "
                     f"(or a stack [N, {', '.join(map(str, shape))}])")
