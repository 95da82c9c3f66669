"""The serial protocol v2, host side: frames, typed messages, and their encodings.

The device side is runtime_c/firmware/tg_protocol.h; docs/serial-protocol.md describes both. A frame
is: sync (A5 5A), type (u8), sequence number (u8), payload length (u32), payload, CRC-32 (zlib's)
of everything before it; all little endian. Encoders and decoders come in pairs for every message,
so a test or a simulated device can speak either side.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from tinygen.errors import DeviceError


class CorruptFrame(DeviceError):
    """What a noisy line produces: a CRC mismatch, an absurd length, no sync marker. Worth a retry."""

PROTOCOL_VERSION = 3  # 2: the RUN reply carries the stack measurements; 3: chunks, sessions, faults
SYNC = b"\xa5\x5a"
HEADER = struct.Struct("<2sBBI")  # sync, type, seq, payload length
CRC = struct.Struct("<I")
MAX_NAME_BYTES = 255  # strings are sent with a u8 length


class MessageType(IntEnum):
    HELLO = 0x01
    RUN = 0x02
    EXIT = 0x03
    WRITE = 0x04
    INVOKE = 0x05
    READ = 0x06
    HELLO_REPLY = 0x81
    RUN_REPLY = 0x82
    EXIT_REPLY = 0x83
    WRITE_REPLY = 0x84
    INVOKE_REPLY = 0x85
    READ_REPLY = 0x86
    FAULT = 0xFE
    TRACE = 0xFD             # unsolicited, TG_TRACE firmware: one traced tensor's bytes
    ERROR = 0xFF


REPLY_TO = {MessageType.HELLO: MessageType.HELLO_REPLY, MessageType.RUN: MessageType.RUN_REPLY,
            MessageType.EXIT: MessageType.EXIT_REPLY, MessageType.WRITE: MessageType.WRITE_REPLY,
            MessageType.INVOKE: MessageType.INVOKE_REPLY, MessageType.READ: MessageType.READ_REPLY}


class ErrorCode(IntEnum):
    BAD_CRC = 1
    UNKNOWN_TYPE = 2
    BAD_LENGTH = 3
    TOO_LONG = 4
    BAD_RANGE = 5
    INPUT_CRC = 6
    NO_SESSION = 7


class DType(IntEnum):
    """tg_dtype_t in runtime_c/include/tinygen/tg_model.h."""

    INT8 = 1
    UINT8 = 2
    INT16 = 3
    INT32 = 4
    FLOAT32 = 5

    @property
    def itemsize(self) -> int:
        return {DType.INT8: 1, DType.UINT8: 1, DType.INT16: 2, DType.INT32: 4, DType.FLOAT32: 4}[self]


# ---- frames -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Frame:
    type: int
    seq: int
    payload: bytes


def encode_frame(frame: Frame) -> bytes:
    if not 0 <= frame.type <= 0xFF or not 0 <= frame.seq <= 0xFF:
        raise ValueError(f"frame type {frame.type} or sequence number {frame.seq} does not fit a byte")
    body = HEADER.pack(SYNC, frame.type, frame.seq, len(frame.payload)) + frame.payload
    return body + CRC.pack(zlib.crc32(body))


def decode_frame(data: bytes) -> Frame:
    """Exactly one frame, nothing before or after it."""
    stream = io.BytesIO(data)

    def read_exactly(count: int) -> bytes:
        piece = stream.read(count)
        if len(piece) < count:
            raise DeviceError(f"frame truncated: wanted {count} more bytes, got {len(piece)}")
        return piece

    frame = read_frame(read_exactly, max_skipped=0)
    if stream.tell() != len(data):
        raise DeviceError(f"{len(data) - stream.tell()} bytes after the end of a frame")
    return frame


def read_frame(read_exactly: Callable[[int], bytes], *, max_payload: int = 1 << 24,
               max_skipped: int = 1 << 16) -> Frame:
    """Read one frame from a byte stream, skipping anything before its sync marker.

    read_exactly(n) returns n bytes or raises DeviceError. Up to max_skipped stray bytes are
    tolerated before the marker (a board may print something at boot); more is garbage.
    """
    skipped = 0
    byte = read_exactly(1)
    while True:
        if byte == SYNC[:1]:
            byte = read_exactly(1)
            if byte == SYNC[1:]:
                break
            skipped += 1
        else:
            skipped += 1
            byte = read_exactly(1)
        if skipped > max_skipped:
            raise CorruptFrame(f"no frame sync marker in {skipped} bytes: not a tinygen firmware, or a garbled line")
    rest = read_exactly(HEADER.size - len(SYNC))
    _, frame_type, seq, length = HEADER.unpack(SYNC + rest)
    if length > max_payload:
        raise CorruptFrame(f"frame announces a {length}-byte payload, more than the {max_payload} expected")
    payload = read_exactly(length)
    (crc,) = CRC.unpack(read_exactly(CRC.size))
    expected = zlib.crc32(SYNC + rest + payload)
    if crc != expected:
        raise CorruptFrame(f"frame CRC mismatch (got {crc:#010x}, computed {expected:#010x}): garbled serial line")
    return Frame(frame_type, seq, payload)


# ---- payload fields ----------------------------------------------------------------------------

class _Reader:
    """Reads little-endian fields from a payload; running past its end is a protocol error."""

    def __init__(self, payload: bytes, what: str) -> None:
        self.payload = payload
        self.offset = 0
        self.what = what

    def take(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        if self.offset + size > len(self.payload):
            raise DeviceError(f"{self.what} payload too short ({len(self.payload)} bytes)")
        values = struct.unpack_from(fmt, self.payload, self.offset)
        self.offset += size
        return values

    def one(self, fmt: str) -> int | float:
        return self.take("<" + fmt)[0]

    def raw(self, count: int) -> bytes:
        (data,) = self.take(f"{count}s")
        return data

    def text(self) -> str:
        return self.raw(int(self.one("B"))).decode("utf-8", errors="replace")

    def rest(self) -> bytes:
        data = self.payload[self.offset:]
        self.offset = len(self.payload)
        return data

    def done(self) -> None:
        if self.offset != len(self.payload):
            raise DeviceError(f"{self.what} payload has {len(self.payload) - self.offset} unexpected trailing bytes")


def _text(value: str) -> bytes:
    data = value.encode("utf-8")
    if len(data) > MAX_NAME_BYTES:
        raise ValueError(f"string of {len(data)} bytes does not fit the protocol's u8 length")
    return bytes([len(data)]) + data


# ---- messages ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: DType
    bytes: int
    dims: tuple[int, ...]
    scale: float             # 0.0 when not quantized
    zero_point: int


@dataclass(frozen=True)
class HelloReply:
    """What the firmware says about itself and its model."""

    protocol_version: int
    max_payload: int         # the largest request payload it accepts: the inputs' total size
    sha256: bytes            # of the .tflite the model was generated from
    arena_bytes: int
    model_name: str
    tinygen_version: str
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    chunk_bytes: int = 256   # v3: the largest data part of a WRITE or READ


@dataclass(frozen=True)
class RunReply:
    status: int              # invoke()'s return value; 0 is TG_OK
    instructions: int        # executed by invoke() alone
    outputs: bytes           # every output tensor's bytes, concatenated in order
    invoke_stack_bytes: int = 0   # stack invoke() used in this run (painted; 0: the port cannot tell)
    stack_peak_bytes: int = 0     # the firmware's deepest stack use since boot


@dataclass(frozen=True)
class ErrorReply:
    code: int                # an ErrorCode, kept as int so unknown codes survive decoding
    detail: int

    def describe(self) -> str:
        try:
            name = ErrorCode(self.code).name
        except ValueError:
            name = f"code {self.code}"
        return f"{name} (detail {self.detail})"


def _encode_tensor(tensor: TensorInfo) -> bytes:
    return (_text(tensor.name) + struct.pack("<BBI", tensor.dtype, len(tensor.dims), tensor.bytes)
            + struct.pack(f"<{len(tensor.dims)}i", *tensor.dims) + struct.pack("<fi", tensor.scale, tensor.zero_point))


def _decode_tensor(reader: _Reader) -> TensorInfo:
    name = reader.text()
    dtype_code, rank, size = reader.take("<BBI")
    try:
        dtype = DType(dtype_code)
    except ValueError:
        raise DeviceError(f"tensor '{name}' has unknown dtype code {dtype_code}") from None
    dims = reader.take(f"<{rank}i")
    scale, zero_point = reader.take("<fi")
    return TensorInfo(name, dtype, size, tuple(dims), scale, zero_point)


def encode_hello_reply(hello: HelloReply) -> bytes:
    if len(hello.sha256) != 32:
        raise ValueError("sha256 must be 32 bytes")
    parts = [struct.pack("<HHI", hello.protocol_version, 0, hello.max_payload), hello.sha256,
             struct.pack("<IBB", hello.arena_bytes, len(hello.inputs), len(hello.outputs)),
             _text(hello.model_name), _text(hello.tinygen_version)]
    parts += [_encode_tensor(t) for t in (*hello.inputs, *hello.outputs)]
    parts.append(struct.pack("<I", hello.chunk_bytes))
    return b"".join(parts)


def decode_hello_reply(payload: bytes) -> HelloReply:
    reader = _Reader(payload, "HELLO reply")
    version, _flags, max_payload = reader.take("<HHI")
    if version != PROTOCOL_VERSION:
        raise DeviceError(f"firmware speaks serial protocol v{version}; this tinygen speaks v{PROTOCOL_VERSION}")
    sha256 = reader.raw(32)
    arena_bytes, num_inputs, num_outputs = reader.take("<IBB")
    model_name = reader.text()
    tinygen_version = reader.text()
    inputs = tuple(_decode_tensor(reader) for _ in range(num_inputs))
    outputs = tuple(_decode_tensor(reader) for _ in range(num_outputs))
    (chunk_bytes,) = reader.take("<I")
    reader.done()
    if chunk_bytes == 0:
        raise DeviceError("firmware announces a chunk size of 0 bytes")
    return HelloReply(version, max_payload, sha256, arena_bytes, model_name, tinygen_version, inputs, outputs,
                      chunk_bytes)


RUN_REPLY_HEAD = struct.Struct("<iQII")


def encode_run_reply(reply: RunReply) -> bytes:
    return RUN_REPLY_HEAD.pack(reply.status, reply.instructions, reply.invoke_stack_bytes,
                               reply.stack_peak_bytes) + reply.outputs


def decode_run_reply(payload: bytes) -> RunReply:
    reader = _Reader(payload, "RUN reply")
    status, instructions, invoke_stack, stack_peak = reader.take(RUN_REPLY_HEAD.format)
    return RunReply(status, instructions, reader.rest(), invoke_stack, stack_peak)


ERROR_REPLY = struct.Struct("<II")


def encode_error_reply(error: ErrorReply) -> bytes:
    return ERROR_REPLY.pack(error.code, error.detail)


def decode_error_reply(payload: bytes) -> ErrorReply:
    reader = _Reader(payload, "ERROR reply")
    code, detail = reader.take("<II")
    reader.done()
    return ErrorReply(code, detail)


# ---- v3: chunked transfers, invoke, faults -------------------------------------------------------

OFFSET = struct.Struct("<I")
READ_REQUEST = struct.Struct("<II")
INVOKE_REPLY = struct.Struct("<iQIIII")
FAULT_REPORT = struct.Struct("<III")


@dataclass(frozen=True)
class InvokeReply:
    run: RunReply            # outputs empty: they are fetched with READ
    output_bytes: int
    output_crc: int          # zlib.crc32 of all the outputs' bytes


def encode_invoke_reply(reply: InvokeReply) -> bytes:
    run = reply.run
    return INVOKE_REPLY.pack(run.status, run.instructions, run.invoke_stack_bytes, run.stack_peak_bytes,
                             reply.output_bytes, reply.output_crc)


def decode_invoke_reply(payload: bytes) -> InvokeReply:
    reader = _Reader(payload, "INVOKE reply")
    status, instructions, invoke_stack, peak, output_bytes, output_crc = reader.take(INVOKE_REPLY.format)
    reader.done()
    return InvokeReply(RunReply(status, instructions, b"", invoke_stack, peak), output_bytes, output_crc)


@dataclass(frozen=True)
class FaultReport:
    pc: int                  # the faulting instruction
    exception: int           # the exception number (Arm: 3 HardFault, 4 MemManage, 5 BusFault, 6 UsageFault)
    cause: int               # port-specific (Arm: CFSR)

    def describe(self) -> str:
        names = {2: "NMI", 3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault"}
        name = names.get(self.exception, f"exception {self.exception}")
        return f"hard fault in the firmware: {name} at pc {self.pc:#010x} (fault status {self.cause:#010x})"


def encode_fault_report(fault: FaultReport) -> bytes:
    return FAULT_REPORT.pack(fault.pc, fault.exception, fault.cause)


def decode_fault_report(payload: bytes) -> FaultReport:
    reader = _Reader(payload, "FAULT report")
    pc, exception, cause = reader.take(FAULT_REPORT.format)
    reader.done()
    return FaultReport(pc, exception, cause)


# ---- TG_TRACE firmware: one frame per tensor an operator wrote -----------------------------------

TRACE_HEAD = struct.Struct("<ii")


@dataclass(frozen=True)
class TraceRecord:
    op_index: int
    tensor_index: int
    data: bytes


def encode_trace(trace: TraceRecord) -> bytes:
    return TRACE_HEAD.pack(trace.op_index, trace.tensor_index) + trace.data


def decode_trace(payload: bytes) -> TraceRecord:
    reader = _Reader(payload, "TRACE frame")
    op_index, tensor_index = reader.take(TRACE_HEAD.format)
    return TraceRecord(op_index, tensor_index, reader.rest())
