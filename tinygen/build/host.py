"""Compile a generated model for the build machine and run it: the fast path of the tests.

The runtime kernels are compiled once into a static library, cached by the hash of their sources
and flags; each model then costs one compile of its own .c and the harness. `sanitize=True` builds
model, kernels and harness with AddressSanitizer and UndefinedBehaviorSanitizer (a kernel library
of its own); the first finding ends the run and is reported as one line.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tinygen.codegen.sources import GeneratedSources
from tinygen.errors import BuildError
from tinygen.resources import KERNELS_DIR, RUNTIME_DIR, RUNTIME_INCLUDE_DIR

HOST_CC = os.environ.get("TINYGEN_HOST_CC", "gcc")
WARNINGS = ("-Wall", "-Wextra", "-Werror")
BASE_CFLAGS = ("-std=c11", "-O2", *WARNINGS)
HARNESS = RUNTIME_DIR / "host" / "tg_host_main.c"
# The SMP runtime (tinygen/tg_smp.h) with its pthread port: in the kernel library, linked when a
# multicore model calls tg_smp_run.
SMP_SOURCES = (RUNTIME_DIR / "firmware" / "tg_smp.c", RUNTIME_DIR / "host" / "tg_smp_host.c")
COMPILE_TIMEOUT_S = 300
SANITIZE_CFLAGS = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g")
# Exit statuses the harness itself never uses, so a finding cannot pass for an ordinary failure.
SANITIZER_ENV = {"ASAN_OPTIONS": "detect_leaks=1:exitcode=86", "UBSAN_OPTIONS": "print_stacktrace=1:exitcode=87"}
INVOKE_FAILED = re.compile(r"invoke returned status (-?\d+)")


class InvokeStatusError(BuildError):
    """The model's invoke() returned a status other than TG_OK (e.g. a guard check failed)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def cache_root() -> Path:
    return Path(os.environ.get("TINYGEN_CACHE_DIR", Path.home() / ".cache" / "tinygen"))


@dataclass(frozen=True)
class HostBinary:
    path: Path
    input_bytes: tuple[int, ...]
    output_bytes: tuple[int, ...]
    sanitize: bool = False


@dataclass(frozen=True)
class HostRun:
    outputs: list[list[bytes]]                  # [record][output index]
    traces: dict[tuple[int, int], bytes]        # (record, tensor index) -> bytes after its op


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
    except FileNotFoundError:
        raise BuildError(f"host compiler '{cmd[0]}' not found; run setup.sh") from None
    except subprocess.TimeoutExpired:
        raise BuildError(f"host compile timed out after {COMPILE_TIMEOUT_S}s: {' '.join(cmd[:3])} ...") from None
    if proc.returncode != 0:
        first = next((line for line in proc.stderr.splitlines() if "error" in line), proc.stderr.strip()[:300])
        raise BuildError(f"host compile failed: {first}")


def kernel_library(extra_cflags: tuple[str, ...] = ()) -> Path:
    """libtg_kernels.a for the host, built once per set of kernel sources and flags."""
    sources = sorted(KERNELS_DIR.glob("*.c")) + list(SMP_SOURCES)
    headers = sorted(RUNTIME_INCLUDE_DIR.rglob("*.h")) + sorted(KERNELS_DIR.glob("*.h"))  # public and private
    digest = hashlib.sha256()
    for f in sources + headers:
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    digest.update(" ".join((HOST_CC, *BASE_CFLAGS, *extra_cflags)).encode())
    target = cache_root() / "host" / digest.hexdigest()[:16] / "libtg_kernels.a"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        objects = []
        for src in sources:
            obj = Path(tmp) / (src.stem + ".o")
            _run([HOST_CC, *BASE_CFLAGS, *extra_cflags, f"-I{RUNTIME_INCLUDE_DIR}", "-c", str(src), "-o", str(obj)])
            objects.append(str(obj))
        archive = Path(tmp) / "lib.a"
        _run(["ar", "rcs", str(archive), *objects])
        os.replace(archive, target)  # atomic: parallel test workers may race here
    return target


def build_host_binary(sources: GeneratedSources, work_dir: Path, input_bytes: tuple[int, ...],
                      output_bytes: tuple[int, ...], trace: bool = True,
                      extra_cflags: tuple[str, ...] = (), sanitize: bool = False) -> HostBinary:
    if sanitize:
        extra_cflags = (*SANITIZE_CFLAGS, *extra_cflags)
    work_dir.mkdir(parents=True, exist_ok=True)
    for rel, text in sources.files:
        (work_dir / rel).write_text(text)
    model_c = work_dir / f"{sources.model_name}.c"
    exe = work_dir / f"{sources.model_name}_host"
    flags = [*BASE_CFLAGS, *extra_cflags, f"-I{RUNTIME_INCLUDE_DIR}", f"-I{work_dir}",
             f"-DTG_MODEL_SYMBOL={sources.model_symbol}"]
    if trace:
        flags.append("-DTG_TRACE")
    _run([HOST_CC, *flags, str(model_c), str(HARNESS), str(kernel_library(tuple(extra_cflags))), "-pthread", "-o", str(exe)])
    return HostBinary(exe, input_bytes, output_bytes, sanitize)


def run_host_binary(binary: HostBinary, records: list[list[bytes]], trace: bool = True,
                    timeout_s: float = 600) -> HostRun:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        inputs = tmp_path / "inputs.bin"
        with inputs.open("wb") as f:
            for record in records:
                if tuple(len(x) for x in record) != binary.input_bytes:
                    raise ValueError(f"input record sizes {[len(x) for x in record]} != {list(binary.input_bytes)}")
                f.write(b"".join(record))
        outputs, traces = tmp_path / "outputs.bin", tmp_path / "trace.bin"
        cmd = [str(binary.path), str(inputs), str(outputs)] + ([str(traces)] if trace else [])
        env = {**os.environ, **SANITIZER_ENV} if binary.sanitize else None
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env)
        if proc.returncode != 0:
            failed = INVOKE_FAILED.search(proc.stderr)
            if failed:
                raise InvokeStatusError(f"{binary.path.name}: {failed.group(0)}", int(failed.group(1)))
            raise BuildError(f"host run of {binary.path.name} failed with {proc.returncode}: {_finding(proc.stderr)}")
        raw = outputs.read_bytes()
        per_record = sum(binary.output_bytes)
        results = []
        for r in range(len(records)):
            chunk, offset, outs = raw[r * per_record:(r + 1) * per_record], 0, []
            for size in binary.output_bytes:
                outs.append(chunk[offset:offset + size])
                offset += size
            results.append(outs)
        return HostRun(results, _parse_trace(traces.read_bytes()) if trace else {})


def _finding(stderr: str) -> str:
    """The line of a sanitizer report that says what happened, else the start of stderr."""
    for pattern in (r"^SUMMARY: .*$", r"^.*runtime error: .*$", r"^==\d+==ERROR: .*$"):
        found = re.search(pattern, stderr, re.MULTILINE)
        if found:
            return found.group(0).strip()
    return stderr.strip()[:300]


def _parse_trace(raw: bytes) -> dict[tuple[int, int], bytes]:
    traces: dict[tuple[int, int], bytes] = {}
    pos = 0
    while pos < len(raw):
        record, _op, tensor, size = (int.from_bytes(raw[pos + 4 * i:pos + 4 * i + 4], "little", signed=True)
                                     for i in range(4))
        pos += 16
        traces[(record, tensor)] = raw[pos:pos + size]
        pos += size
    return traces


def host_compiler_available() -> bool:
    return shutil.which(HOST_CC) is not None
