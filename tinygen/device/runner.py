"""A session with a board running tinygen firmware, over any serial line pyserial can open.

The same code talks to QEMU (`socket://127.0.0.1:PORT`) and to a real board (`/dev/ttyACM0`):
HELLO to learn the model, RUN to send inputs and get outputs plus the instruction count, EXIT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

import serial

from tinygen.device.protocol import (
    REPLY_TO, Frame, HelloReply, MessageType, decode_error_reply, decode_hello_reply, decode_run_reply,
    encode_frame, read_frame,
)
from tinygen.device.status import describe_status
from tinygen.errors import DeviceError, InputError

DEFAULT_TIMEOUT_S = 20.0
READ_CHUNK_BYTES = 4096
MAX_STALE_FRAMES = 16        # replies to earlier, abandoned requests that may still arrive


@dataclass(frozen=True)
class RunResult:
    outputs: list[bytes]     # one per output tensor, in the model's order
    instructions: int        # executed by the model's invoke() alone
    stack_bytes: int = 0     # stack used by invoke() (painted)
    stack_peak_bytes: int = 0  # the firmware's deepest stack use since boot


class InvokeError(DeviceError):
    """invoke() on the board returned a status other than TG_OK; `status` holds it."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class DeviceSession:
    """One open serial connection to a tinygen firmware. Every failure raises DeviceError."""

    def __init__(self, url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, baudrate: int = 115200) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.info: HelloReply | None = None
        self._seq = 0
        try:
            self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout_s, write_timeout=timeout_s)
        except (serial.SerialException, ValueError, OSError) as exc:
            raise DeviceError(f"cannot open serial port {url}: {exc}") from None

    def __enter__(self) -> DeviceSession:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._port.close()

    # ---- frames ---------------------------------------------------------------------------------

    def _read_exactly(self, count: int) -> bytes:
        data = bytearray()
        while len(data) < count:
            try:
                chunk = self._port.read(min(count - len(data), READ_CHUNK_BYTES))
            except serial.SerialException as exc:
                raise DeviceError(f"serial line {self.url} closed: {exc}") from None
            if not chunk:
                raise DeviceError(f"no answer from the device on {self.url} within {self.timeout_s:g} s")
            data += chunk
        return bytes(data)

    def send_bytes(self, data: bytes) -> None:
        """Raw bytes onto the line (tests use this to send corrupted frames)."""
        try:
            self._port.write(data)
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            raise DeviceError(f"cannot write to {self.url}: {exc}") from None

    def next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    def receive_frame(self) -> Frame:
        return read_frame(self._read_exactly)

    def request(self, request_type: MessageType, payload: bytes = b"") -> Frame:
        """Send one request and return its reply; an ERROR reply raises DeviceError."""
        seq = self.next_seq()
        self.send_bytes(encode_frame(Frame(request_type, seq, payload)))
        for _ in range(MAX_STALE_FRAMES):
            frame = self.receive_frame()
            if frame.seq != seq:
                continue  # the reply to an earlier request that timed out
            if frame.type == MessageType.ERROR:
                error = decode_error_reply(frame.payload)
                raise DeviceError(f"device rejected {request_type.name}: {error.describe()}")
            if frame.type != REPLY_TO[request_type]:
                raise DeviceError(f"device answered {request_type.name} with message type {frame.type:#04x}")
            return frame
        raise DeviceError(f"no reply to {request_type.name} among {MAX_STALE_FRAMES} frames")

    # ---- messages -------------------------------------------------------------------------------

    def hello(self) -> HelloReply:
        self.info = decode_hello_reply(self.request(MessageType.HELLO).payload)
        return self.info

    def run(self, inputs: Sequence[bytes]) -> RunResult:
        """Run the model once on `inputs` (one bytes object per input tensor, in order)."""
        info = self.info or self.hello()
        if len(inputs) != len(info.inputs):
            raise InputError(f"model '{info.model_name}' takes {len(info.inputs)} input(s), got {len(inputs)}")
        for tensor, data in zip(info.inputs, inputs):
            if len(data) != tensor.bytes:
                raise InputError(f"input '{tensor.name}' needs {tensor.bytes} bytes, got {len(data)}")
        reply = decode_run_reply(self.request(MessageType.RUN, b"".join(inputs)).payload)
        if reply.status != 0:
            raise InvokeError(f"model '{info.model_name}': {describe_status(reply.status)}", reply.status)
        expected = sum(t.bytes for t in info.outputs)
        if len(reply.outputs) != expected:
            raise DeviceError(f"RUN reply carries {len(reply.outputs)} output bytes, the model has {expected}")
        outputs, offset = [], 0
        for tensor in info.outputs:
            outputs.append(reply.outputs[offset:offset + tensor.bytes])
            offset += tensor.bytes
        return RunResult(outputs, reply.instructions, reply.invoke_stack_bytes, reply.stack_peak_bytes)

    def exit(self) -> None:
        """Ask the firmware to end (QEMU then exits with status 0)."""
        self.request(MessageType.EXIT)
