"""Test vectors for `tinygen hil`: an .npz with one array per model input (first axis: vectors), or
a folder with one file per vector (.npy for a one-input model, .npz with one array per input)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from tinygen.errors import InputError
from tinygen.inputs import Record, _as_stack
from tinygen.ir.graph import Graph

VECTOR_SUFFIXES = (".npy", ".npz")


def _load(path: Path):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        reason = "not a .npy/.npz file of arrays" if "pickle" in str(exc) else str(exc)
        raise InputError(f"{path}: cannot read test vectors ({reason})") from None


def _arrays_by_input(path: Path, graph: Graph) -> list[np.ndarray]:
    """One array per model input from an .npz: keyed by the input's name, `x` (one input), or arr_<i>."""
    inputs = graph.input_tensors()
    loaded = _load(path)
    if isinstance(loaded, np.ndarray):
        if len(inputs) != 1:
            raise InputError(f"{path}: the model has {len(inputs)} inputs; give an .npz with one array per input")
        return [loaded]
    with loaded:
        names = list(loaded.files)
        arrays = []
        for i, tensor in enumerate(inputs):
            keys = [tensor.name, f"arr_{i}"] + (["x"] if len(inputs) == 1 else [])
            key = next((k for k in keys if k in names), None)
            if key is None:
                raise InputError(f"{path} has no array for input {i} '{tensor.name}' (found {names})")
            arrays.append(loaded[key])
        return arrays


def load_vectors(path: Path, graph: Graph) -> list[Record]:
    """Every vector as one array per model input, checked against the model's shapes and dtypes."""
    path = Path(path)
    inputs = graph.input_tensors()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in VECTOR_SUFFIXES and p.is_file())
        if not files:
            raise InputError(f"{path} holds no .npy or .npz test vectors")
        records = []
        for file in files:
            stacks = [_as_stack(a, t, file) for a, t in zip(_arrays_by_input(file, graph), inputs)]
            if any(len(s) != 1 for s in stacks):
                raise InputError(f"{file}: a file in a vector folder holds one vector, not a stack")
            records.append([s[0] for s in stacks])
        return records
    if not path.is_file():
        raise InputError(f"{path}: no such file or folder of test vectors")
    stacks = [_as_stack(a, t, path) for a, t in zip(_arrays_by_input(path, graph), inputs)]
    counts = {len(s) for s in stacks}
    if len(counts) != 1:
        raise InputError(f"{path}: the inputs hold different numbers of vectors {sorted(counts)}")
    count = counts.pop()
    if count == 0:
        raise InputError(f"{path} holds no vectors")
    return [[stack[k] for stack in stacks] for k in range(count)]
