"""`tinygen quantize`: a float Keras model or SavedModel to a full-integer .tflite, checked by TFLite Micro.

TensorFlow's converter does the quantization (batch 1; int8 activations, or int16 activations with
int8 weights, TFLite's 16x8 mode), calibrated on the user's samples. The result is then run once by
TFLite Micro (our golden reference): a model TFLM cannot run is an error and is not written. Whether
tinygen itself compiles it is reported in one line, the unsupported operators named.

TensorFlow is imported only here, and only when a conversion starts: it takes seconds to import.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinygen.errors import InputError, TinygenError

Progress = Callable[[int, int], None]  # (samples calibrated so far, total)

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


class QuantizeError(TinygenError):
    """The model or the calibration data cannot be converted, or TFLite Micro refuses the result."""

    kind = "quantize"


@dataclass(frozen=True)
class InputSpec:
    """One model input as the float model declares it, batch dimension left out."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype


@dataclass(frozen=True)
class QuantizeResult:
    path: Path
    model_bytes: int
    samples: int
    activations: str  # "int8" or "int16"
    operators: tuple[str, ...]  # the converted model's operator types, in order
    tinygen_problem: str | None  # None: tinygen compiles it; else its one-line reason


# --- calibration data -------------------------------------------------------------------------

Sample = list[np.ndarray]  # one float array per model input, batch 1 included


def load_calibration(path: Path, inputs: Sequence[InputSpec]) -> list[Sample]:
    """A .npy stacks samples of the one input ([N, *shape], or one sample [*shape]); an .npz holds
    one such array per input, keyed by the input's name or arr_0, arr_1, ... in input order."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"calibration data {path}: no such file")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile):
        raise InputError(f"calibration data {path} is not a readable .npy or .npz file of arrays") from None
    if isinstance(loaded, np.ndarray):
        if len(inputs) != 1:
            raise InputError(f"the model has {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); "
                             f"give the calibration data as an .npz with one array per input")
        stacks = [_stack(loaded, inputs[0], path)]
    else:
        with loaded:
            names = list(loaded.files)
            stacks = []
            for k, spec in enumerate(inputs):
                key = spec.name if spec.name in names else f"arr_{k}"
                if key not in names and len(inputs) == 1 and len(names) == 1:
                    key = names[0]
                if key not in names:
                    raise InputError(f"calibration data {path} has no array for input {k} '{spec.name}' "
                                     f"(it holds {names})")
                stacks.append(_stack(loaded[key], spec, path))
    counts = sorted({len(s) for s in stacks})
    if len(counts) != 1:
        raise InputError(f"calibration data {path}: the inputs hold different numbers of samples {counts}")
    if counts[0] == 0:
        raise InputError(f"calibration data {path} holds no samples")
    return [[s[n] for s in stacks] for n in range(counts[0])]


def _stack(array: np.ndarray, spec: InputSpec, path: Path) -> np.ndarray:
    """[N, 1, *shape] of the input's dtype from [N, *shape], [N, 1, *shape] or one [*shape]."""
    if array.dtype.kind not in "fiub":
        raise InputError(f"calibration data {path}: input '{spec.name}' holds {array.dtype} values, not numbers")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise InputError(f"calibration data {path}: input '{spec.name}' holds NaN or infinity")
    shape = spec.shape
    if array.shape == shape:
        array = array[np.newaxis]
    elif array.ndim == len(shape) + 2 and array.shape[1] == 1 and array.shape[2:] == shape:
        array = array[:, 0]
    elif array.shape[1:] != shape:
        raise InputError(f"calibration data {path}: input '{spec.name}' has shape {list(array.shape)}; "
                         f"the model takes [N, {', '.join(map(str, shape))}] (N samples)")
    return np.ascontiguousarray(array.astype(spec.dtype, copy=False)[:, np.newaxis])


# --- the float model ------------------------------------------------------------------------


@dataclass(frozen=True)
class FloatModel:
    """A float model re-exported as a SavedModel whose serving signature takes batch 1."""

    inputs: tuple[InputSpec, ...]
    saved_model_dir: Path


def _specs(named: Sequence[tuple[str, Sequence[int | None], object]], where: str) -> tuple[InputSpec, ...]:
    specs = []
    for k, (name, shape, dtype) in enumerate(named):
        dims = tuple(shape[1:])
        if not shape or any(d is None for d in dims):
            raise QuantizeError(f"{where}: input {k} '{name}' has shape {list(shape)}; only the batch "
                                "dimension may be unknown")
        specs.append(InputSpec(name, tuple(int(d) for d in dims), np.dtype(dtype)))
    return tuple(specs)


def export_keras(model, directory: Path, where: str = "the model") -> FloatModel:
    """A Keras model (in memory) exported for inference (training=False) with batch-1 inputs.

    Keras 3 models and tf_keras (Keras 2) ones: only the latter's LSTM converts to TFLite's fused
    UNIDIRECTIONAL_SEQUENCE_LSTM (Keras 3's becomes a WHILE loop, which TFLM does not run)."""
    import tensorflow as tf

    inputs = _specs([(_input_name(t, k), tuple(t.shape), getattr(t.dtype, "as_numpy_dtype", t.dtype))
                     for k, t in enumerate(model.inputs)], where)
    signature = [tf.TensorSpec((1, *s.shape), s.dtype, name=s.name) for s in inputs]
    if type(model).__module__.startswith("tf_keras"):
        serve = tf.function(lambda *xs: model(list(xs) if len(xs) > 1 else xs[0], training=False),
                            input_signature=signature)
        tf.saved_model.save(model, str(directory), signatures={"serving_default": serve})
        return FloatModel(inputs, directory)
    import keras

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", lambda *xs: model(list(xs) if len(xs) > 1 else xs[0], training=False),
                         signature)
    archive.write_out(str(directory), verbose=False)
    return FloatModel(inputs, directory)


def _input_name(tensor, k: int) -> str:
    name = getattr(tensor, "name", None) or f"input_{k}"
    return name.split(":")[0]


def export_saved_model(source: Path, directory: Path) -> FloatModel:
    """A SavedModel's serving signature re-exported with batch-1 inputs (in the signature's name order)."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(source))
    signature = getattr(loaded, "signatures", {}).get("serving_default")
    if signature is None:
        raise QuantizeError(f"{source}: the SavedModel has no 'serving_default' signature")
    _, named = signature.structured_input_signature
    inputs = _specs([(name, tuple(named[name].shape.as_list() if named[name].shape.rank is not None else ()),
                      named[name].dtype.as_numpy_dtype) for name in sorted(named)], str(source))
    names = [s.name for s in inputs]
    module = tf.Module()
    module.loaded = loaded  # tracked: its variables are saved with the new signature

    def call(*args):
        return signature(**dict(zip(names, args)))

    module.serve = tf.function(call, input_signature=[tf.TensorSpec((1, *s.shape), s.dtype, name=s.name)
                                                      for s in inputs])
    tf.saved_model.save(module, str(directory), signatures={"serving_default": module.serve})
    return FloatModel(inputs, directory)


def load_float_model(path: Path, directory: Path) -> FloatModel:
    """The Keras file or SavedModel at path, re-exported into directory."""
    path = Path(path)
    if not path.exists():
        raise QuantizeError(f"{path}: no such file or directory")
    if path.is_dir():
        if not (path / "saved_model.pb").is_file():
            raise QuantizeError(f"{path} is a directory but not a SavedModel (no saved_model.pb)")
        with _quiet_tensorflow():
            try:
                return export_saved_model(path, directory)
            except QuantizeError:
                raise
            except Exception as exc:  # TensorFlow's loaders raise many kinds
                raise QuantizeError(f"{path}: cannot load the SavedModel: {_first_line(exc)}") from None
    if path.suffix.lower() == ".tflite":
        raise QuantizeError(f"{path} is already a .tflite; quantize the Keras model or SavedModel it was made from")
    if path.suffix.lower() not in KERAS_SUFFIXES:
        raise QuantizeError(f"{path}: give a Keras model ({', '.join(KERAS_SUFFIXES)}) or a SavedModel directory")
    if path.suffix.lower() == ".keras" and not zipfile.is_zipfile(path):
        raise QuantizeError(f"{path} is not a Keras model (a .keras file is a zip archive)")
    with _quiet_tensorflow():
        import keras

        try:
            model = keras.saving.load_model(path, compile=False)
        except Exception as exc:
            raise QuantizeError(f"{path} is not a Keras model tinygen can load: {_first_line(exc)}") from None
        try:
            return export_keras(model, directory, str(path))
        except QuantizeError:
            raise
        except Exception as exc:
            raise QuantizeError(f"{path}: cannot export the model with batch 1: {_first_line(exc)}") from None


# --- conversion ------------------------------------------------------------------------------


def convert(model: FloatModel, samples: Sequence[Sample], int16_activations: bool = False,
            progress: Progress | None = None) -> bytes:
    """Full-integer conversion: int8 (or int16) input, output and activations, calibrated on samples."""
    if not samples:
        raise QuantizeError("no calibration samples")
    with _quiet_tensorflow():
        import tensorflow as tf

        converter = tf.lite.TFLiteConverter.from_saved_model(str(model.saved_model_dir),
                                                             signature_keys=["serving_default"])
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if int16_activations:
            converter.target_spec.supported_ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
            converter.inference_input_type = converter.inference_output_type = tf.int16
        else:
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = converter.inference_output_type = tf.int8
        names = [s.name for s in model.inputs]

        def representative() -> Iterator[dict[str, np.ndarray]]:
            for n, sample in enumerate(samples):
                yield dict(zip(names, sample))
                if progress is not None:
                    progress(n + 1, len(samples))

        converter.representative_dataset = representative
        try:
            return bytes(converter.convert())
        except Exception as exc:
            raise QuantizeError(f"TensorFlow's converter failed: {_first_line(exc)}") from None


def quantize_keras(model, samples: Sequence[Sample], int16_activations: bool = False,
                   progress: Progress | None = None) -> bytes:
    """An in-memory Keras model to a full-integer .tflite (the conformance models are made this way)."""
    with tempfile.TemporaryDirectory(prefix="tinygen-quantize-") as tmp:
        with _quiet_tensorflow():
            float_model = export_keras(model, Path(tmp) / "saved_model")
        return convert(float_model, samples, int16_activations, progress)


# --- checks of the result ---------------------------------------------------------------------


def tflm_refusal(model_bytes: bytes, sample: Sample | None = None) -> str | None:
    """None when TFLite Micro prepares the model (and, given a float sample, invokes it on that
    sample, quantized); else the first line TFLM reported."""
    from tinygen.reference.tflm import TflmReference

    with _captured_stderr() as captured:
        try:
            reference = TflmReference(model_bytes)
            if sample is not None:
                reference.run([_quantized(x, reference.input_details(k)) for k, x in enumerate(sample)])
            return None
        except (RuntimeError, ValueError) as exc:
            failure = str(exc)
        text = captured.text()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else " ".join(failure.split()) or "refused"


def _quantized(x: np.ndarray, details: dict) -> np.ndarray:
    dtype = np.dtype(details["dtype"])
    if dtype.kind == "f":
        return x.astype(dtype)
    params = details.get("quantization_parameters") or {}
    scale = np.asarray(params.get("scales", [1.0]), dtype=np.float64).ravel()
    zero = np.asarray(params.get("zero_points", [0]), dtype=np.float64).ravel()
    scale, zero = (scale[0] if scale.size else 1.0), (zero[0] if zero.size else 0.0)
    info = np.iinfo(dtype)
    q = np.round(x.astype(np.float64) / scale) + zero
    return np.clip(q, info.min, info.max).astype(dtype).reshape(details["shape"])


def tinygen_problem(model_bytes: bytes, name: str = "model", source: str = "<bytes>") -> str | None:
    """None when tinygen compiles the model; else its one-line reason (the unsupported operators)."""
    from tinygen.frontend.tflite_reader import parse_tflite
    from tinygen.compiler import compile_graph

    try:
        compile_graph(parse_tflite(model_bytes, name=name, source=source))
    except TinygenError as exc:
        return exc.one_line()
    return None


def operator_types(model_bytes: bytes) -> tuple[str, ...]:
    import tflite

    model = tflite.Model.GetRootAsModel(model_bytes, 0)
    codes = {getattr(tflite.BuiltinOperator, n): n for n in dir(tflite.BuiltinOperator) if not n.startswith("_")}
    graph = model.Subgraphs(0)
    types = []
    for i in range(graph.OperatorsLength()):
        code = model.OperatorCodes(graph.Operators(i).OpcodeIndex())
        number = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        types.append(codes.get(number, f"BUILTIN_{number}"))
    return tuple(types)


# --- the whole command ------------------------------------------------------------------------


def quantize_file(model_path: Path, calib_path: Path, out_path: Path, int16_activations: bool = False,
                  progress: Progress | None = None) -> QuantizeResult:
    """Convert, check with TFLM, and only then write out_path (through a temporary file beside it)."""
    from tinygen.frontend.tflite_reader import model_name_for

    import importlib.util

    model_path, calib_path, out_path = Path(model_path), Path(calib_path), Path(out_path)
    if importlib.util.find_spec("tensorflow") is None:
        raise QuantizeError("tinygen quantize needs TensorFlow: pip install 'tinygen[examples]'")
    if not calib_path.is_file():  # before TensorFlow's seconds of import
        raise InputError(f"calibration data {calib_path}: no such file")
    if not out_path.parent.resolve().is_dir():
        raise QuantizeError(f"cannot write {out_path}: no directory {out_path.parent}")
    with tempfile.TemporaryDirectory(prefix="tinygen-quantize-") as tmp:
        model = load_float_model(model_path, Path(tmp) / "saved_model")
        samples = load_calibration(calib_path, model.inputs)
        data = convert(model, samples, int16_activations, progress)
    refusal = tflm_refusal(data, samples[0])
    if refusal is not None:
        raise QuantizeError(f"TFLite Micro cannot run the converted model: {refusal} (nothing written)")
    _write_atomically(out_path, data)
    return QuantizeResult(path=out_path, model_bytes=len(data), samples=len(samples),
                          activations="int16" if int16_activations else "int8", operators=operator_types(data),
                          tinygen_problem=tinygen_problem(data, model_name_for(out_path), str(out_path)))


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                         delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)
    except OSError as exc:
        if "tmp" in locals():
            Path(tmp.name).unlink(missing_ok=True)
        raise QuantizeError(f"cannot write {path}: {exc.strerror or exc}") from None


# --- TensorFlow's noise -----------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    """The line of a TensorFlow exception that says what went wrong (they run to pages)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for line in lines:
        if "error:" in line.lower():
            return line[line.lower().index("error:") + len("error:"):].strip() or line
    return lines[0] if lines else type(exc).__name__


class _Captured:
    def __init__(self, file) -> None:
        self._file = file

    def text(self) -> str:
        self._file.seek(0)
        return self._file.read().decode("utf-8", "replace")


@contextmanager
def _captured_stderr():
    """C-level stderr (fd 2) into a temporary file: TFLM and TensorFlow's native code write there."""
    import sys

    sys.stderr.flush()
    with tempfile.TemporaryFile() as capture:
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            yield _Captured(capture)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


@contextmanager
def _quiet_tensorflow():
    """TensorFlow's and the converter's log lines are not for the user: keep them off stderr."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    with _captured_stderr():
        yield
