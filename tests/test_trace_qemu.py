"""Firmware trace builds (issue 10 item 6): a TG_TRACE firmware sends every tensor an operator writes
as a TRACE frame, and `tinygen run --trace` compares each with TFLite Micro's, not only the outputs."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib

import numpy as np
import pytest

from conftest import mlperf_model
from tinygen.build.host import build_host_binary, run_host_binary
from tinygen.compiler import compile_bytes
from tinygen.device.protocol import (Frame, MessageType, TraceRecord, decode_frame, decode_trace, encode_frame,
                                     encode_trace)
from tinygen.errors import DeviceError
from tinygen.reference.tflm import TflmReference
from tinygen.testing.compare import compare_on_host, compare_tensors, random_inputs


def test_trace_frame_round_trips_with_its_crc():
    trace = TraceRecord(op_index=3, tensor_index=17, data=bytes(range(40)))
    frame = Frame(MessageType.TRACE, 9, encode_trace(trace))
    wire = encode_frame(frame)
    assert wire[:8] == bytes([0xA5, 0x5A, 0xFD, 9, 48, 0, 0, 0])
    assert int.from_bytes(wire[-4:], "little") == zlib.crc32(wire[:-4])
    assert decode_trace(decode_frame(wire).payload) == trace
    with pytest.raises(DeviceError, match="TRACE frame payload too short"):
        decode_trace(b"\x01\x00\x00")


def test_a_differing_tensor_is_named_in_one_line(tmp_path):
    data = mlperf_model("kws").read_bytes()
    compiled = compile_bytes(data, name="kws")
    record = random_inputs(compiled, 1, seed=2)[0]
    binary = build_host_binary(compiled.sources, tmp_path, compiled.input_bytes, compiled.output_bytes)
    run = run_host_binary(binary, [[np.ascontiguousarray(x).tobytes() for x in record]])
    traced = {t: raw for (_, t), raw in run.traces.items()}
    ref = TflmReference(data).run(record, sorted(traced))
    count, mismatches, _ = compare_tensors(compiled, 0, traced, run.outputs[0], ref)
    assert count == len(traced) + len(compiled.graph.outputs) and not mismatches
    victim = sorted(traced)[len(traced) // 2]
    flipped = bytearray(traced[victim])
    flipped[0] ^= 0x01
    count, mismatches, max_diff = compare_tensors(compiled, 0, {**traced, victim: bytes(flipped)}, run.outputs[0], ref)
    assert len(mismatches) == 1 and max_diff > 0
    assert mismatches[0].startswith(f"input 0: tensor {victim} '{compiled.graph.tensor(victim).name}' differs in 1 of")


@pytest.mark.qemu
def test_kws_in_qemu_is_bit_exact_on_every_tensor(tmp_path):
    """The MLPerf keyword spotter, traced in QEMU: as many tensors compared as the host's trace."""
    path = mlperf_model("kws")
    proc = subprocess.run([sys.executable, "-m", "tinygen.cli", "run", str(path), "--random", "2", "--seed", "11",
                           "--trace", "--json", "-o", str(tmp_path / "kws")], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["bit_exact"] is True and report["max_abs_diff"] == 0 and report["inputs"] == 2
    assert report["trace"] is True and report["first_mismatch"] == ""
    host = compare_on_host(path.read_bytes(), tmp_path / "host", count=2, seed=11, name=path.stem)
    assert host.bit_exact
    assert report["tensors_compared"] == host.tensors_compared > 2 * len(host.compiled.graph.outputs)
