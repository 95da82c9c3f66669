"""The `tinygen hil` job: a board running the model's firmware, its test vectors streamed over the
serial line, every output compared with TFLite Micro bit for bit.

The board is either an emulated one that this job builds and starts (QEMU, killed when the job
ends however it ends) or one already running the firmware behind a serial URL (a USB port, or
`tinygen emulate`'s socket://). Either way it must say it runs this very model (its sha256).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinygen.boards.catalog import load_board
from tinygen.device.emulator import start_emulator
from tinygen.device.faultproxy import FaultyLine, LineFaults, parse_socket_url
from tinygen.device.flash import flasher_for
from tinygen.device.runner import DeviceSession, InvokeError
from tinygen.device.status import describe_status
from tinygen.errors import DeviceError
from tinygen.jobs import Announce, build_for_board, read_model_source
from tinygen.hil.report import HilReport, Mismatch, VectorOutcome
from tinygen.hil.vectors import load_vectors
from tinygen.reference.tflm import TflmReference


@dataclass(frozen=True)
class HilOptions:
    port: str | None = None          # None: build the firmware and start it in QEMU
    out_dir: Path | None = None      # build directory (emulated boards)
    timeout_s: float = 60.0          # the longest one request may go unanswered
    line_faults: LineFaults | None = None
    exit_after: bool | None = None   # send EXIT at the end; default: only to a board this job started
    flash: bool = False              # with a port: build and flash the firmware first (tinygen/device/flash.py)


def first_mismatch(device: list[bytes], expected: tuple[np.ndarray, ...], names: list[str]) -> Mismatch | None:
    for blob, theirs, name in zip(device, expected, names):
        theirs = np.ascontiguousarray(theirs)
        mine = np.frombuffer(blob, dtype=theirs.dtype).reshape(theirs.shape)
        if mine.tobytes() == theirs.tobytes():
            continue
        differs = np.frombuffer(mine.tobytes(), np.uint8) != np.frombuffer(theirs.tobytes(), np.uint8)
        flat = int(np.argmax(differs)) // theirs.dtype.itemsize
        index = tuple(int(i) for i in np.unravel_index(flat, theirs.shape))
        return Mismatch(name, index, mine[index].item(), theirs[index].item())
    return None


def check_model(model: Path, board_name: str, vectors_path: Path, options: HilOptions = HilOptions(),
                announce: Announce = lambda m: None,
                on_vector: Callable[[VectorOutcome], None] = lambda v: None,
                on_start: Callable[[int], None] = lambda count: None) -> HilReport:
    """Bad input raises before anything runs; once the board is up, failures land in the report."""
    source = read_model_source(model)
    graph = source.graph
    records = load_vectors(vectors_path, graph)
    board = load_board(board_name)
    reference = TflmReference(source.data, preserve_all=False)
    names = [t.name for t in graph.output_tensors()]
    report = HilReport(graph.name, board.name, options.port or "qemu", len(records),
                       "instructions" if board.qemu is not None else "cycles",
                       line_faults=vars(options.line_faults) if options.line_faults else None)
    with ExitStack() as stack:
        url = options.port
        if url is None and board.qemu is None:
            raise DeviceError(f"board '{board.name}' is not emulated: give the --port it is on (and --flash)")
        if url is not None and options.flash:
            flasher = flasher_for(board)  # before minutes of building: a board without one is refused now
            built = build_for_board(model, board_name, options.out_dir, announce, source=source)
            announce(f"flashing {built.elf} to {url} with {flasher.name}")
            flasher.flash(built.out_dir, built.elf, url)
        if url is None:
            elf = build_for_board(model, board_name, options.out_dir, announce, source=source).elf
            # A backstop only (the session's own timeouts end a silent board, and leaving this
            # block kills QEMU): generous, since a noisy line may take minutes per vector.
            wall = options.timeout_s * (len(records) + 2) * 20
            url = stack.enter_context(start_emulator(board, elf, timeout_s=wall)).serial_url
        if options.line_faults is not None:
            url = stack.enter_context(FaultyLine(parse_socket_url(url), options.line_faults)).url
        session = stack.enter_context(DeviceSession(url, timeout_s=options.timeout_s))
        announce(f"checking {len(records)} vector(s) on {board.name} at {options.port or 'QEMU'}")
        on_start(len(records))
        try:
            hello = session.hello()
            if hello.sha256.hex() != graph.sha256:
                raise DeviceError(f"the board runs model '{hello.model_name}' ({hello.sha256.hex()[:12]}), "
                                  f"not {graph.name} ({graph.sha256[:12]}): flash it first")
            for index, record in enumerate(records):
                try:
                    run = session.run([np.ascontiguousarray(x).tobytes() for x in record])
                except InvokeError as exc:
                    raise DeviceError(f"vector {index}: {describe_status(exc.status, graph)}") from None
                expected = reference.run(record).outputs
                outcome = VectorOutcome(index, run.instructions, first_mismatch(run.outputs, expected, names))
                report.vectors.append(outcome)
                on_vector(outcome)
            if options.exit_after if options.exit_after is not None else options.port is None:
                try:
                    session.exit()
                except DeviceError:
                    pass  # every vector is in; QEMU is killed on the way out anyway
        except DeviceError as exc:
            report.error = " ".join(str(exc).split())
        except KeyboardInterrupt:
            report.error, report.interrupted = "interrupted (Ctrl-C)", True
        finally:
            report.link = session.stats.to_json()
    return report
