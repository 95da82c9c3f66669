"""The model under test, on the board, against TFLite Micro: the checks a rig runs on every change."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest


def test_the_board_runs_the_model_under_test(tinygen_device, tinygen_model):
    info = tinygen_device.session.info
    assert info.sha256 == hashlib.sha256(tinygen_model.read_bytes()).digest()
    assert [t.bytes for t in info.inputs] == [t.nbytes for t in tinygen_device.graph.input_tensors()]


@pytest.mark.parametrize("index", range(4))
def test_random_vector_is_bit_exact(tinygen_device, random_vectors, index):
    mismatch = tinygen_device.check(random_vectors[index])
    assert mismatch is None, mismatch.describe()


def test_extreme_inputs_are_bit_exact(tinygen_device):
    for fill in ("min", "max"):
        record = [np.full(t.shape, getattr(np.iinfo(t.dtype.numpy), fill), t.dtype.numpy)
                  for t in tinygen_device.graph.input_tensors()]
        mismatch = tinygen_device.check(record)
        assert mismatch is None, f"{fill}: {mismatch.describe()}"


def test_the_same_input_gives_the_same_outputs_and_latency(tinygen_device, random_vectors):
    first, second = tinygen_device.run(random_vectors[0]), tinygen_device.run(random_vectors[0])
    assert first.outputs == second.outputs
    if tinygen_device.url.startswith("socket://"):  # QEMU counts instructions exactly
        assert first.instructions == second.instructions
