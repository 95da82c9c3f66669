"""PlatformIO projects: a real board's project names the official platform and compiles (on the
host stand-in for Xtensa); without the registry the project is kept and one line says what to
run; an emulated board's project builds offline with `pio run` and runs bit-exact in QEMU."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from platformio.package.manifest.parser import ManifestParserFactory
from platformio.package.manifest.schema import ManifestSchema
from platformio.project.config import ProjectConfig

from board_compile import COMPILER_RUNTIME_CALLS, compile_objects, defined_symbols
from conftest import DIGITS_MODEL, mlperf_model
from test_bad_input import assert_one_line_error, tinygen
from tinygen.boards.catalog import list_boards, load_board
from tinygen.boards.fit import measure_fit
from tinygen.errors import BoardError
from tinygen.compiler import compile_file
from tinygen.project.platformio import registry_reachable, write_platformio_project
from tinygen.device.emulator import start_emulator
from tinygen.device.runner import DeviceSession
from tinygen.frontend.tflite_reader import parse_tflite
from tinygen.inputs import random_records
from tinygen.reference.tflm import TflmReference


@pytest.fixture(autouse=True)
def no_registry(monkeypatch):
    """As on tinygen's machines, on any machine: real boards' projects are written, not built
    (building them would install a platform and toolchain from the registry, for minutes)."""
    monkeypatch.setenv("TINYGEN_PIO_REGISTRY", "127.0.0.1:9")  # a closed port


def _build(tmp_path: Path, model: Path, board: str, *extra: str) -> tuple[Path, object]:
    out = tmp_path / f"{board}-project"
    started = time.monotonic()
    proc = tinygen("build", str(model), "--board", board, "-o", str(out), *extra)
    return out, (proc, time.monotonic() - started)


def test_esp32s3_project_names_the_official_platform_and_compiles_on_the_host(tmp_path):
    """The issue's "done when": kws for esp32s3 is a PlatformIO project for espressif32 whose
    library and firmware compile (host gcc -m32 standing in for the Xtensa compiler)."""
    out, (proc, seconds) = _build(tmp_path, mlperf_model("kws"), "esp32s3")
    assert proc.returncode == 0, proc.stderr
    config = ProjectConfig(str(out / "platformio.ini"))
    assert config.envs() == ["esp32s3"]
    assert config.get("env:esp32s3", "platform") == "espressif32"
    assert config.get("env:esp32s3", "board") == "esp32-s3-devkitc-1"
    assert config.get("env:esp32s3", "framework") == ["arduino"]
    assert config.get("env:esp32s3", "lib_deps") == ["kws_dscnn_int8"]
    manifest = ManifestParserFactory.new_from_file(str(out / "lib" / "kws_dscnn_int8" / "library.json")).as_dict()
    assert ManifestSchema().load_manifest(manifest)["name"] == "kws_dscnn_int8"
    # the framework's libc is the only memcpy: ours is not in the project
    assert not (out / "src" / "tg_freestanding.c").exists()
    assert (out / "src" / "main.cpp").read_text().count("tg_firmware_main()") == 1

    lib_src = out / "lib" / "kws_dscnn_int8" / "src"
    library = [*sorted(lib_src.glob("*.c")), *sorted((lib_src / "kernels").glob("*.c"))]
    firmware = [out / "src" / name for name in ("tg_firmware.c", "tg_crc32.c", "tg_calibrate.c")]
    board = load_board("esp32s3")
    objects = compile_objects(board, library, [lib_src], tmp_path / "obj-lib")
    objects += compile_objects(board, firmware, [lib_src, out / "src"], tmp_path / "obj-fw",
                               defines=("TG_FIRMWARE_MAIN=tg_firmware_main", "TG_MODEL_SYMBOL=kws_dscnn_int8_model"))
    defined = defined_symbols(board, objects)
    assert {"kws_dscnn_int8_invoke", "kws_dscnn_int8_model", "tg_firmware_main"} <= defined
    assert "main" not in defined and not (defined & COMPILER_RUNTIME_CALLS)


def test_unreachable_registry_keeps_the_project_and_says_what_to_run(tmp_path):
    assert not registry_reachable()
    out, (proc, seconds) = _build(tmp_path, DIGITS_MODEL, "nucleo-h743zi2")
    assert proc.returncode == 0, proc.stderr
    notice = [line for line in proc.stderr.splitlines() if line.startswith("tinygen: not built:")]
    assert len(notice) == 1 and f"pio run -d {out}" in notice[0] and "ststm32" in notice[0]
    assert seconds < 20  # one quick probe, not PlatformIO's minute of retries
    assert (out / "platformio.ini").is_file() and (out / "lib" / "digits_cnn_int8" / "library.json").is_file()


@pytest.fixture(scope="module")
def digits():
    return compile_file(DIGITS_MODEL)


def _project(tmp_path: Path, compiled, board_name: str, framework: str | None = None):
    board = load_board(board_name)
    return write_platformio_project(tmp_path / board_name, board, compiled.sources,
                                    measure_fit(board, compiled.graph, compiled.plan), framework)


def test_frameworks_the_board_offers(tmp_path, digits):
    espidf = _project(tmp_path, digits, "esp32c3", "espidf").root
    assert ProjectConfig(str(espidf / "platformio.ini")).get("env:esp32c3", "framework") == ["espidf"]
    assert "app_main" in (espidf / "src" / "main.c").read_text()
    assert (espidf / "CMakeLists.txt").is_file() and (espidf / "src" / "tg_espidf_port.c").is_file()

    zephyr = _project(tmp_path, digits, "nrf5340dk").root
    assert ProjectConfig(str(zephyr / "platformio.ini")).get("env:nrf5340dk", "framework") == ["zephyr"]
    assert "CONFIG_CONSOLE_GETCHAR=y" in (zephyr / "zephyr" / "prj.conf").read_text()
    assert "CONFIG_ESP_CONSOLE_NONE=y" in (espidf / "sdkconfig.defaults").read_text()

    pico2 = ProjectConfig(str(_project(tmp_path, digits, "pico2").root / "platformio.ini"))
    assert pico2.get("env:pico2", "platform").startswith("https://")  # not in the official registry

    with pytest.raises(BoardError, match="framework 'zephyr' is not offered for PlatformIO board 'esp32-s3-devkitc-1'"):
        _project(tmp_path, digits, "esp32s3", "zephyr")
    with pytest.raises(BoardError, match="no port for framework 'stm32cube'"):
        _project(tmp_path, digits, "nucleo-l4r5zi", "stm32cube")
    assert not (tmp_path / "esp32s3").exists() and not (tmp_path / "nucleo-l4r5zi").exists()


REAL = [b.name for b in list_boards() if not b.emulated]
ENTRY_POINT = {"arduino": "main.cpp", "espidf": "main.c", "zephyr": None}


@pytest.mark.parametrize("board_name", REAL)
def test_every_real_board_gets_a_project_platformio_reads(tmp_path, digits, board_name):
    board = load_board(board_name)
    project = _project(tmp_path, digits, board_name)
    env = f"env:{board_name}"
    config = ProjectConfig(str(project.root / "platformio.ini"))
    assert config.get(env, "platform") == (board.platformio.platform_url or board.platformio.platform)
    assert config.get(env, "board") == board.platformio.board
    assert config.get(env, "framework") == [board.platformio.framework]
    assert config.get(env, "monitor_speed") == board.hil.baudrate
    entry = ENTRY_POINT[project.framework]
    assert entry is None or (project.root / "src" / entry).is_file()
    assert (project.root / "src" / "tg_firmware.c").is_file() and not (project.root / "src" / "tg_freestanding.c").exists()
    library = ManifestParserFactory.new_from_file(str(project.root / "lib" / "digits_cnn_int8" / "library.json"))
    assert ManifestSchema().load_manifest(library.as_dict())["headers"] == ["digits_cnn_int8.h"]
    fit = json.loads((project.root / "tinygen.json").read_text())["fit"]
    assert fit["fits"] and fit["ram_budget_bytes"] == board.ram_budget_bytes


def test_a_wrong_framework_is_one_error_line(tmp_path):
    proc = _build(tmp_path, DIGITS_MODEL, "esp32s3", "--framework", "zephyr")[1][0]
    assert_one_line_error(proc, "framework 'zephyr' is not offered")


def test_running_a_real_board_says_how_it_is_built(tmp_path):
    proc = tinygen("run", str(DIGITS_MODEL), "--board", "nano33ble", "-o", str(tmp_path / "run"))
    assert_one_line_error(proc, "board 'nano33ble' is built by PlatformIO with a framework (arduino)")
    assert not (tmp_path / "run").exists()


def test_model_too_big_for_the_board_is_refused_before_writing(tmp_path):
    out, (proc, _) = _build(tmp_path, mlperf_model("vww"), "hifive1-revb")
    assert_one_line_error(proc, "does not fit board 'hifive1-revb'")
    assert "B over" in proc.stderr and "best plan tried" in proc.stderr
    assert not out.exists()


def _run_bit_exact(board_name: str, elf: Path, model: Path, count: int = 2) -> list[int]:
    data = model.read_bytes()
    graph = parse_tflite(data, name=model.stem)
    reference = TflmReference(data, preserve_all=False)
    instructions = []
    with start_emulator(load_board(board_name), elf, timeout_s=60) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=60) as session:
            assert session.hello().sha256.hex() == graph.sha256
            for record in random_records(graph, count, 0):
                run = session.run([np.ascontiguousarray(x).tobytes() for x in record])
                expected = [np.ascontiguousarray(x).tobytes() for x in reference.run(record).outputs]
                assert run.outputs == expected
                instructions.append(run.instructions)
            session.exit()
        assert emulator.wait(10.0) == 0
    return instructions


@pytest.mark.qemu
@pytest.mark.slow
@pytest.mark.parametrize("board_name,port", [("mps2-an386", "mps2"), ("riscv32-virt", "riscv")])
def test_pio_run_builds_an_emulated_board_offline_and_it_runs_bit_exact(tmp_path, board_name, port):
    """One Arm and one RISC-V board: `pio run` with tinygen's dev-platform, then QEMU vs TFLM."""
    out, (proc, _) = _build(tmp_path, DIGITS_MODEL, board_name, "--platformio")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "tinygen.json").read_text())
    assert manifest["framework"] is None and manifest["port"] == port
    elf = out / ".pio" / "build" / board_name / "firmware.elf"
    assert elf.is_file() and "[SUCCESS]" in (out / "pio-run.log").read_text()
    assert f"firmware: {elf} (flash " in " ".join(proc.stdout.split())
    assert all(n > 0 for n in _run_bit_exact(board_name, elf, DIGITS_MODEL))


EMULATED = [b.name for b in list_boards() if b.emulated]


@pytest.mark.long
@pytest.mark.qemu
@pytest.mark.parametrize("board_name", EMULATED)
def test_pio_run_builds_every_emulated_board_and_it_runs_bit_exact(tmp_path, board_name):
    out, (proc, _) = _build(tmp_path, DIGITS_MODEL, board_name, "--platformio")
    assert proc.returncode == 0, proc.stderr
    elf = out / ".pio" / "build" / board_name / "firmware.elf"
    counts = _run_bit_exact(board_name, elf, DIGITS_MODEL)
    print(f"{board_name}: instructions {counts}")
