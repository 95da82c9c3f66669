"""Structure-aware mutations of .tflite models, for fuzzing the importer and the whole compile path.

A seed model is unpacked with the schema object API of the tflite-micro wheel, edited in place by
a few mutations (shapes, quantization, buffers, tensor indices, options, operator order, graph
inputs and outputs...), packed again and sometimes damaged byte by byte. Every random choice goes
through a Chooser, so the same mutations run under hypothesis (the test suite: reproducible,
shrinking to a small case) and under atheris (scripts/fuzz_importer.py: coverage-guided, for hours).

Seed models are in fuzz_seeds.py; the property every mutant must satisfy, in fuzz_check.py.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

T = TypeVar("T")

# --- where the random choices come from --------------------------------------------------------


class Chooser(Protocol):
    def integer(self, low: int, high: int) -> int: ...
    def pick(self, options: Sequence[T]) -> T: ...


INTERESTING_INTS = (0, 1, -1, 2, 3, 4, 7, 8, 16, 127, 128, -128, -129, 255, 256, 1000, 2**15 - 1, 2**15, 2**16,
                    2**24, 2**28 + 1, 2**31 - 1, -(2**31), 2**32 - 1, 2**62, 2**63 - 1, -(2**63))
INTERESTING_FLOATS = (0.0, -0.0, 1.0, -1.0, math.nan, -math.nan, math.inf, -math.inf,
                      1e-45, 1e-40, 1.1754944e-38, 1e-30, 1e-12, 1e-9, 1e-6, 1 / 256, 1 / 65536, 0.5, 2.0,
                      255.0, 1e6, 1e10, 1e30, 3.4028235e38)


# Powers of two near where float32 scale arithmetic overflows, underflows or leaves int32.
EDGE_EXPONENTS = (-126, -125, -124, -100, -64, -40, -32, -28, -24, 24, 28, 32, 36, 40, 64, 100, 120, 126, 127)


def interesting_int(ch: Chooser, current: int | None = None) -> int:
    near = [] if current is None else [current + 1, current - 1, current * 2, -current]
    kind = ch.integer(0, 2)
    if kind == 0 and near:
        return ch.pick(near)
    if kind == 1:
        return ch.integer(-300, 300)
    return ch.pick(INTERESTING_INTS)


def interesting_dim(ch: Chooser, current: int) -> int:
    return ch.pick((0, 1, -1, current + 1, current - 1, current * 3, 65536, 2**28 + 1, 2**31 - 1))


def interesting_float(ch: Chooser) -> float:
    kind = ch.integer(0, 3)
    if kind == 0:
        return ch.integer(-1000, 1000) / ch.pick((1, 7, 256, 1e4, 1e8))
    if kind == 1:
        # Any float32 magnitude, subnormal to the largest: where float32 scale arithmetic overflows.
        return math.ldexp(ch.pick((1.0, 1.5, 0.75, -1.0)), ch.integer(-149, 127))
    return ch.pick(INTERESTING_FLOATS)


class HypothesisChooser:
    """Choices drawn from hypothesis, so failing cases shrink to small ones."""

    def __init__(self, data) -> None:  # data: hypothesis.strategies.DataObject
        from hypothesis import strategies as st

        self._st = st
        self._data = data

    def integer(self, low: int, high: int) -> int:
        return self._data.draw(self._st.integers(low, high))

    def pick(self, options: Sequence[T]) -> T:
        return self._data.draw(self._st.sampled_from(list(options)))


# --- the flatbuffer field types, so a new value is one the builder can store ------------------

def _field_kinds() -> dict[tuple[str, str], str]:
    """(Table, field) -> flatbuffers number type, read from the generated `<Table>Add<Field>` helpers."""
    source = Path(schema.__file__).read_text()
    pattern = re.compile(r"def (\w+?)Add\w+\(builder, (\w+)\):\s*\n\s*builder\.Prepend(\w+)Slot")
    return {(table, field): kind for table, field, kind in pattern.findall(source)}


_FIELD_KINDS = _field_kinds()
_BITS = {"Bool": (8, False), "Int8": (8, True), "Uint8": (8, False), "Int16": (16, True), "Uint16": (16, False),
         "Int32": (32, True), "Uint32": (32, False), "Int64": (64, True), "Uint64": (64, False)}


def wrap(value: int, bits: int, signed: bool) -> int:
    """Two's-complement wrap, as storing the value in a field of that width would."""
    value &= (1 << bits) - 1
    if signed and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def fit_field(obj: Any, attr: str, value: Any) -> Any:
    kind = _FIELD_KINDS.get((type(obj).__name__.removesuffix("T"), attr))
    if kind == "Bool":
        return bool(value)
    if kind in _BITS and isinstance(value, int):
        return wrap(value, *_BITS[kind])
    if kind == "Float32" and isinstance(value, float) and math.isfinite(value) and abs(value) > 3.4028235e38:
        return math.copysign(math.inf, value)
    return value


def set_array_item(array: np.ndarray, index: int, value: float | int) -> None:
    if array.dtype.kind in "iu":
        if isinstance(value, float):
            value = int(value) if math.isfinite(value) else 0
        array[index] = wrap(value, array.dtype.itemsize * 8, array.dtype.kind == "i")
    else:
        array[index] = value


def int_list(values) -> list[int]:
    """A vector field as ints; an earlier mutation may have made it float (NaN and inf read as 0)."""
    if values is None:
        return []
    return [int(v) if math.isfinite(v) else 0 for v in (float(x) for x in np.asarray(values).ravel())]


def int32s(values) -> np.ndarray:
    return np.array([wrap(v, 32, True) for v in int_list(values)], dtype=np.int32)


# --- packing ----------------------------------------------------------------------------------

def unpack(data: bytes) -> schema.ModelT:
    return schema.ModelT.InitFromPackedBuf(data, 0)


def pack(model: schema.ModelT) -> bytes:
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


# --- structural mutations: each edits a ModelT in place and says what it did --------------------

Mutation = Callable[[schema.ModelT, Chooser], str]


def _sub(model: schema.ModelT) -> schema.SubGraphT | None:
    return model.subgraphs[0] if model.subgraphs else None


def _tensors(model: schema.ModelT) -> list:
    sub = _sub(model)
    return sub.tensors if sub is not None and sub.tensors else []


def _ops(model: schema.ModelT) -> list:
    sub = _sub(model)
    return sub.operators if sub is not None and sub.operators else []


def _tensor_index(model: schema.ModelT, ch: Chooser) -> int:
    """A valid tensor index most of the time, an invalid one sometimes."""
    count = len(_tensors(model))
    if count and ch.integer(0, 4):
        return ch.integer(0, count - 1)
    return ch.pick((-1, -2, count, count + 1, 2**31 - 1, -(2**31)))


def _indices(values, count: int) -> list[int]:
    """The entries of an index vector that name one of `count` tensors."""
    return [i for i in int_list(values) if 0 <= i < count]


def _pick_tensor(model: schema.ModelT, ch: Chooser) -> int | None:
    """A tensor to damage: often a graph input (what the first kernels read), else any."""
    tensors = _tensors(model)
    if not tensors:
        return None
    sub = _sub(model)
    inputs = _indices(sub.inputs, len(tensors))
    if inputs and ch.integer(0, 3) == 0:
        return ch.pick(inputs)
    return ch.integer(0, len(tensors) - 1)


def mutate_shape(model, ch) -> str:
    tensors = _tensors(model)
    i = _pick_tensor(model, ch)
    if i is None:
        return "noop"
    t = tensors[i]
    shape = [int(d) for d in (t.shape if t.shape is not None else [])]
    action = ch.integer(0, 5)
    if action == 0 and shape:
        axis = ch.integer(0, len(shape) - 1)
        shape[axis] = interesting_dim(ch, shape[axis]) if ch.integer(0, 1) else interesting_int(ch, shape[axis])
    elif action == 1 and shape:
        del shape[ch.integer(0, len(shape) - 1)]
    elif action == 2:
        shape.insert(ch.integer(0, len(shape)), ch.pick((1, 2, 0, -1, 7)))
    elif action == 3:
        t.shape = None
        return f"tensor {i} shape None"
    elif action == 4:
        shape = []
    else:
        other = tensors[ch.integer(0, len(tensors) - 1)]
        shape = [int(d) for d in (other.shape if other.shape is not None else [])]
    t.shape = int32s(shape)
    return f"tensor {i} shape {shape}"


def mutate_dtype(model, ch) -> str:
    tensors = _tensors(model)
    i = _pick_tensor(model, ch)
    if i is None:
        return "noop"
    tensors[i].type = ch.pick((0, 2, 3, 4, 6, 7, 9, 10, 16, 17)) if ch.integer(0, 3) else ch.integer(-128, 127)
    return f"tensor {i} type {tensors[i].type}"


def mutate_quantization(model, ch) -> str:
    i = _pick_tensor(model, ch)
    if i is None:
        return "noop"
    t = _tensors(model)[i]
    q = t.quantization
    if q is None or ch.integer(0, 9) == 0:
        if q is not None:
            t.quantization = None
            return f"tensor {i} quantization removed"
        q = t.quantization = schema.QuantizationParametersT()
        q.scale, q.zeroPoint = np.array([0.1], np.float32), np.array([0], np.int64)
        return f"tensor {i} quantization added"
    scale = np.array(q.scale if q.scale is not None else [], dtype=np.float32)
    zero = np.array(q.zeroPoint if q.zeroPoint is not None else [], dtype=np.int64)
    action = ch.pick((0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7))  # new values most often
    if action == 0 and scale.size:
        set_array_item(scale, ch.integer(0, scale.size - 1), interesting_float(ch))
    elif action == 1 and zero.size:
        set_array_item(zero, ch.integer(0, zero.size - 1), interesting_int(ch, int(zero[0])))
    elif action == 2:
        scale, zero = np.append(scale, np.float32(0.5)), np.append(zero, 0)
    elif action == 3 and scale.size:
        scale = scale[:-1]
    elif action == 4:
        zero = zero[:-1] if ch.integer(0, 1) and zero.size else np.append(zero, ch.pick((0, 1, -128)))
    elif action == 5:
        q.quantizedDimension = fit_field(q, "quantizedDimension", interesting_int(ch, q.quantizedDimension))
        return f"tensor {i} quantized dimension {q.quantizedDimension}"
    elif action == 6:
        count = ch.pick((2, 3, 4, 8, 16))
        scale, zero = np.full(count, scale[0] if scale.size else 0.1, np.float32), np.zeros(count, np.int64)
    else:
        q.scale = None if ch.integer(0, 1) else q.scale
        q.zeroPoint = None if q.scale is not None else q.zeroPoint
        return f"tensor {i} scale or zero point vector removed"
    q.scale, q.zeroPoint = scale, zero
    return f"tensor {i} scales {scale.tolist()} zero points {zero.tolist()}"


def mutate_numbers(model, ch) -> str:
    """A scale, zero point or float option of one operator's own operands set to an extreme value.

    Taken from one operator's inputs and outputs (the first's, most often), so the value reaches
    that operator's arithmetic instead of being refused by whichever operator computes it earlier.
    """
    ops = _ops(model)
    tensors = _tensors(model)
    if not ops or not tensors:
        return "noop"
    k = 0 if ch.integer(0, 1) else ch.integer(0, len(ops) - 1)
    op = ops[k]
    operands = [i for i in (*_indices(op.inputs, len(tensors)), *_indices(op.outputs, len(tensors)))
                if tensors[i].quantization is not None]
    if op.builtinOptions is not None and ch.integer(0, 5) == 0:
        floats = [name for name, v in vars(op.builtinOptions).items() if isinstance(v, float)]
        if floats:
            name = ch.pick(floats)
            setattr(op.builtinOptions, name, interesting_float(ch))
            return f"operator {k} option {name} = {getattr(op.builtinOptions, name)}"
    if not operands:
        return "noop"
    i = ch.pick(operands)
    q = tensors[i].quantization
    if q.scale is None or not len(q.scale) or ch.integer(0, 3) == 0:
        q.zeroPoint = np.array([interesting_int(ch)] * (len(q.scale) if q.scale is not None else 1), np.int64)
        return f"operator {k} operand {i} zero points {q.zeroPoint.tolist()}"
    if ch.integer(0, 1):
        # Normal float32 scales (what validation lets through), the ends of the range most often.
        exponent = ch.pick(EDGE_EXPONENTS) if ch.integer(0, 1) else ch.integer(-126, 127)
        value = math.ldexp(ch.pick((1.0, 1.5, 0.75)), exponent)
    else:
        value = interesting_float(ch)
    q.scale = np.full(len(q.scale), value, np.float32)
    return f"operator {k} operand {i} scales {q.scale.tolist()[:2]}"


def mutate_buffer_ref(model, ch) -> str:
    tensors = _tensors(model)
    if not tensors:
        return "noop"
    i = ch.integer(0, len(tensors) - 1)
    count = len(model.buffers or [])
    choice = ch.pick((0, count, count + 3, 2**32 - 1, -1))
    if count and ch.integer(0, 1):
        choice = ch.integer(0, count - 1)
    tensors[i].buffer = fit_field(tensors[i], "buffer", choice)
    return f"tensor {i} buffer {tensors[i].buffer}"


def mutate_buffer_data(model, ch) -> str:
    buffers = model.buffers or []
    if not buffers:
        return "noop"
    i = ch.integer(0, len(buffers) - 1)
    buf = buffers[i]
    data = np.asarray(buf.data if buf.data is not None else [], dtype=np.uint8)
    action = ch.integer(0, 5)
    if action == 0:
        buf.data = data[: max(0, data.size - ch.pick((1, 2, 3, 4, data.size)))]
    elif action == 1:
        buf.data = np.concatenate([data, np.full(ch.pick((1, 3, 4, 64)), 7, np.uint8)])
    elif action == 2:
        buf.data = None if ch.integer(0, 1) else np.zeros(0, np.uint8)
    elif action == 3:
        buf.offset = fit_field(buf, "offset", ch.pick((0, 1, 2, 8, 100, 2**31, 2**63 - 1, 2**64 - 1)))
        buf.size = fit_field(buf, "size", ch.pick((0, 1, 4, data.size, 2**31, 2**64 - 1)))
        return f"buffer {i} offset {buf.offset} size {buf.size}"
    elif action == 4 and data.size >= 4:
        # The same bytes read as float32 (after a type change, say): NaN, infinities, huge values.
        value = interesting_float(ch)
        words = np.full(data.size // 4, value, np.float32).view(np.uint8)
        buf.data = np.concatenate([words, data[words.size:]])
        return f"buffer {i} filled with float32 {value}"
    elif data.size:
        data = data.copy()
        data[ch.integer(0, data.size - 1)] = ch.integer(0, 255)
        buf.data = data
    return f"buffer {i} data of {0 if buf.data is None else len(buf.data)} bytes"


def mutate_op_tensors(model, ch) -> str:
    ops = _ops(model)
    if not ops:
        return "noop"
    i = ch.integer(0, len(ops) - 1)
    op = ops[i]
    side = ch.pick(("inputs", "outputs"))
    values = int_list(getattr(op, side))
    action = ch.integer(0, 4)
    if action == 0 and values:
        values[ch.integer(0, len(values) - 1)] = _tensor_index(model, ch)
    elif action == 1:
        values.append(_tensor_index(model, ch))
    elif action == 2 and values:
        del values[ch.integer(0, len(values) - 1)]
    elif action == 3:
        values = []
    elif values:
        values.append(values[ch.integer(0, len(values) - 1)])
    setattr(op, side, int32s(values))
    return f"operator {i} {side} {values}"


def mutate_wiring(model, ch) -> str:
    """Graph-level damage: a tensor written twice, an operator reading what a later one writes,
    an operator writing a graph input or a constant, or reading its own output."""
    ops = _ops(model)
    sub = _sub(model)
    if not ops or sub is None:
        return "noop"
    i, j = ch.integer(0, len(ops) - 1), ch.integer(0, len(ops) - 1)
    a, b = ops[i], ops[j]
    a_out = int_list(a.outputs) or [0]
    b_out = int_list(b.outputs) or [0]
    a_in, graph_in = int_list(a.inputs), int_list(sub.inputs)
    action = ch.integer(0, 4)
    if action == 0:
        a.outputs = int32s([b_out[0]] + a_out[1:])
        return f"operator {i} writes operator {j}'s output {b_out[0]}"
    if action == 1 and a_in:
        a.inputs = int32s([b_out[0]] + a_in[1:])
        return f"operator {i} reads operator {j}'s output {b_out[0]}"
    if action == 2 and graph_in:
        a.outputs = int32s([graph_in[0]] + a_out[1:])
        return f"operator {i} writes graph input {graph_in[0]}"
    if action == 3:
        constants = [k for k, t in enumerate(_tensors(model)) if t.buffer]
        if constants:
            k = ch.pick(constants)
            a.outputs = int32s([k] + a_out[1:])
            return f"operator {i} writes constant tensor {k}"
    if a_in:
        a.inputs = int32s([a_out[0]] + a_in[1:])
        return f"operator {i} reads its own output {a_out[0]}"
    return "noop"


def mutate_op_order(model, ch) -> str:
    sub = _sub(model)
    ops = _ops(model)
    if sub is None or not ops:
        return "noop"
    i, j = ch.integer(0, len(ops) - 1), ch.integer(0, len(ops) - 1)
    action = ch.integer(0, 3)
    if action == 0:
        ops[i], ops[j] = ops[j], ops[i]
        return f"operators {i} and {j} swapped"
    if action == 1:
        del ops[i]
        return f"operator {i} deleted"
    if action == 2:
        ops.insert(j, copy.deepcopy(ops[i]))
        return f"operator {i} duplicated at {j}"
    ops.reverse()
    return "operators reversed"


def mutate_opcode(model, ch) -> str:
    ops, codes = _ops(model), model.operatorCodes or []
    action = ch.integer(0, 3)
    if action == 0 and ops:
        i = ch.integer(0, len(ops) - 1)
        ops[i].opcodeIndex = fit_field(ops[i], "opcodeIndex", ch.pick((len(codes), len(codes) + 1, 2**32 - 1, 0, 1, 2)))
        return f"operator {i} opcode index {ops[i].opcodeIndex}"
    if not codes:
        return "noop"
    k = ch.integer(0, len(codes) - 1)
    code = codes[k]
    if action == 1:
        code.builtinCode = fit_field(code, "builtinCode", ch.integer(0, 210) if ch.integer(0, 3) else interesting_int(ch))
        code.deprecatedBuiltinCode = fit_field(code, "deprecatedBuiltinCode", min(code.builtinCode, 127))
    elif action == 2:
        code.deprecatedBuiltinCode = fit_field(code, "deprecatedBuiltinCode", ch.pick((0, 32, 127, -1, 126)))
    else:
        code.builtinCode, code.deprecatedBuiltinCode = 32, 32  # CUSTOM
        code.customCode = ch.pick((b"", b"TFLite_Detection_PostProcess", b"\xff\xfe", None))
    return f"opcode {k} builtin {code.builtinCode} deprecated {code.deprecatedBuiltinCode}"


def mutate_options(model, ch) -> str:
    ops = _ops(model)
    if not ops:
        return "noop"
    i = ch.integer(0, len(ops) - 1)
    op = ops[i]
    action = ch.integer(0, 4)
    if action == 0:
        op.builtinOptions = None
        return f"operator {i} options removed"
    if action == 1:
        op.builtinOptionsType = ch.pick((0, 1, 5, 8, 10, 11, 17, 200, 255))
        return f"operator {i} options type {op.builtinOptionsType}"
    if action == 2:
        other = ops[ch.integer(0, len(ops) - 1)]
        op.builtinOptions = copy.deepcopy(other.builtinOptions)
        return f"operator {i} options of another operator"
    opts = op.builtinOptions
    fields = [k for k, v in vars(opts).items() if isinstance(v, (int, float))] if opts is not None else []
    if not fields:
        return "noop"
    name = ch.pick(fields)
    old = getattr(opts, name)
    new = interesting_float(ch) if isinstance(old, float) else interesting_int(ch, int(old))
    setattr(opts, name, fit_field(opts, name, new))
    return f"operator {i} option {name} = {getattr(opts, name)}"


def mutate_graph_io(model, ch) -> str:
    sub = _sub(model)
    if sub is None:
        return "noop"
    side = ch.pick(("inputs", "outputs"))
    values = int_list(getattr(sub, side))
    action = ch.integer(0, 4)
    if action == 0:
        values = []
    elif action == 1:
        values.append(_tensor_index(model, ch))
    elif action == 2 and values:
        values[ch.integer(0, len(values) - 1)] = _tensor_index(model, ch)
    elif action == 3:
        # A fresh tensor nothing writes, as an output (or a second input).
        t = schema.TensorT()
        t.shape, t.type, t.buffer, t.name = int32s([1, 4]), schema.TensorType.INT8, 0, b"orphan"
        t.quantization = schema.QuantizationParametersT()
        t.quantization.scale, t.quantization.zeroPoint = np.array([0.1], np.float32), np.array([0], np.int64)
        sub.tensors = (sub.tensors or []) + [t]
        values.append(len(sub.tensors) - 1)
    elif values:
        values.append(values[0])
    setattr(sub, side, int32s(values))
    return f"graph {side} {values}"


def mutate_structure(model, ch) -> str:
    sub = _sub(model)
    action = ch.integer(0, 6)
    if action == 0:
        model.subgraphs = []
        return "no subgraphs"
    if action == 1 and sub is not None:
        model.subgraphs = [sub, copy.deepcopy(sub)]
        return "two subgraphs"
    if action == 2 and sub is not None:
        sub.operators = []
        return "no operators"
    if action == 3 and sub is not None:
        sub.tensors = []
        return "no tensors"
    if action == 4:
        model.buffers = [] if ch.integer(0, 1) else None
        return "no buffers"
    if action == 5:
        model.operatorCodes = None
        return "no operator codes"
    tensors = _tensors(model)
    if tensors:
        # The same tensor twice: a copy appended, and one reference redirected to it.
        i = ch.integer(0, len(tensors) - 1)
        tensors.append(copy.deepcopy(tensors[i]))
        for op in _ops(model):
            for side in ("inputs", "outputs"):
                values = getattr(op, side)
                if values is not None and i in list(values):
                    values = values.copy()
                    values[list(values).index(i)] = len(tensors) - 1
                    setattr(op, side, values)
                    return f"tensor {i} duplicated, one {side[:-1]} redirected"
        return f"tensor {i} duplicated"
    return "noop"


def _slots(obj: Any, path: str = "model") -> Iterator[tuple[Any, str, str]]:
    """Every scalar, array or string field reachable from obj: (owner, attribute, path)."""
    for name, value in vars(obj).items():
        where = f"{path}.{name}"
        if isinstance(value, list):
            for k, item in enumerate(value):
                if hasattr(item, "__dict__"):
                    yield from _slots(item, f"{where}[{k}]")
        elif hasattr(value, "__dict__") and type(value).__module__ == schema.__name__:
            yield from _slots(value, where)
        elif isinstance(value, (bool, int, float, bytes, np.ndarray)):
            yield obj, name, where


def mutate_any_field(model, ch) -> str:
    """Any field of the whole tree set to an interesting value of its own type."""
    slots = list(_slots(model))
    if not slots:
        return "noop"
    obj, name, where = slots[ch.integer(0, len(slots) - 1)]
    value = getattr(obj, name)
    if isinstance(value, bool):
        setattr(obj, name, not value)
    elif isinstance(value, int):
        setattr(obj, name, fit_field(obj, name, interesting_int(ch, value)))
    elif isinstance(value, float):
        setattr(obj, name, fit_field(obj, name, interesting_float(ch)))
    elif isinstance(value, bytes):
        setattr(obj, name, ch.pick((b"", b"\xff\xfe\xfd", b"x" * 300, value + value)))
    elif ch.integer(0, 4) == 0:
        # Packed with another element width: the vector's length no longer matches its bytes.
        setattr(obj, name, value.astype(ch.pick((np.int8, np.int16, np.int64, np.float64, np.uint8))))
        return f"{where} stored as {getattr(obj, name).dtype}"
    elif value.size:
        value = value.copy()
        k = ch.integer(0, value.size - 1)
        set_array_item(value, k, interesting_float(ch) if value.dtype.kind == "f" else interesting_int(ch, int(value[k])))
        setattr(obj, name, value)
        return f"{where}[{k}] = {value[k]}"
    return f"{where} = {getattr(obj, name)!r:.60}"


# --- byte-level damage after packing -----------------------------------------------------------

def damage_bytes(data: bytes, ch: Chooser) -> tuple[bytes, str]:
    action = ch.integer(0, 4)
    size = len(data)
    if action == 0:
        cut = ch.integer(0, size)
        return data[:cut], f"truncated to {cut} bytes"
    buf = bytearray(data)
    if action == 1:
        flips = [(ch.integer(0, size - 1), ch.integer(0, 7)) for _ in range(ch.integer(1, 8))]
        for pos, bit in flips:
            buf[pos] ^= 1 << bit
        return bytes(buf), f"bits flipped at {flips}"
    if action == 2:
        pos = ch.integer(0, max(0, size - 4))
        value = ch.pick((0, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, size, size - pos, 4, 1))
        buf[pos:pos + 4] = value.to_bytes(4, "little")
        return bytes(buf), f"uint32 {value:#x} written at {pos}"
    if action == 3:
        pos, count = ch.integer(0, size), ch.integer(1, 16)
        if ch.integer(0, 1):
            del buf[pos:pos + count]
            return bytes(buf), f"{count} bytes deleted at {pos}"
        buf[pos:pos] = bytes(count)
        return bytes(buf), f"{count} zero bytes inserted at {pos}"
    pos = ch.integer(0, size - 1)
    buf[pos] = ch.integer(0, 255)
    return bytes(buf), f"byte {pos} = {buf[pos]}"


# --- strategy groups ---------------------------------------------------------------------------

FIELD_MUTATIONS: dict[str, Mutation] = {
    "shape": mutate_shape, "dtype": mutate_dtype, "quantization": mutate_quantization,
    "buffer_ref": mutate_buffer_ref, "buffer_data": mutate_buffer_data, "options": mutate_options,
    "any_field": mutate_any_field,
}
GRAPH_MUTATIONS: dict[str, Mutation] = {
    "op_tensors": mutate_op_tensors, "wiring": mutate_wiring, "op_order": mutate_op_order,
    "opcode": mutate_opcode, "graph_io": mutate_graph_io, "structure": mutate_structure,
}
GROUPS: dict[str, dict[str, Mutation]] = {
    "numbers": {"numbers": mutate_numbers},
    "fields": FIELD_MUTATIONS,
    "graph": GRAPH_MUTATIONS,
    "bytes": {},
    "mixed": {**FIELD_MUTATIONS, **GRAPH_MUTATIONS, "numbers": mutate_numbers},
}


@dataclass(frozen=True)
class Case:
    seed: str
    steps: tuple[str, ...]
    data: bytes

    def describe(self) -> str:
        return f"seed {self.seed}: " + "; ".join(self.steps)


class SeedPool:
    """Seed models unpacked once; each case edits a deep copy."""

    def __init__(self, seeds: dict[str, bytes]) -> None:
        self.names = sorted(seeds)
        self.raw = seeds
        self.models = {name: unpack(data) for name, data in seeds.items()}

    def make_case(self, ch: Chooser, group: str) -> Case:
        name = ch.pick(self.names)
        mutations = GROUPS[group]
        steps: list[str] = []
        data = self.raw[name]
        if mutations:
            model = copy.deepcopy(self.models[name])
            for _ in range(ch.integer(1, 3)):
                key = ch.pick(sorted(mutations))
                steps.append(f"{key}: {mutations[key](model, ch)}")
            data = pack(model)
        if group == "bytes" or (group == "mixed" and ch.integer(0, 4) == 0):
            data, what = damage_bytes(data, ch)
            steps.append(what)
        return Case(name, tuple(steps), data)
