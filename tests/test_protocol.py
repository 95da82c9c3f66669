"""The serial protocol's host side: frames, messages, CRC, garbage, and a session's timeouts."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.device.protocol import (
    PROTOCOL_VERSION, DType, ErrorCode, ErrorReply, Frame, HelloReply, MessageType, RunReply, TensorInfo,
    decode_error_reply,
    decode_frame, decode_hello_reply, decode_run_reply, encode_error_reply, encode_frame, encode_hello_reply,
    encode_run_reply, read_frame,
)
from tinygen.device.runner import DeviceSession
from tinygen.errors import DeviceError, InputError

frames = st.builds(Frame, st.integers(0, 255), st.integers(0, 255), st.binary(max_size=2048))
names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
tensors = st.builds(
    TensorInfo, names, st.sampled_from(list(DType)), st.integers(0, 2**32 - 1),
    st.lists(st.integers(-2**31, 2**31 - 1), max_size=6).map(tuple),
    st.floats(width=32, allow_nan=False), st.integers(-2**31, 2**31 - 1),
)
hellos = st.builds(
    HelloReply, st.just(PROTOCOL_VERSION), st.integers(0, 2**32 - 1), st.binary(min_size=32, max_size=32),
    st.integers(0, 2**32 - 1), names, names,
    st.lists(tensors, max_size=4).map(tuple), st.lists(tensors, max_size=4).map(tuple),
)


def test_frame_layout_is_the_documented_one():
    data = encode_frame(Frame(MessageType.RUN, 7, b"\x01\x02\x03"))
    assert data[:8] == bytes([0xA5, 0x5A, 0x02, 0x07, 3, 0, 0, 0])
    assert data[8:11] == b"\x01\x02\x03"
    assert data[11:] == struct.pack("<I", zlib.crc32(data[:11]))


@given(frames)
def test_frames_round_trip(frame):
    assert decode_frame(encode_frame(frame)) == frame


@given(frames, st.data())
def test_every_single_bit_error_is_detected(frame, data):
    encoded = bytearray(encode_frame(frame))
    position = data.draw(st.integers(0, len(encoded) - 1))
    encoded[position] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(DeviceError):
        decode_frame(bytes(encoded))


@given(st.binary(max_size=300).filter(lambda b: 0xA5 not in b), frames)
def test_stray_bytes_before_a_frame_are_skipped(garbage, frame):
    stream = garbage + encode_frame(frame)
    position = 0

    def read_exactly(count):
        nonlocal position
        position += count
        return stream[position - count:position]

    assert read_frame(read_exactly) == frame


def test_a_line_of_pure_garbage_is_an_error_not_a_hang():
    stream = bytes(range(0xA6, 0x100)) * 1000

    def read_exactly(count, position=[0]):
        position[0] += count
        return stream[position[0] - count:position[0]]

    with pytest.raises(DeviceError, match="no frame sync marker"):
        read_frame(read_exactly, max_skipped=10_000)


def test_truncated_and_overlong_input_are_errors():
    encoded = encode_frame(Frame(MessageType.HELLO_REPLY, 1, b"abc"))
    with pytest.raises(DeviceError, match="truncated"):
        decode_frame(encoded[:-1])
    with pytest.raises(DeviceError, match="after the end"):
        decode_frame(encoded + b"\x00")


@settings(max_examples=200)
@given(hellos)
def test_hello_reply_round_trips(hello):
    decoded = decode_hello_reply(encode_hello_reply(hello))
    assert decoded == hello


@given(st.integers(-2**31, 2**31 - 1), st.integers(0, 2**64 - 1), st.binary(max_size=512),
       st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_run_reply_round_trips(status, instructions, outputs, invoke_stack, stack_peak):
    reply = RunReply(status, instructions, outputs, invoke_stack, stack_peak)
    assert decode_run_reply(encode_run_reply(reply)) == reply


def test_run_reply_layout_is_the_documented_one():
    # v2: i32 status, u64 instructions, u32 invoke() stack bytes, u32 stack peak, then the outputs.
    payload = encode_run_reply(RunReply(-3, 2**40 + 5, b"\x07\x08", 300, 1200))
    assert payload == struct.pack("<iQII", -3, 2**40 + 5, 300, 1200) + b"\x07\x08"


@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_error_reply_round_trips(code, detail):
    error = ErrorReply(code, detail)
    assert decode_error_reply(encode_error_reply(error)) == error


def test_error_reply_names_its_code():
    assert ErrorReply(ErrorCode.BAD_CRC, 0).describe() == "BAD_CRC (detail 0)"
    assert ErrorReply(99, 5).describe() == "code 99 (detail 5)"


def test_hello_from_another_protocol_version_is_refused():
    hello = HelloReply(PROTOCOL_VERSION, 0, bytes(32), 0, "m", "v", (), ())
    payload = bytearray(encode_hello_reply(hello))
    payload[0] = PROTOCOL_VERSION - 1  # a firmware built before the RUN reply carried stack sizes
    with pytest.raises(DeviceError, match=f"protocol v{PROTOCOL_VERSION - 1}"):
        decode_hello_reply(bytes(payload))


def test_short_or_padded_payloads_are_errors():
    payload = encode_hello_reply(HelloReply(PROTOCOL_VERSION, 0, bytes(32), 0, "m", "v", (), ()))
    with pytest.raises(DeviceError, match="too short"):
        decode_hello_reply(payload[:-1])
    with pytest.raises(DeviceError, match="trailing"):
        decode_hello_reply(payload + b"\x00")
    with pytest.raises(DeviceError, match="too short"):
        decode_run_reply(b"\x00" * 19)


def test_session_times_out_with_one_line_when_nothing_answers():
    # loop:// is pyserial's loopback line: the request comes back instead of a reply.
    with DeviceSession("loop://", timeout_s=0.2) as session:
        with pytest.raises(DeviceError, match="answered HELLO with message type 0x01"):
            session.hello()
        with pytest.raises(DeviceError, match="no answer from the device"):
            session.receive_frame()


def test_session_skips_replies_to_earlier_requests():
    with DeviceSession("loop://", timeout_s=0.2) as session:
        # A late reply to an abandoned request (another sequence number) is on the line first. Had
        # the session taken it, decoding its empty payload would fail as "too short"; it must skip
        # it and reach the next frame with its own sequence number (the looped-back request).
        session.send_bytes(encode_frame(Frame(MessageType.HELLO_REPLY, 200, b"")))
        with pytest.raises(DeviceError, match="answered HELLO with message type 0x01"):
            session.hello()


def test_session_checks_inputs_against_the_model():
    tensor = TensorInfo("x", DType.INT8, 4, (1, 4), 0.5, 0)
    with DeviceSession("loop://", timeout_s=0.2) as session:
        session.info = HelloReply(PROTOCOL_VERSION, 4, bytes(32), 16, "m", "v", (tensor,), (tensor,))
        with pytest.raises(InputError, match="takes 1 input"):
            session.run([])
        with pytest.raises(InputError, match="needs 4 bytes, got 3"):
            session.run([b"abc"])


def test_unopenable_serial_port_is_a_device_error():
    with pytest.raises(DeviceError, match="cannot open serial port"):
        DeviceSession("/dev/does-not-exist-tinygen")
