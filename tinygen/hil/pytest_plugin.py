"""pytest plugin (entry point `pytest11: tinygen`): a board running a model's firmware as fixtures.

    pytest hil/ --tinygen-board esp32s3 --tinygen-port /dev/ttyACM0 --tinygen-model m.tflite

Without --tinygen-port the firmware is built and started in QEMU for the session (emulated boards
only), and QEMU is gone when the session ends. With a port, the board must already run the
model (`--tinygen-flash` flashes it first with the board's flasher). Fixtures:

- `tinygen_model`: the .tflite under test (--tinygen-model; a suite's conftest may override it);
- `tinygen_board`: the board's name;
- `tinygen_device`: a `HilDevice` whose model hash was checked: `run(record)` runs one vector,
  `check(record)` runs it and compares it with TFLite Micro (None, or the first Mismatch).

Nothing heavy is imported until a fixture is used: the plugin costs other test runs nothing.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tinygen.device.runner import DeviceSession, RunResult
    from tinygen.hil.report import Mismatch
    from tinygen.ir.graph import Graph

DEFAULT_BOARD = "mps2-an386"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tinygen", "tinygen hardware in the loop")
    group.addoption("--tinygen-board", default=None, help=f"Board name or file [default: {DEFAULT_BOARD}].")
    group.addoption("--tinygen-port", default=None,
                    help="Serial URL of the board (/dev/ttyACM0, socket://HOST:PORT); default: QEMU.")
    group.addoption("--tinygen-model", default=None, type=Path, help="The .tflite model under test.")
    group.addoption("--tinygen-flash", action="store_true", help="Flash the firmware to the board at --tinygen-port first.")
    group.addoption("--tinygen-timeout", default=60.0, type=float, help="Seconds a board may stay silent.")


@dataclass
class HilDevice:
    """A board running the model under test, with its TFLite Micro twin."""

    board: str
    url: str
    model: Path
    graph: Graph
    session: DeviceSession
    reference: Any           # tinygen.reference.tflm.TflmReference

    def run(self, record: list) -> RunResult:
        import numpy as np

        return self.session.run([np.ascontiguousarray(x).tobytes() for x in record])

    def check(self, record: list) -> Mismatch | None:
        from tinygen.hil.check import first_mismatch

        run = self.run(record)
        expected = self.reference.run(record).outputs
        return first_mismatch(run.outputs, expected, [t.name for t in self.graph.output_tensors()])


@pytest.fixture(scope="session")
def tinygen_board(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("tinygen_board") or DEFAULT_BOARD


@pytest.fixture(scope="session")
def tinygen_model(request: pytest.FixtureRequest) -> Path:
    model = request.config.getoption("tinygen_model")
    if model is None:
        pytest.fail("no model under test: give --tinygen-model, or override the tinygen_model fixture")
    return Path(model)


@pytest.fixture(scope="session")
def tinygen_device(request: pytest.FixtureRequest, tinygen_model: Path, tinygen_board: str,
                   tmp_path_factory: pytest.TempPathFactory):
    from tinygen.boards.catalog import load_board
    from tinygen.device.emulator import start_emulator
    from tinygen.device.runner import DeviceSession
    from tinygen.jobs import build_for_board, read_model_source
    from tinygen.reference.tflm import TflmReference

    config = request.config
    port = config.getoption("tinygen_port")
    timeout_s = config.getoption("tinygen_timeout")
    source = read_model_source(tinygen_model)
    board = load_board(tinygen_board)
    with ExitStack() as stack:
        url = port
        if port is None or config.getoption("tinygen_flash"):
            outcome = build_for_board(tinygen_model, tinygen_board, tmp_path_factory.mktemp("tinygen-firmware"),
                                      source=source)
            if port is None:
                url = stack.enter_context(start_emulator(board, outcome.elf, timeout_s=24 * 3600)).serial_url
            else:
                from tinygen.device.flash import flasher_for

                flasher_for(board).flash(outcome.out_dir, outcome.elf, port)
        session = stack.enter_context(DeviceSession(url, timeout_s=timeout_s))
        hello = session.hello()
        if hello.sha256.hex() != source.graph.sha256:
            pytest.fail(f"the board at {url} runs model '{hello.model_name}', not {source.graph.name}: flash it first",
                        pytrace=False)
        yield HilDevice(board.name, url, Path(tinygen_model), source.graph, session,
                        TflmReference(source.data, preserve_all=False))
        if port is None:
            session.exit()
