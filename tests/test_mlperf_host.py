"""The four MLPerf Tiny models, compiled and run on the host: every intermediate tensor equals
TFLite Micro's (kPreserveAllTensors), for several random inputs."""

from __future__ import annotations

import pytest

from conftest import MLPERF_MODELS, mlperf_model


@pytest.mark.parametrize("key", sorted(MLPERF_MODELS))
def test_mlperf_bit_exact_every_tensor(assert_bit_exact, key):
    model_bytes = mlperf_model(key).read_bytes()
    result = assert_bit_exact(model_bytes, count=3, seed=7)
    graph = result.compiled.graph
    # All operators' outputs were compared for all 3 inputs, plus the model outputs.
    assert result.tensors_compared >= 3 * (len(graph.operators) + len(graph.outputs))
