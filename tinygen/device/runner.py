"""A session with a board running tinygen firmware, over any serial line pyserial can open.

The same code talks to QEMU (`socket://127.0.0.1:PORT`) and to a real board (`/dev/ttyACM0`):
HELLO to learn the model and open a v3 session, then per run WRITE the inputs in chunks, INVOKE,
READ the outputs in chunks; EXIT. Every request is retried after a garbled reply, a CRC error
reported by the board, or a timeout; chunks shrink while the line is bad and grow back when it
is clean. docs/serial-protocol.md gives the reasons.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

import serial

from tinygen.device.protocol import (
    OFFSET, PROTOCOL_VERSION, READ_REQUEST, REPLY_TO, CorruptFrame, ErrorCode, ErrorReply, Frame, HelloReply,
    MessageType, decode_error_reply, decode_fault_report, decode_trace, decode_hello_reply, decode_invoke_reply, encode_frame,
    read_frame,
)
from tinygen.device.status import describe_status
from tinygen.errors import DeviceError, InputError

DEFAULT_TIMEOUT_S = 20.0
FIRST_INVOKE_TIMEOUT_S = 1.0  # before any invoke() was timed: resending is harmless, but costs a retry
ATTEMPT_TIMEOUT_S = 0.25     # waiting for a reply beyond the time its bytes take on the line
LINE_BYTES_PER_S = 1000      # the first guess of the line's speed (QEMU's UART on a busy host), then measured
TIMEOUT_MARGIN = 3           # a reply is given up on after this many times the bytes' expected time
MAX_ATTEMPTS = 64            # per request: beyond that the line is hopeless
MAX_RESETS = 3               # board resets tolerated during one run
MIN_CHUNK_BYTES = 32         # at 1 % byte errors, 32-48 byte chunks carry the most
CLEAN_STREAK_TO_GROW = 8     # chunks in a row without a retry before the chunk size doubles
READ_CHUNK_BYTES = 4096
# What noise on the line can make the firmware answer: worth sending the request again.
LINE_NOISE_ERRORS = {ErrorCode.BAD_CRC, ErrorCode.UNKNOWN_TYPE, ErrorCode.BAD_LENGTH, ErrorCode.TOO_LONG}


@dataclass(frozen=True)
class RunResult:
    outputs: list[bytes]     # one per output tensor, in the model's order
    instructions: int        # executed by the model's invoke() alone
    stack_bytes: int = 0     # stack used by invoke() (painted)
    stack_peak_bytes: int = 0  # the firmware's deepest stack use since boot
    traces: dict[int, bytes] = field(default_factory=dict)  # TG_TRACE firmware: tensor index -> bytes


@dataclass
class LinkStats:
    """What the line carried and cost; payload is tensor bytes (inputs written, outputs read)."""

    bytes_sent: int = 0
    bytes_received: int = 0
    payload_bytes: int = 0
    transfer_line_bytes: int = 0   # both directions, while tensors were moving
    transfer_seconds: float = 0.0
    retries: int = 0
    corrupt_frames: int = 0
    timeouts: int = 0
    resets: int = 0

    def to_json(self) -> dict:
        seconds = self.transfer_seconds or float("nan")
        return {
            "payload_bytes": self.payload_bytes,
            "line_bytes": self.bytes_sent + self.bytes_received,
            "payload_throughput_bytes_per_s": round(self.payload_bytes / seconds, 1) if self.transfer_seconds else 0.0,
            "line_throughput_bytes_per_s": round(self.transfer_line_bytes / seconds, 1) if self.transfer_seconds else 0.0,
            "payload_share": round(self.payload_bytes / self.transfer_line_bytes, 4) if self.transfer_line_bytes else 0.0,
            "retries": self.retries,
            "corrupt_frames": self.corrupt_frames,
            "timeouts": self.timeouts,
            "resets": self.resets,
        }


class InvokeError(DeviceError):
    """invoke() on the board returned a status other than TG_OK; `status` holds it."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class DeviceRejected(DeviceError):
    """The board answered with an ERROR frame that line noise does not explain."""

    def __init__(self, message: str, error: ErrorReply) -> None:
        super().__init__(message)
        self.error = error


class BoardReset(DeviceError):
    """The board forgot the session: it restarted since its HELLO."""


class DeviceFault(DeviceError):
    """The firmware hit a hard fault and said where (a FAULT frame)."""


class LineClosed(DeviceError):
    """The serial line went away (QEMU ended, a cable or a proxy disconnected)."""


class _Timeout(DeviceError):
    pass


@dataclass
class _ChunkSize:
    """Halves after a chunk needed a retry, doubles back after a clean streak."""

    largest: int
    current: int = 0
    streak: int = field(default=0)

    def __post_init__(self) -> None:
        self.current = self.current or self.largest

    def record(self, attempts: int) -> None:
        if attempts > 1:
            self.current, self.streak = max(MIN_CHUNK_BYTES, self.current // 2), 0
            return
        self.streak += 1
        if self.streak >= CLEAN_STREAK_TO_GROW:
            self.current, self.streak = min(self.largest, self.current * 2), 0


class DeviceSession:
    """One open serial connection to a tinygen firmware. Every failure raises DeviceError."""

    def __init__(self, url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, baudrate: int = 115200,
                 attempt_timeout_s: float = ATTEMPT_TIMEOUT_S) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.attempt_timeout_s = min(attempt_timeout_s, timeout_s)
        self.info: HelloReply | None = None
        self.stats = LinkStats()
        self._seq = 0
        self._chunk = _ChunkSize(256)
        self._slowest_invoke_s = 0.0
        self._seconds_per_byte = 1.0 / LINE_BYTES_PER_S  # measured on every clean exchange
        self.tracing = False  # a TG_TRACE firmware: invoke() streams TRACE frames before its reply
        self._traces: dict[int, bytes] = {}
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

    def _read_exactly(self, count: int, deadline: float | None = None) -> bytes:
        data = bytearray()
        while len(data) < count:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _Timeout(f"no answer from the device on {self.url} in time")
                self._port.timeout = remaining
            try:
                chunk = self._port.read(min(count - len(data), READ_CHUNK_BYTES))
            except (serial.SerialException, OSError) as exc:
                raise LineClosed(f"serial line {self.url} closed: {exc}") from None
            if not chunk:
                if deadline is None:
                    raise _Timeout(f"no answer from the device on {self.url} within {self.timeout_s:g} s")
                continue
            self.stats.bytes_received += len(chunk)
            data += chunk
        return bytes(data)

    def send_bytes(self, data: bytes) -> None:
        """Raw bytes onto the line (tests use this to send corrupted frames)."""
        try:
            self._port.write(data)
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            raise LineClosed(f"cannot write to {self.url}: {exc}") from None
        self.stats.bytes_sent += len(data)

    def next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    def receive_frame(self, deadline: float | None = None) -> Frame:
        self._port.timeout = self.timeout_s
        return read_frame(lambda n: self._read_exactly(n, deadline))

    def _await_reply(self, request_type: MessageType, seqs: set[int], deadline: float) -> Frame:
        """The reply to any attempt of this request; stale replies to earlier requests are skipped."""
        while True:
            frame = self.receive_frame(deadline)
            if frame.type == MessageType.FAULT:
                raise DeviceFault(decode_fault_report(frame.payload).describe())
            if frame.type == MessageType.TRACE:
                trace = decode_trace(frame.payload)
                self._traces[trace.tensor_index] = trace.data  # the last write of a tensor wins
                continue
            if frame.seq not in seqs:
                continue
            if frame.type == MessageType.ERROR:
                error = decode_error_reply(frame.payload)
                message = f"device rejected {request_type.name}: {error.describe()}"
                if error.code == ErrorCode.NO_SESSION:
                    raise BoardReset(f"the board on {self.url} was reset (it no longer knows the session)")
                if error.code in LINE_NOISE_ERRORS:
                    raise CorruptFrame(message)
                raise DeviceRejected(message, error)
            if frame.type != REPLY_TO[request_type]:
                raise DeviceError(f"device answered {request_type.name} with message type {frame.type:#04x}")
            return frame

    def request(self, request_type: MessageType, payload: bytes = b"", *, attempt_timeout_s: float | None = None,
                reply_bytes: int = 64) -> Frame:
        """Send a request until its reply comes back intact; an ERROR reply raises DeviceError."""
        frame, _ = self._request(request_type, payload, attempt_timeout_s, reply_bytes)
        return frame

    def _request(self, request_type: MessageType, payload: bytes, attempt_timeout_s: float | None,
                 reply_bytes: int) -> tuple[Frame, int]:
        started = time.monotonic()
        give_up = started + self.timeout_s
        exchanged = len(payload) + reply_bytes + 32
        base = (attempt_timeout_s or self.attempt_timeout_s) + TIMEOUT_MARGIN * self._seconds_per_byte * exchanged
        seqs: set[int] = set()
        last, timeouts, padding_s = "", 0, 0.0
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if attempt > 1:
                self.stats.retries += 1
            seq = self.next_seq()
            seqs.add(seq)
            self.send_bytes(encode_frame(Frame(request_type, seq, payload)))
            sent = time.monotonic()
            # Only INVOKE backs off: there the board may simply still be computing.
            backoff = 1 << min(timeouts, 6) if request_type == MessageType.INVOKE else 1
            deadline = min(give_up, sent + base * backoff + padding_s)
            try:
                reply = self._await_reply(request_type, seqs, deadline)
                if request_type in (MessageType.WRITE, MessageType.READ, MessageType.HELLO):
                    seconds = (time.monotonic() - sent) / (len(payload) + len(reply.payload) + 32)
                    self._seconds_per_byte = 0.8 * self._seconds_per_byte + 0.2 * seconds
                return reply, attempt
            except CorruptFrame as exc:
                self.stats.corrupt_frames += 1
                last = str(exc)
            except _Timeout as exc:
                self.stats.timeouts += 1
                last = str(exc)
                if time.monotonic() >= give_up:
                    raise DeviceError(f"the board stopped answering: no reply to {request_type.name} "
                                      f"within {self.timeout_s:g} s on {self.url}") from None
                # The board may be waiting for payload bytes the line lost: zeros complete that
                # frame (its CRC fails) and carry no sync marker, so it hunts for ours again.
                padding = min(4 + self._chunk.largest + 16, 64 << timeouts)
                self.send_bytes(bytes(padding))
                timeouts += 1
                padding_s = TIMEOUT_MARGIN * self._seconds_per_byte * padding  # the board must eat it first
        raise DeviceError(f"{request_type.name} failed {MAX_ATTEMPTS} times over a bad line on {self.url}: {last}")

    # ---- messages -------------------------------------------------------------------------------

    def hello(self) -> HelloReply:
        """Open a v3 session (the firmware answers with the highest version both speak)."""
        frame = self.request(MessageType.HELLO, PROTOCOL_VERSION.to_bytes(2, "little"), reply_bytes=512)
        self.info = decode_hello_reply(frame.payload)
        self._chunk = _ChunkSize(self.info.chunk_bytes, min(self._chunk.current, self.info.chunk_bytes))
        return self.info

    def run(self, inputs: Sequence[bytes]) -> RunResult:
        """Run the model once on `inputs` (one bytes object per input tensor, in order)."""
        info = self.info or self.hello()
        if len(inputs) != len(info.inputs):
            raise InputError(f"model '{info.model_name}' takes {len(info.inputs)} input(s), got {len(inputs)}")
        for tensor, data in zip(info.inputs, inputs):
            if len(data) != tensor.bytes:
                raise InputError(f"input '{tensor.name}' needs {tensor.bytes} bytes, got {len(data)}")
        data = b"".join(inputs)
        for _ in range(MAX_RESETS + 1):
            try:
                return self._run_once(data)
            except BoardReset:
                self.stats.resets += 1
                before = info.sha256
                info = self.hello()
                if info.sha256 != before:
                    raise DeviceError(f"the board on {self.url} came back from a reset running another model") from None
        raise DeviceError(f"the board on {self.url} was reset {MAX_RESETS + 1} times during one run")

    def _run_once(self, data: bytes) -> RunResult:
        info = self.info
        assert info is not None
        self._write(data)
        self._traces = {}
        crc = zlib.crc32(data)
        for _ in range(3):
            try:
                invoke = self._invoke(crc)
                break
            except DeviceRejected as exc:
                if exc.error.code != ErrorCode.INPUT_CRC:
                    raise
                self._write(data)  # the board holds other inputs than ours (should not happen): again
        else:
            raise DeviceError("the board's inputs never matched the ones sent")
        if invoke.run.status != 0:
            raise InvokeError(f"model '{info.model_name}': {describe_status(invoke.run.status)}", invoke.run.status)
        expected = sum(t.bytes for t in info.outputs)
        if invoke.output_bytes != expected:
            raise DeviceError(f"the board has {invoke.output_bytes} output bytes, the model has {expected}")
        blob = self._read(expected)
        if zlib.crc32(blob) != invoke.output_crc:
            blob = self._read(expected)
            if zlib.crc32(blob) != invoke.output_crc:
                raise DeviceError("the outputs read back never matched the CRC the board computed")
        outputs, offset = [], 0
        for tensor in info.outputs:
            outputs.append(blob[offset:offset + tensor.bytes])
            offset += tensor.bytes
        run = invoke.run
        return RunResult(outputs, run.instructions, run.invoke_stack_bytes, run.stack_peak_bytes, dict(self._traces))

    def _transfer(self, total: int, one_chunk) -> bytes:
        started, line_before = time.monotonic(), self.stats.bytes_sent + self.stats.bytes_received
        pieces, offset = [], 0
        while offset < total:
            count = min(self._chunk.current, total - offset)
            piece, attempts = one_chunk(offset, count)
            self._chunk.record(attempts)
            pieces.append(piece)
            offset += count
        self.stats.payload_bytes += total
        self.stats.transfer_seconds += time.monotonic() - started
        self.stats.transfer_line_bytes += self.stats.bytes_sent + self.stats.bytes_received - line_before
        return b"".join(pieces)

    def _write(self, data: bytes) -> None:
        def one_chunk(offset: int, count: int) -> tuple[bytes, int]:
            frame, attempts = self._request(MessageType.WRITE, OFFSET.pack(offset) + data[offset:offset + count],
                                            None, 16)
            if frame.payload != OFFSET.pack(offset + count):
                raise DeviceError(f"the board acknowledged a WRITE at {offset} with {frame.payload.hex()}")
            return b"", attempts

        self._transfer(len(data), one_chunk)

    def _read(self, total: int) -> bytes:
        def one_chunk(offset: int, count: int) -> tuple[bytes, int]:
            frame, attempts = self._request(MessageType.READ, READ_REQUEST.pack(offset, count), None, count + 16)
            if len(frame.payload) != count:
                raise DeviceError(f"asked for {count} output bytes, the board sent {len(frame.payload)}")
            return frame.payload, attempts

        return self._transfer(total, one_chunk)

    def _invoke(self, input_crc: int):
        # The first invoke may take long: resending INVOKE meanwhile is harmless (the board replays
        # its result), so the attempt timeout only grows with the slowest invoke seen.
        started = time.monotonic()
        # Traced, invoke() sends every tensor before its reply: one long attempt, as a resent
        # INVOKE would be replayed without its traces.
        attempt_s = self.timeout_s if self.tracing else max(FIRST_INVOKE_TIMEOUT_S, 3 * self._slowest_invoke_s)
        frame = self.request(MessageType.INVOKE, OFFSET.pack(input_crc), attempt_timeout_s=attempt_s)
        self._slowest_invoke_s = max(self._slowest_invoke_s, time.monotonic() - started)
        return decode_invoke_reply(frame.payload)

    def exit(self) -> None:
        """Ask the firmware to end (QEMU then exits with status 0)."""
        try:
            self.request(MessageType.EXIT)
        except LineClosed:
            pass  # the reply was lost and the firmware is gone: what EXIT asked for
