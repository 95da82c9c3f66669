"""The memory report: `tinygen inspect --json --html`, its facts, and the HTML opened in headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import mlperf_model
from test_planner import ARENA_BYTES, TFLM_PLAN_BYTES

# The kernels that run over their own input on the M4: the portable in-place kernels and their DSP forms
# (the in-place 1x1 conv's DSP forms, the packed FC or the wide conv, copy each pixel before writing it).
IN_PLACE_KERNELS = {"tg_depthwise_conv_s8_inplace", "tg_conv_1x1_s8_inplace", "tg_depthwise_conv_s8_inplace_dsp",
                    "tg_depthwise_conv_s8_inplace_dsp_rows", "tg_depthwise_conv_s8_lines_dsp",
                    "tg_fully_connected_s8_dsp_packed_inplace", "tg_fully_connected_s8_dsp_packed8_inplace",
                    "tg_fully_connected_s8_dsp_pair_inplace",
                    "tg_conv_s8_wide"}

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
# The plot's live-bytes fill, #4c72b0 at alpha 0.6 over white: no other part of the page has this colour.
FILL_RGB = np.array([148, 170, 208])


@pytest.fixture(scope="module")
def kws_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    html = out / "kws.html"
    proc = subprocess.run([sys.executable, "-m", "tinygen.cli", "inspect", str(mlperf_model("kws")), "--json",
                           "--html", str(html)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["memory"], html


def test_the_facts_per_step(kws_report):
    memory, _ = kws_report
    assert memory["tflm_plan_bytes"] == TFLM_PLAN_BYTES["kws"]
    assert memory["arena_bytes"] == ARENA_BYTES["kws"] and memory["lower_bound_bytes"] <= memory["arena_bytes"]
    steps = memory["steps"]
    assert [s["step"] for s in steps] == list(range(len(steps))) and len(steps) >= 12
    # Every step's live bytes are the sum of the buffers alive there. On KWS buffers share bytes under
    # the kernels' overlap contracts, so the arena is smaller than the busiest step's sum.
    assert memory["arena_bytes"] < max(s["live_bytes"] for s in steps)
    sizes = {b["label"]: b["bytes"] for b in memory["buffers"]}
    for s in steps:
        assert s["live_bytes"] == sum(sizes[label] for label in s["alive"])
    assert steps[0]["operator"].endswith("CONV_2D") and steps[0]["kernel"].startswith("tg_conv_s8")


def _screenshot(tmp_path: Path, html: Path) -> np.ndarray:
    import matplotlib.image

    chromium = shutil.which("chromium")
    assert chromium, "chromium is installed by setup.sh"
    shot = tmp_path / f"{html.stem}.png"
    proc = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           f"--screenshot={shot}", "--window-size=1100,1000", html.resolve().as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert shot.is_file(), proc.stderr[-2000:]
    return (matplotlib.image.imread(shot)[:, :, :3] * 255).round()


def _fill_pixels(image: np.ndarray) -> int:
    return int((np.abs(image - FILL_RGB).max(axis=2) <= 6).sum())


def test_the_html_report_shows_the_plot_in_chromium(kws_report, tmp_path):
    _, html = kws_report
    text = html.read_text(encoding="utf-8")
    assert text.count("data:image/png;base64,") == 1 and "<script" not in text  # one self-contained file
    image = _screenshot(tmp_path, html)
    assert image.std() > 10  # not a blank page
    assert _fill_pixels(image) > 5_000  # the plot's live-bytes area is drawn on screen
    # The same page without the image shows no such pixels: the check above sees the plot, not the page.
    broken = tmp_path / "broken.html"
    start = text.index("data:image/png;base64,")
    broken.write_text(text[:start] + text[text.index('"', start):], encoding="utf-8")
    assert _fill_pixels(_screenshot(tmp_path, broken)) < 50


def test_kws_in_place_kernels_and_overlaps_per_step(kws_report):
    memory, html = kws_report
    steps, buffers = memory["steps"], {b["label"]: b for b in memory["buffers"]}
    assert memory["patch"]["plan"] == "none" and all(s["patch_iteration"] is None for s in steps)
    in_place = [s for s in steps if s["in_place"]]
    assert len(in_place) >= 4  # the depthwise/pointwise pairs of DS-CNN run over their own input
    for s in in_place:
        assert s["kernel"] in IN_PLACE_KERNELS
        (o,) = [o for o in s["overlaps"] if o["in_place"]]
        # The offsets are the plan's, the contract (output at most 0 bytes above the input; the lines
        # depthwise's: whole pixels below it, down to its lag) the kernel's.
        assert o["input_offset"] == buffers[o["input"]]["offset"] == o["output_offset"] == buffers[o["output"]]["offset"]
        assert o["max_delta"] == 0 and o["shares_bytes"]
        assert o["min_delta"] in (None, 0) or (o["multiple_of"] > 1 and o["min_delta"] % o["multiple_of"] == 0)
        assert o["input"] in s["alive"] and o["output"] in s["alive"]
    for s in steps:
        if s["kernel"] not in IN_PLACE_KERNELS:
            assert not s["in_place"]
        for o in s["overlaps"]:
            assert o["delta"] == o["output_offset"] - o["input_offset"]
            # a taken overlap obeys its contract
            on_lattice = (o["max_delta"] - o["delta"]) % o["multiple_of"] == 0
            assert not o["shares_bytes"] or (o["delta"] <= o["max_delta"] and on_lattice)
        # Occupied bytes count shared bytes once: never more than the sum, nor than the arena.
        assert s["occupied_bytes"] <= min(s["live_bytes"], memory["arena_bytes"])
        if any(o["shares_bytes"] for o in s["overlaps"]):
            assert s["occupied_bytes"] < s["live_bytes"]
    assert memory["peak_occupied_bytes"] == max(s["occupied_bytes"] for s in steps) <= memory["arena_bytes"]
    text = html.read_text(encoding="utf-8")
    assert "in place: " in text and "max_delta 0" in text and "none (whole tensors)" in text


def test_vww_patch_stage_per_step():
    proc = subprocess.run([sys.executable, "-m", "tinygen.cli", "inspect", str(mlperf_model("vww")), "--json",
                           "--patch", "4:8x8"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    memory = out["memory"]
    patch, steps = memory["patch"], memory["steps"]
    assert patch["plan"] == out["patch"] == "4:8x8" and patch["mac_overhead"] == out["mac_overhead"] > 0
    assert patch["grid"] == [8, 8] and patch["patches"] == 64 and patch["operators"] == 4
    assert patch["extra_macs"] == patch["stage_macs"] - patch["whole_macs"] > 0
    stage = [s for s in steps if s["patch_iteration"] is not None]
    # The stage comes first, patch after patch in order, then the rest of the model runs on whole tensors.
    assert len(stage) == patch["steps"] and steps[:len(stage)] == stage
    assert [s["patch_iteration"] for s in stage] == sorted(s["patch_iteration"] for s in stage)
    assert {s["patch_iteration"] for s in stage} == set(range(64))
    assert len(steps) > len(stage)
    # The stage's whole output lies over its whole input under the stage's contract (min_delta given).
    stage_overlaps = [o for s in stage for o in s["overlaps"]]
    assert stage_overlaps and all(o["min_delta"] is not None and o["min_delta"] <= o["delta"] <= o["max_delta"]
                                  for o in stage_overlaps if o["shares_bytes"])
    assert any(o["shares_bytes"] for o in stage_overlaps)
    for s in steps:
        assert s["occupied_bytes"] <= min(s["live_bytes"], memory["arena_bytes"])
