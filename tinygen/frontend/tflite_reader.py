"""Read a .tflite flatbuffer into an ir.Graph with the maintained `tflite` reader package.

Everything the model says is checked before anything downstream runs: the file identifier, the
single subgraph, static shapes, int8 activations, constant sizes. Each operator goes through its
parser (op_parsers.py) and its operand type check (type_checks.py); operators tinygen cannot compile
are collected and reported together in one error, each with its index and type.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from pathlib import Path

import flatbuffers
import numpy as np
import tflite

from tinygen.errors import InvalidModelError, ModelFormatError, TinygenError, UnsupportedModelError
from tinygen.ir.graph import NO_TENSOR, DType, Graph, Operator, Quantization, Tensor
from tinygen.frontend.op_parsers import PARSERS, fold_at_import
from tinygen.frontend.type_checks import check_operand_types, check_static_and_quantized, refuse_float_model
from tinygen.frontend.unsupported import Unsupported
from tinygen.passes.validate import validate_graph

_TFLITE_TYPES = {
    tflite.TensorType.INT8: DType.INT8,
    tflite.TensorType.UINT8: DType.UINT8,
    tflite.TensorType.INT16: DType.INT16,
    tflite.TensorType.INT32: DType.INT32,
    tflite.TensorType.INT64: DType.INT64,
    tflite.TensorType.FLOAT32: DType.FLOAT32,
    tflite.TensorType.BOOL: DType.BOOL,
    # A resource variable's handle: TFLM keeps an int32 id in it (the variable's bytes are elsewhere).
    tflite.TensorType.RESOURCE: DType.INT32,
}

# The flatbuffers runtime raises these on offsets that point outside the file.
_FLATBUFFER_ERRORS = (IndexError, struct.error, ValueError, TypeError, AttributeError,
                      UnicodeDecodeError, OverflowError, MemoryError, RecursionError)

MAX_TENSOR_ELEMENTS = 1 << 28
# The arena planner is quadratic in the number of buffers: 4096 operators take it a few seconds.
# Microcontroller models have a few hundred; a file with far more would keep the planner busy for
# minutes or hours.
MAX_OPERATORS = 4096


def read_tflite(path: Path | str) -> Graph:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    name = model_name_for(path)
    return parse_tflite(data, name=name, source=str(path))


def parse_tflite(data: bytes, name: str = "model", source: str = "<bytes>") -> Graph:
    if len(data) < 8 or not tflite.Model.ModelBufferHasIdentifier(data, 0):
        raise ModelFormatError(f"{source} is not a TFLite model (no 'TFL3' file identifier)")
    try:
        return _Importer(data, name, source).graph()
    except TinygenError:
        raise
    except _FLATBUFFER_ERRORS as exc:
        raise ModelFormatError(
            f"{source} is truncated or corrupt ({type(exc).__name__} while reading the flatbuffer)"
        ) from None


def model_name_for(path: Path) -> str:
    """A C identifier from the file name: 'kws_dscnn_int8.tflite' -> 'kws_dscnn_int8'."""
    ident = re.sub(r"[^0-9A-Za-z_]", "_", path.stem).strip("_") or "model"
    if ident[0].isdigit():
        ident = "m_" + ident
    return ident.lower()


class _Importer:
    def __init__(self, data: bytes, name: str, source: str) -> None:
        self.data = data
        self.name = name
        self.source = source
        self.model = tflite.Model.GetRootAsModel(data, 0)

    def graph(self) -> Graph:
        model = self.model
        if model.BuffersLength() and model.Buffers(0).DataLength():
            raise InvalidModelError(f"{self.source}: buffer 0 holds data; TFLite reserves it as the empty buffer")
        if model.SubgraphsLength() != 1:
            raise UnsupportedModelError(
                f"{self.source} has {model.SubgraphsLength()} subgraphs; tinygen compiles models with one"
            )
        sub = model.Subgraphs(0)
        if sub.OperatorsLength() > MAX_OPERATORS:
            raise UnsupportedModelError(
                f"{self.source} has {sub.OperatorsLength()} operators; tinygen compiles at most {MAX_OPERATORS}")
        # A list: operators folded at import replace their outputs with constants.
        tensors = [self._tensor(sub, i) for i in range(sub.TensorsLength())]
        inputs = self._indices(sub.InputsAsNumpy(), len(tensors), "graph input")
        outputs = self._indices(sub.OutputsAsNumpy(), len(tensors), "graph output")
        if not inputs or not outputs:
            raise InvalidModelError(f"{self.source} has no inputs or no outputs")
        refuse_float_model(tensors, self.source)

        operators: list[Operator] = []
        problems: list[str] = []
        for i in range(sub.OperatorsLength()):
            op = sub.Operators(i)
            op_name = self._op_name(op)
            op_inputs = self._indices(op.InputsAsNumpy(), len(tensors), f"operator {i} input", allow_absent=True)
            op_outputs = self._indices(op.OutputsAsNumpy(), len(tensors), f"operator {i} output")
            try:
                parser = PARSERS.get(op_name)
                if parser is None:
                    raise Unsupported(op_name)
                attrs = parser(op, op_inputs, tensors)
                if fold_at_import(attrs, op_inputs, op_outputs, tensors):
                    continue
                check_operand_types(attrs, op_inputs, op_outputs, tensors)
            except Unsupported as why:
                detail = str(why)
                problems.append(f"#{i} {op_name}" + (f" ({detail})" if detail != op_name else ""))
                continue
            except InvalidModelError as why:
                raise InvalidModelError(f"operator #{i} {op_name}: {why}") from None
            operators.append(Operator(index=i, attrs=attrs, inputs=op_inputs, outputs=op_outputs))

        if problems:
            raise UnsupportedModelError(
                f"{self.source}: {len(problems)} unsupported operator(s): " + ", ".join(problems)
            )
        check_static_and_quantized(tensors, inputs, outputs, operators, self.source)
        return validate_graph(Graph(
            name=self.name,
            sha256=hashlib.sha256(self.data).hexdigest(),
            tensors=tuple(tensors),
            operators=tuple(operators),
            inputs=inputs,
            outputs=outputs,
        ))

    def _indices(self, array, count: int, what: str, allow_absent: bool = False) -> tuple[int, ...]:
        if isinstance(array, int):  # the tflite package returns 0 for an absent vector
            return ()
        result = tuple(int(v) for v in array)
        for v in result:
            if v == NO_TENSOR and allow_absent:
                continue
            if not 0 <= v < count:
                raise InvalidModelError(f"{what} refers to tensor {v}, but the model has {count} tensors")
        return result

    def _op_name(self, op) -> str:
        index = op.OpcodeIndex()
        if not 0 <= index < self.model.OperatorCodesLength():
            raise InvalidModelError(f"an operator uses opcode {index}, which the model does not define")
        code = self.model.OperatorCodes(index)
        builtin = max(_raw_builtin_code(code), code.DeprecatedBuiltinCode())
        if builtin == tflite.BuiltinOperator.CUSTOM:
            custom = code.CustomCode()
            return f"CUSTOM:{custom.decode('utf-8', 'replace') if custom else '?'}"
        return tflite.utils.BUILTIN_OPCODE2NAME.get(builtin, f"BUILTIN_{builtin}")

    def _tensor(self, sub, index: int) -> Tensor:
        t = sub.Tensors(index)
        name = (t.Name() or b"").decode("utf-8", "replace") or f"tensor_{index}"
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if not t.ShapeIsNone() else ()
        signature = tuple(int(d) for d in t.ShapeSignatureAsNumpy()) if not t.ShapeSignatureIsNone() else shape
        # A -1 batch dimension in the signature is the converter's default; the stored shape fixes it.
        dynamic = any(d < 0 for d in shape) or len(signature) != len(shape) or any(
            d < 0 and (axis > 0 or shape[axis] != 1) for axis, d in enumerate(signature))
        if dynamic:
            raise UnsupportedModelError(
                f"tensor {index} '{name}' has a dynamic shape {list(signature)}; tinygen needs static shapes"
            )
        if any(d > MAX_TENSOR_ELEMENTS for d in shape) or math.prod(shape) > MAX_TENSOR_ELEMENTS:
            raise InvalidModelError(f"tensor {index} '{name}' has an impossible shape {list(shape)}")
        if t.Sparsity() is not None:
            # Its buffer holds a compressed encoding, not the dense values of its shape.
            raise UnsupportedModelError(f"tensor {index} '{name}' is sparse; tinygen compiles dense tensors")
        dtype = _TFLITE_TYPES.get(t.Type())
        if dtype is None:
            raise UnsupportedModelError(f"tensor {index} '{name}' has TFLite type {t.Type()}, which tinygen does not support")
        quant = self._quantization(t, index, name, shape)
        if t.IsVariable():
            # State kept between invocations (tinygen/plan/state.py); TFLM resets it to the zero
            # point (int8) or 0 and never reads the buffer, so neither does tinygen.
            return Tensor(index=index, name=name, shape=shape, dtype=dtype, quant=quant, variable=True)
        data = self._constant(t, index, name, shape, dtype)
        return Tensor(index=index, name=name, shape=shape, dtype=dtype, quant=quant, data=data)

    def _quantization(self, t, index: int, name: str, shape: tuple[int, ...]) -> Quantization | None:
        q = t.Quantization()
        if q is None or q.ScaleIsNone() or q.ScaleLength() == 0:
            return None
        scales = tuple(float(s) for s in q.ScaleAsNumpy())
        # No zero points at all is not "all zero": TFLM reads past the missing vector.
        zero_points = tuple(int(z) for z in q.ZeroPointAsNumpy()) if not q.ZeroPointIsNone() else ()
        axis = int(q.QuantizedDimension())
        if len(zero_points) != len(scales):
            raise InvalidModelError(
                f"tensor {index} '{name}' has {len(scales)} scales but {len(zero_points)} zero points"
            )
        for s in scales:
            if not math.isfinite(s) or s <= 0:
                raise InvalidModelError(f"tensor {index} '{name}' has an invalid quantization scale {s}")
        # TFLM checks quantized_dimension only where a kernel reads it (a filter's channels; see
        # validate._check_filter_channels): a bias may name any, e.g. its filter's channel axis 3.
        return Quantization(scales=scales, zero_points=zero_points, axis=axis)

    def _constant(self, t, index: int, name: str, shape: tuple[int, ...], dtype: DType) -> np.ndarray | None:
        buffer_index = t.Buffer()
        # Buffer 0 is the empty one every model must have; TFLM crashes on a model without it.
        if not 0 <= buffer_index < self.model.BuffersLength():
            raise InvalidModelError(f"tensor {index} '{name}' refers to buffer {buffer_index}, which does not exist")
        if buffer_index == 0:
            return None
        buf = self.model.Buffers(buffer_index)
        if buf.Offset() > 1:
            # Models over 2 GB keep buffers after the flatbuffer (Buffer.offset). TFLite Micro never
            # reads them there (checked: it computes with other weights), so no result could match it.
            raise UnsupportedModelError(
                f"tensor {index} '{name}' keeps its data outside the flatbuffer (buffer offset {buf.Offset()}), "
                "which TFLite Micro does not read")
        if buf.DataLength() == 0:
            return None
        raw = buf.DataAsNumpy()
        expected = math.prod(shape) * dtype.itemsize
        if raw.size != expected:
            raise InvalidModelError(
                f"tensor {index} '{name}' holds {raw.size} bytes, but its shape {list(shape)} of {dtype.value} needs {expected}"
            )
        array = np.frombuffer(raw.tobytes(), dtype=dtype.numpy.newbyteorder("<")).astype(dtype.numpy).reshape(shape)
        array.setflags(write=False)
        return array


def _raw_builtin_code(code) -> int:
    """The builtin_code field as stored. The tflite package's BuiltinCode() answers the deprecated
    field instead whenever builtin_code < 127, but TFLM takes max(builtin_code, deprecated): a model
    whose two fields disagree would otherwise be compiled as another operator than TFLM runs."""
    table = code._tab  # the generated reader's table: field 3 (vtable offset 10) is builtin_code
    offset = table.Offset(10)
    return table.Get(flatbuffers.number_types.Int32Flags, offset + table.Pos) if offset else 0
