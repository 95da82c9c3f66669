"""A PlatformIO project: the firmware of one model for one board, built by `pio run`.

    <out>/platformio.ini                  official platform, board and framework (real boards), or
                                          tinygen's local dev-platform (emulated boards, offline)
    <out>/src/                            the serial application, the port, the framework's entry
    <out>/lib/<model>/                    the model's C library (library.py) with its library.json
    <out>/tinygen.json, .tinygen-project  the plan, the fit check, what was built

Real boards take a framework port (runtime_c/ports/arduino, espidf, zephyr); PlatformIO fetches the
platform, framework and toolchain from its registry on a connected machine. Emulated boards build
offline with the dev-platform in platformio/platform-tinygen (the Debian cross toolchains) and a
PlatformIO core directory of the project's own holding a local tool-scons.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import jinja2

from tinygen import __version__
from tinygen.boards.fit import Fit
from tinygen.boards.schema import Board
from tinygen.codegen.sources import GeneratedSources
from tinygen.errors import BoardError, BuildError
from tinygen.project.firmware import MARKER, refuse_foreign, replace_directory, staging_directory
from tinygen.project.library import write_library
from tinygen.resources import PLATFORMIO_DIR, RUNTIME_DIR, TEMPLATES_DIR
from tinygen.schedule.cores import CoreSplit, board_cores, split_facts

REGISTRY_HOST = "api.registry.platformio.org"
REGISTRY_TIMEOUT_S = 2.0
PIO_TIMEOUT_S = 1200
LOCAL_PLATFORM = "platform-tinygen"
OFFLINE_CORE_DIR = ".pio-core"
# The version PlatformIO 6.1+ asks for (platformio/dependencies.py: "~4.41101.0").
SCONS_PACKAGE_VERSION = "4.41101.0"
FRAMEWORK_PORTS = {"arduino": "arduino", "espidf": "espidf", "zephyr": "zephyr"}
# The framework owns the C library: our own memcpy & co. (tg_freestanding.c) would clash with it.
FREESTANDING_ONLY = {"tg_freestanding.c"}
PORT_SUFFIXES = {".c", ".cpp", ".h", ".S", ".ld"}


@dataclass(frozen=True)
class PlatformIOProject:
    root: Path
    board: str
    env_name: str
    framework: str | None     # None: tinygen's bare-metal port on the local dev-platform
    offline: bool             # buildable here, without PlatformIO's registry

    @property
    def elf(self) -> Path:
        return self.root / ".pio" / "build" / self.env_name / "firmware.elf"


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR / "platformio")),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)


def choose_framework(board: Board, requested: str | None) -> str | None:
    """The framework to build with: None for an emulated board's bare-metal port."""
    if board.platformio is None:
        if requested:
            raise BoardError(f"board '{board.name}' is built bare-metal; it takes no --framework")
        return None
    try:
        return board.platformio.choose_framework(requested)
    except ValueError as exc:
        raise BoardError(str(exc)) from None


def _port_of(board: Board, framework: str | None) -> str:
    if framework is None:
        return board.port
    port = FRAMEWORK_PORTS.get(framework)
    if port is None:
        raise BoardError(f"tinygen has no port for framework '{framework}' yet "
                         f"(it has: {', '.join(sorted(FRAMEWORK_PORTS))}); choose one with --framework")
    return port


def project_port(board: Board, framework: str | None) -> str:
    """The port a project for board (with the framework asked for, or the board's default) is built on."""
    return _port_of(board, choose_framework(board, framework))


def port_cores(board: Board, port: str, requested: int | None) -> int:
    """--cores where `port` runs the model (a framework's port, or the board's own bare-metal one):
    board_cores asked of that port instead of the board file's."""
    return board_cores(board.model_copy(update={"port": port}), requested)


def _copy(source: Path, destination: Path, skip: set[str] = frozenset()) -> list[Path]:
    destination.mkdir(parents=True, exist_ok=True)
    copied = []
    for path in sorted(source.iterdir()):
        if path.is_file() and path.suffix in PORT_SUFFIXES and path.name not in skip:
            shutil.copy2(path, destination / path.name)
            copied.append(destination / path.name)
    return copied


def board_json(board: Board) -> dict:
    """The board as PlatformIO describes one (boards/<name>.json), for tinygen's dev-platform."""
    return {
        "name": board.description,
        "vendor": board.vendor or "tinygen",
        "url": "https://www.qemu.org/docs/master/system/target-arm.html",
        "frameworks": [],
        "platforms": ["tinygen"],
        "build": {"cpu": board.core.cpu, "mcu": board.core.cpu, "f_cpu": f"{board.core.clock_hz}L",
                  "prefix": board.toolchain.prefix, "target_flags": list(board.toolchain.cflags),
                  "ldflags": list(board.toolchain.ldflags)},
        "upload": {"maximum_size": board.memory.flash_budget, "maximum_ram_size": board.ram_budget_bytes},
    }


def _write_offline_core(core_dir: Path) -> None:
    """A PlatformIO core directory whose only package is a tool-scons running the SCons installed
    beside tinygen (pip's `scons`): PlatformIO asks for tool-scons before any build and would
    otherwise fetch it from the registry."""
    package = core_dir / "packages" / "tool-scons"
    package.mkdir(parents=True, exist_ok=True)
    (package / "scons.py").write_text("import sys\n\nimport SCons.Script\n\nsys.exit(SCons.Script.main())\n",
                                      encoding="utf-8")
    (package / "package.json").write_text(json.dumps({"name": "tool-scons", "version": SCONS_PACKAGE_VERSION,
                                                      "description": "SCons from tinygen's Python environment"}),
                                          encoding="utf-8")
    (package / ".piopm").write_text(json.dumps({
        "type": "tool", "name": "tool-scons", "version": SCONS_PACKAGE_VERSION,
        "spec": {"owner": "platformio", "id": None, "name": "tool-scons", "requirements": None, "uri": None}}),
        encoding="utf-8")


def _populate(root: Path, board: Board, sources: GeneratedSources, framework: str | None, fit: Fit,
              core_split: CoreSplit | None) -> PlatformIOProject:
    port = _port_of(board, framework)
    port_dir = RUNTIME_DIR / "ports" / port
    if not port_dir.is_dir():
        raise BoardError(f"board '{board.name}' needs port '{port}', but runtime_c/ports/{port} does not exist")
    src = root / "src"
    _copy(RUNTIME_DIR / "firmware", src, skip=FREESTANDING_ONLY if framework else set())
    port_files = _copy(port_dir, src)
    board_header = port_dir / "boards" / f"{board.name}.h"  # a port serving several boards: what differs
    if board_header.is_file():
        shutil.copy2(board_header, src / "tg_board.h")
    write_library(root / "lib" / sources.model_name, sources)

    env_name = board.name
    baudrate = board.hil.baudrate if board.hil else 115200
    context = {"board": board, "model_name": sources.model_name, "model_symbol": sources.model_symbol,
               "tinygen_version": __version__, "env_name": env_name, "framework": framework, "port": port,
               "baudrate": baudrate, "cores": core_split.cores if core_split else 1}
    templates = _env()
    if framework is None:
        scripts = [p for p in port_files if p.suffix == ".ld"]
        if len(scripts) != 1:
            raise BoardError(f"port '{port}' must have exactly one linker script, found {len(scripts)}")
        firmware_templates = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR / "firmware")),
                                                undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        (src / "tg_memory.ld").write_text(firmware_templates.get_template("tg_memory.ld.j2").render(context),
                                          encoding="utf-8")
        (root / "boards").mkdir()
        (root / "boards" / f"{board.name}.json").write_text(json.dumps(board_json(board), indent=2) + "\n",
                                                           encoding="utf-8")
        context |= {"platform": f"symlink://{PLATFORMIO_DIR / LOCAL_PLATFORM}", "ldscript": f"src/{scripts[0].name}",
                    "core_dir": OFFLINE_CORE_DIR}
        _write_offline_core(root / OFFLINE_CORE_DIR)
        (root / "platformio.ini").write_text(templates.get_template("platformio_local.ini.j2").render(context),
                                             encoding="utf-8")
    else:
        assert board.platformio is not None
        context["platform"] = board.platformio.platform_url or board.platformio.platform
        (root / "platformio.ini").write_text(templates.get_template("platformio.ini.j2").render(context),
                                             encoding="utf-8")
        if framework == "arduino":
            (src / "main.cpp").write_text(templates.get_template("main_arduino.cpp.j2").render(context), encoding="utf-8")
        elif framework == "espidf":
            (src / "main.c").write_text(templates.get_template("main_espidf.c.j2").render(context), encoding="utf-8")
            (root / "CMakeLists.txt").write_text(templates.get_template("CMakeLists_espidf.txt.j2").render(context),
                                                 encoding="utf-8")
            (src / "CMakeLists.txt").write_text(templates.get_template("src_CMakeLists_espidf.txt.j2").render(context),
                                                encoding="utf-8")
            (root / "sdkconfig.defaults").write_text(templates.get_template("sdkconfig_espidf.defaults.j2").render(context),
                                                     encoding="utf-8")
        elif framework == "zephyr":
            (root / "zephyr").mkdir()
            (root / "zephyr" / "CMakeLists.txt").write_text(
                templates.get_template("zephyr_CMakeLists.txt.j2").render(context), encoding="utf-8")
            (root / "zephyr" / "prj.conf").write_text(templates.get_template("zephyr_prj.conf.j2").render(context),
                                                      encoding="utf-8")
    manifest = {"tinygen_version": __version__, "model": sources.model_name, "board": board.name,
                "framework": framework, "port": port, "env": env_name, "arena_bytes": sources.arena_bytes,
                "fit": fit.to_json(), **split_facts(core_split)}
    (root / "tinygen.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (root / MARKER).write_text(f"tinygen {__version__} PlatformIO project for {board.name}\n", encoding="utf-8")
    return PlatformIOProject(root, board.name, env_name, framework, offline=framework is None)


def write_platformio_project(out_dir: Path, board: Board, sources: GeneratedSources, fit: Fit,
                             framework: str | None = None, core_split: CoreSplit | None = None) -> PlatformIOProject:
    """Write the project (replacing an earlier tinygen project in out_dir), all or nothing. core_split:
    the sources' split across cores (None: one core); src/ always carries the SMP runtime (tg_smp.c)
    and the port's tg_<port>_smp.c, which start the other cores."""
    out_dir = Path(out_dir).resolve()
    chosen = choose_framework(board, framework)
    refuse_foreign(out_dir)
    staging = staging_directory(out_dir, ".tmp")
    try:
        staging.chmod(0o755)
        project = _populate(staging, board, sources, chosen, fit, core_split)
        replace_directory(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return PlatformIOProject(out_dir, project.board, project.env_name, project.framework, project.offline)


# --- building -----------------------------------------------------------------------------------

def registry_address() -> tuple[str, int]:
    """PlatformIO's registry, or TINYGEN_PIO_REGISTRY=host:port (a mirror; or, in tests, a closed port)."""
    host, _, port = os.environ.get("TINYGEN_PIO_REGISTRY", f"{REGISTRY_HOST}:443").rpartition(":")
    return host, int(port)


def registry_reachable(timeout_s: float = REGISTRY_TIMEOUT_S) -> bool:
    """One quick look (name lookup and TCP connect, both within timeout_s): PlatformIO itself
    retries an unreachable registry for about a minute per package."""
    outcome: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection(registry_address(), timeout=timeout_s):
                outcome.append(True)
        except OSError:
            outcome.append(False)

    thread = threading.Thread(target=probe, daemon=True)  # getaddrinfo has no timeout of its own
    thread.start()
    thread.join(timeout_s)
    return bool(outcome and outcome[0])


def pio_command(project: PlatformIOProject) -> list[str]:
    return [sys.executable, "-m", "platformio", "run", "-d", str(project.root)]


def _pio_environment() -> dict[str, str]:
    env = dict(os.environ)
    # No telemetry, no upgrade check: both would reach for the network.
    env.update({"PLATFORMIO_SETTING_ENABLE_TELEMETRY": "No", "PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL": "3650",
                "PLATFORMIO_SETTING_CHECK_PRUNE_SYSTEM_THRESHOLD": "0", "PLATFORMIO_NO_ANSI": "true"})
    return env


def run_pio(project: PlatformIOProject, timeout_s: float = PIO_TIMEOUT_S) -> Path:
    """`pio run` in the project; the ELF, or a BuildError with the first error line. The log is
    kept in <project>/pio-run.log."""
    log = project.root / "pio-run.log"
    try:
        proc = subprocess.run(pio_command(project), cwd=project.root, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout_s, env=_pio_environment())
    except subprocess.TimeoutExpired:
        raise BuildError(f"pio run timed out after {timeout_s:g} s in {project.root}") from None
    log.write_text(proc.stdout, encoding="utf-8")
    if proc.returncode != 0:
        lines = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
        first = next((line for line in lines if "rror" in line), lines[-1] if lines else "no output")
        raise BuildError(f"pio run failed: {first} (full log: {log})")
    if not project.elf.is_file():
        raise BuildError(f"pio run succeeded but produced no {project.elf} (log: {log})")
    return project.elf
