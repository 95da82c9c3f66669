"""The hardware-in-the-loop suites: run on any board the pytest plugin (tinygen.hil.pytest_plugin)
is pointed at; by default the example model on the emulated mps2-an386.

    pytest hil/ --tinygen-board esp32s3 --tinygen-port /dev/ttyACM0 --tinygen-model model.tflite
"""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLE_MODEL = Path(__file__).resolve().parents[1] / "examples" / "digits" / "digits_cnn_int8.tflite"


@pytest.fixture(scope="session")
def tinygen_model(request: pytest.FixtureRequest) -> Path:
    return Path(request.config.getoption("tinygen_model") or EXAMPLE_MODEL)


@pytest.fixture(scope="session")
def random_vectors(tinygen_device):
    from tinygen.inputs import random_records

    return random_records(tinygen_device.graph, count=4, seed=1)
