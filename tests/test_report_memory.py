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
