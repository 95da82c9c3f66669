"""The static split across cores (tinygen/schedule/cores.py), run on the host with the pthread port of
the SMP runtime: every tensor bit-exact against TFLite Micro (trace builds), the outputs of the
build without traces too (its only barriers are the split's), and the barriers exactly where a core
would otherwise touch bytes another core wrote or read."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conftest import mlperf_model
from tinygen.boards.catalog import load_board
from tinygen.build.host import build_host_binary, run_host_binary
from tinygen.errors import PlanError
from tinygen.kernels.channel_slices import CHANNEL_SLICES
from tinygen.compiler import compile_bytes
from tinygen.reference.tflm import TflmReference
from tinygen.schedule.cores import (
    COPY_ARENA_FRACTION, SPLIT_MIN_COST, Access, CoreSplit, balanced_spans, check_no_cross_core_race, step_cost,
    view_intervals,
)
from tinygen.schedule.ir import Loop, Step, View
from tinygen.schedule.patches import PatchRequest
from tinygen.testing.compare import compare_on_host, random_inputs
from tinygen.testing.model_builder import (
    ModelBuilder, accumulator_output_scale, random_bias, random_int8, random_scale,
)


def chain_model(seed: int, h: int, w: int, c: int = 8) -> bytes:
    """CONV 3x3 SAME -> ADD (itself) -> DEPTHWISE 3x3 stride 2 SAME -> MAX_POOL 2x2 stride 1 VALID:
    bands of rows through windows with halos, an elementwise range split, uneven heights."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    in_scale = random_scale(rng)
    x = b.tensor([1, h, w, 4], scale=in_scale, zero_point=int(rng.integers(-100, 100)))
    w_scales = [random_scale(rng, 0.002, 0.02) for _ in range(c)]
    conv_scale = accumulator_output_scale(rng, in_scale, max(w_scales), 9 * 4)
    weights = b.tensor([c, 3, 3, 4], scale=w_scales, data=random_int8(rng, (c, 3, 3, 4)))
    bias = b.tensor([c], dtype=np.int32, scale=np.float32(in_scale) * np.asarray(w_scales, dtype=np.float32),
                    data=random_bias(rng, c))
    y1 = b.tensor([1, h, w, c], scale=conv_scale, zero_point=int(rng.integers(-50, 50)))
    b.op("CONV_2D", [x, weights, bias], [y1], padding="SAME", strideH=1, strideW=1,
         dilationHFactor=1, dilationWFactor=1, fusedActivationFunction="NONE")
    y2 = b.tensor([1, h, w, c], scale=conv_scale * 1.7, zero_point=int(rng.integers(-50, 50)))
    b.op("ADD", [y1, y1], [y2], fusedActivationFunction="NONE")
    dh, dw = (h + 1) // 2, (w + 1) // 2
    d_scales = [random_scale(rng, 0.005, 0.03) for _ in range(c)]
    d_weights = b.tensor([1, 3, 3, c], scale=d_scales, quant_axis=3, data=random_int8(rng, (1, 3, 3, c)))
    d_bias = b.tensor([c], dtype=np.int32, scale=np.float32(conv_scale * 1.7) * np.asarray(d_scales, dtype=np.float32),
                      data=random_bias(rng, c, magnitude=3000))
    y3 = b.tensor([1, dh, dw, c], scale=accumulator_output_scale(rng, conv_scale * 1.7, max(d_scales), 9),
                  zero_point=int(rng.integers(-50, 50)))
    b.op("DEPTHWISE_CONV_2D", [y2, d_weights, d_bias], [y3], padding="SAME", strideH=2, strideW=2,
         dilationHFactor=1, dilationWFactor=1, depthMultiplier=1, fusedActivationFunction="RELU")
    y4 = b.tensor([1, dh - 1, dw - 1, c], scale=b.tensors[y3].quantization.scale[0],
                  zero_point=int(b.tensors[y3].quantization.zeroPoint[0]))
    b.op("MAX_POOL_2D", [y3], [y4], padding="VALID", strideH=1, strideW=1, filterHeight=2, filterWidth=2,
         fusedActivationFunction="NONE")
    return b.build([x], [y4])


def assert_split_bit_exact(tmp_path, model_bytes: bytes, cores: int, patch: str = "none", count: int = 2,
                           grow_arena: bool = False, board: str | None = None):
    compiled = compile_bytes(model_bytes, name="m", cores=cores, patch=PatchRequest.parse(patch), grow_arena=grow_arena,
                             board=load_board(board) if board else None)
    assert compiled.cores == cores
    records = random_inputs(compiled, count, seed=cores)
    traced = compare_on_host(model_bytes, tmp_path / f"trace{cores}", records=records, compiled=compiled)
    assert not traced.mismatches, "\n".join(traced.mismatches[:5])
    assert traced.tensors_compared >= count * len(compiled.graph.operators)
    # The build without traces has only the split's own barriers: its outputs too.
    binary = build_host_binary(compiled.sources, tmp_path / f"plain{cores}", compiled.input_bytes,
                               compiled.output_bytes, trace=False)
    run = run_host_binary(binary, [[np.ascontiguousarray(x).tobytes() for x in r] for r in records], trace=False)
    reference = TflmReference(model_bytes, preserve_all=False)
    for r, record in enumerate(records):
        expected = reference.run(record, []).outputs
        for i, out in enumerate(expected):
            assert run.outputs[r][i] == np.asarray(out).astype(np.int8).tobytes(), f"record {r} output {i}"
    return compiled


def split_kinds(compiled) -> set[str]:
    return {s.how for s in compiled.core_split.items}


# ---- one core: exactly today's code ---------------------------------------------------------------

def test_one_core_generates_the_single_core_code():
    model = mlperf_model("kws").read_bytes()
    plain, one = compile_bytes(model, name="kws"), compile_bytes(model, name="kws", cores=1)
    assert plain.sources.files == one.sources.files
    assert one.core_split is None and one.cores == 1
    assert all("tg_smp" not in text for _, text in one.sources.files)


# ---- bit-exact on the host --------------------------------------------------------------------------

@pytest.mark.parametrize("cores", [2, 3, 4])
def test_kws_split_bit_exact_every_tensor(tmp_path, cores):
    compiled = assert_split_bit_exact(tmp_path, mlperf_model("kws").read_bytes(), cores)
    assert "rows" in split_kinds(compiled)
    source = dict(compiled.sources.files)["m.c"]
    assert "static void m_core(unsigned core, void *ctx)" in source and "tg_smp_run(m_core, NULL" in source


@pytest.mark.parametrize("cores", [2])
def test_ad_split_bit_exact(tmp_path, cores):
    """AD is fully connected layers only: they run whole, on whichever core can take them."""
    compiled = assert_split_bit_exact(tmp_path, mlperf_model("ad").read_bytes(), cores, count=1)
    assert split_kinds(compiled) == {"whole"}


@pytest.mark.parametrize("h,w,cores", [
    (7, 9, 2),   # uneven bands: 4 + 3 rows, the depthwise 2 + 2, the pool 2 + 1
    (7, 9, 3),   # 3 + 2 + 2; the pool's 3 rows one per core
    (5, 6, 4),   # 2 + 1 + 1 + 1; the depthwise's 3 rows: a core with none; the small pool runs whole
    (3, 11, 4),  # the conv's 3 rows: a core with none; the depthwise 1 + 1; the pool's one row: whole
])
def test_chain_split_at_odd_sizes(tmp_path, h, w, cores):
    """--grow-arena: no output over its input, every step cut into bands of rows."""
    compiled = assert_split_bit_exact(tmp_path, chain_model(h * 100 + w, h, w), cores, grow_arena=True)
    kinds = split_kinds(compiled)
    assert "rows" in kinds and "elements" in kinds
    # A core with no rows has no share.
    conv = next(s for s in compiled.core_split.items if s.how == "rows")
    assert len(conv.shares) == min(cores, h)


@pytest.mark.parametrize("h,w,cores", [(7, 9, 2), (7, 9, 3), (5, 6, 4), (3, 11, 4)])
def test_chain_split_over_the_single_core_plan(tmp_path, h, w, cores):
    """The default: the single-core plan kept, its channel-at-a-time depthwise (in place, or whole
    pixels below its input: here the plane kernel) split by channels where it is large enough to pay
    (stride 2 here: a plane per core), bands laid over their inputs copied where the copy is small
    enough; the arena grows by the cores' own bytes only."""
    model = chain_model(h * 100 + w, h, w)
    compiled = assert_split_bit_exact(tmp_path, model, cores)
    single = compile_bytes(model, name="m")
    assert set(single.plan.placements) <= set(compiled.plan.placements)
    assert compiled.plan.arena_bytes == single.plan.arena_bytes + compiled.core_split.private_bytes
    inplace = [s for s in single.schedule.items if isinstance(s, Step)
               and s.call.function in CHANNEL_SLICES and step_cost(s) >= SPLIT_MIN_COST]
    assert inplace   # every one of these chains' depthwise is large enough to split
    for s in compiled.core_split.items:
        if s.item in {single.schedule.items.index(i) for i in inplace}:
            entry = CHANNEL_SLICES[single.schedule.items[s.item].call.function].entry
            assert s.how == "channels" and len(s.shares) == cores
            assert {w.call.function for share in s.shares for w in share.work} == {entry}


@pytest.mark.long
@pytest.mark.parametrize("key,cores,grow_arena", [("ic", 2, False), ("ic", 4, True), ("vww", 2, True),
                                                  ("vww", 4, False), ("kws", 2, False), ("ad", 3, False)])
def test_mlperf_split_with_patches_bit_exact(tmp_path, key, cores, grow_arena):
    """--patch auto: by default each patch's steps are split across the cores in the stage's one
    workspace; with --grow-arena each core runs whole patches in a workspace of its own."""
    compiled = assert_split_bit_exact(tmp_path, mlperf_model(key).read_bytes(), cores, patch="auto", count=2,
                                      grow_arena=grow_arena)
    if compiled.patch is not None:
        stage = next(i for i, item in enumerate(compiled.schedule.items) if isinstance(item, Loop))
        parts = compiled.core_split.parts_of(stage)
        if grow_arena:
            assert {s.how for s in parts} == {"patches"}
            assert len({s.shares[0].core for s in parts}) == cores
        else:
            assert "patches" not in {s.how for s in parts} and "rows" in {s.how for s in parts}
            assert all(w.scratch is None or not w.scratch.startswith("patch_workspace") for s in parts
                       for share in s.shares for w in share.work if isinstance(w, Step))
            assert not any(p.buffer.name.startswith("patch_workspace_core") for p in compiled.plan.placements)


def pointwise_model(seed: int, h: int, w: int, c_in: int = 16, c_out: int = 32) -> bytes:
    """CONV 1x1 (stride 1, VALID) -> CONV 1x1: a convolution that is the same over any h x w."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    in_scale = random_scale(rng)
    x = b.tensor([1, h, w, c_in], scale=in_scale, zero_point=int(rng.integers(-100, 100)))
    layer, scale, depth = x, in_scale, c_in
    for out_c in (c_out, c_in):
        w_scales = [random_scale(rng, 0.002, 0.02) for _ in range(out_c)]
        out_scale = accumulator_output_scale(rng, scale, max(w_scales), depth)
        weights = b.tensor([out_c, 1, 1, depth], scale=w_scales, data=random_int8(rng, (out_c, 1, 1, depth)))
        bias = b.tensor([out_c], dtype=np.int32, scale=np.float32(scale) * np.asarray(w_scales, dtype=np.float32),
                        data=random_bias(rng, out_c))
        y = b.tensor([1, h, w, out_c], scale=out_scale, zero_point=int(rng.integers(-50, 50)))
        b.op("CONV_2D", [layer, weights, bias], [y], padding="VALID", strideH=1, strideW=1,
             dilationHFactor=1, dilationWFactor=1, fusedActivationFunction="RELU")
        layer, scale, depth = y, out_scale, out_c
    return b.build([x], [layer])


@pytest.mark.parametrize("h,w,cores,rows", [(6, 6, 4, 4), (5, 5, 2, 25), (3, 3, 4, 3)])
def test_pointwise_bands_are_cut_over_the_pixels(tmp_path, h, w, cores, rows):
    """6 x 6 on 4 cores: 4 rows of 9 pixels (not 2 + 2 + 1 + 1 rows of 6); 5 x 5 on 2: 13 + 12
    pixels (not 3 + 2 rows of 5); 3 x 3 on 4 cores: its own rows (3 pixels at most either way). Bit-exact
    on every tensor.
    (The RISC-V board: its 1x1 convolutions stay convolutions; the DSP boards' run as an FC over pixels.)"""
    compiled = assert_split_bit_exact(tmp_path, pointwise_model(h * 10 + w, h, w), cores, grow_arena=True,
                                      board="riscv32-virt-4")
    bands = [s for s in compiled.core_split.items if s.how == "rows"]
    assert bands
    for s in bands:
        heights = [dict((a.name, a.value) for a in w.call.args)["output_dims"] for share in s.shares for w in share.work]
        assert sum(d.h for d in heights) == rows
        pixels = [d.h * d.w for d in heights]
        assert sum(pixels) == h * w and max(pixels) == -(-h * w // cores)


def test_patch_window_copies_are_cut_into_runs_of_rows():
    """A patch's window copy (tg_copy_window_s8) large enough to pay splits into runs of rows, each
    core its own, that together are the whole window's."""
    compiled = compile_bytes(mlperf_model("vww").read_bytes(), name="m", patch=PatchRequest.parse("auto"), cores=2)
    copies = [s for s in compiled.core_split.items
              if {w.call.function for share in s.shares for w in share.work if isinstance(w, Step)} == {"tg_copy_window_s8"}
              and len(s.shares) == 2]
    assert copies
    for s in copies:
        (first,), (second,) = (share.work for share in s.shares)
        a, b = (dict((x.name, x.value) for x in w.call.args)["copy"] for w in (first, second))
        assert a.row_bytes == b.row_bytes and abs(a.rows - b.rows) <= 1
        assert second.view("src").offset == first.view("src").offset + a.rows * a.src_stride
        assert second.view("dst").offset == first.view("dst").offset + a.rows * a.dst_stride


# ---- barriers: only where needed, never missing -------------------------------------------------

def _without_barrier(split: CoreSplit, position: int) -> CoreSplit:
    items = list(split.items)
    items[position] = dataclasses.replace(items[position], barrier_before=False)
    return dataclasses.replace(split, items=tuple(items))


@pytest.mark.parametrize("key,patch,cores", [("kws", "none", 2), ("kws", "none", 4), ("ic", "auto", 2),
                                              ("ic", "none", 3)])
def test_every_barrier_is_needed_and_none_missing(key, patch, cores):
    """check_no_cross_core_race (run on every split) re-derives the bytes each share reads and writes
    at its planned address: the split passes it, and taking away any one of its barriers fails it."""
    split = compile_bytes(mlperf_model(key).read_bytes(), cores=cores, patch=PatchRequest.parse(patch)).core_split
    check_no_cross_core_race(split)
    barriers = [i for i, s in enumerate(split.items) if s.barrier_before]
    assert barriers and split.barriers < len(split.items)
    for position in barriers:
        with pytest.raises(PlanError, match="without a barrier"):
            check_no_cross_core_race(_without_barrier(split, position))


def test_aligned_bands_need_no_barrier():
    """A conv's band of rows feeding an elementwise ADD split the same way on the same core: no barrier
    between them; the depthwise after it reads its neighbour's rows (the halo; split by channels, each
    core's reads all its channels' rows): a barrier."""
    compiled = compile_bytes(chain_model(1, 8, 8), cores=2, grow_arena=True)
    hows = [(s.how, s.barrier_before) for s in compiled.core_split.items]
    assert hows[:2] == [("rows", False), ("elements", False)] and hows[2][1]


def test_race_check_sees_strided_views_and_in_place_outputs():
    # A patch window (every other row of a wider tensor) against the rows between.
    window = View("t", "int8_t", 4, (1, 2, 2, 2), (40, 8, 2, 1))
    assert view_intervals(window, 100) == [(104, 108), (112, 116)]
    a = Access(reads=((104, 108), (112, 116)))
    assert not a.clashes(Access(writes=((108, 112),)))
    assert a.clashes(Access(writes=((115, 120),)))
    assert not a.clashes(Access(reads=((100, 200),)))   # reading together is no race


def test_balanced_spans():
    assert [s.size for s in balanced_spans(7, 3)] == [3, 2, 2]
    assert [s.size for s in balanced_spans(3, 4)] == [1, 1, 1, 0]


# ---- the cost model's prediction ----------------------------------------------------------------

def test_prediction_per_core_per_interval():
    compiled = compile_bytes(mlperf_model("kws").read_bytes(), cores=2)
    intervals = compiled.core_split_prediction
    split = compiled.core_split
    assert len(intervals) == split.barriers + (0 if split.items[0].barrier_before else 1)
    assert all(len(i) == 2 for i in intervals)
    assert sum(map(sum, intervals)) == split.predicted_single
    assert 0.4 < split.predicted_ratio < 0.6


def test_split_refuses_guard_builds():
    with pytest.raises(PlanError, match="one core"):
        compile_bytes(mlperf_model("ad").read_bytes(), cores=2, guard_bytes=8)


# ---- ThreadSanitizer: the barriers hold at run time -----------------------------------------------

TSAN = ("-fsanitize=thread", "-g")


@pytest.mark.long
@pytest.mark.parametrize("key,cores,patch", [("kws", 3, "none"), ("ic", 2, "auto")])
def test_thread_sanitizer_finds_no_race_and_finds_a_dropped_barrier(tmp_path, key, cores, patch):
    """The untraced build under ThreadSanitizer (pthread port): clean with the split's barriers; with
    one of them taken out, TSan reports the race the static check (check_no_cross_core_race) named."""
    from tinygen.codegen.emit import emit_model
    from tinygen.errors import BuildError

    model = mlperf_model(key).read_bytes()
    compiled = compile_bytes(model, name="m", cores=cores, patch=PatchRequest.parse(patch))
    records = [[np.ascontiguousarray(x).tobytes() for x in r] for r in random_inputs(compiled, 2, seed=5)]

    def run(sources, where: str) -> None:
        binary = build_host_binary(sources, tmp_path / where, compiled.input_bytes, compiled.output_bytes,
                                   trace=False, extra_cflags=TSAN)
        run_host_binary(binary, records, trace=False)

    run(compiled.sources, "clean")
    split = compiled.core_split
    first = next(i for i, s in enumerate(split.items) if s.barrier_before)
    with pytest.raises(BuildError, match="ThreadSanitizer: data race"):
        run(emit_model(compiled.graph, compiled.schedule, compiled.plan, _without_barrier(split, first)), "racy")


# ---- the default: the single-core arena, plus the cores' own scratch -----------------------------

@pytest.mark.parametrize("key,patch,cores", [("kws", "none", 2), ("ic", "auto", 3)])
def test_the_split_grows_the_arena_by_the_private_scratch_only(tmp_path, key, patch, cores):
    model = mlperf_model(key).read_bytes()
    single = compile_bytes(model, name="m", patch=PatchRequest.parse(patch))
    kept = compile_bytes(model, name="m", patch=PatchRequest.parse(patch), cores=cores)
    split = kept.core_split
    # Every buffer of the single-core plan where it was; the private ones after its end.
    assert set(single.plan.placements) <= set(kept.plan.placements)
    assert kept.plan.arena_bytes == single.plan.arena_bytes + split.private_bytes
    scratch = max((b.nbytes for b in single.schedule.buffers if b.scratch_of is not None), default=0)
    workspace = sum(b.nbytes for b in single.schedule.buffers if b.name == "patch_workspace")
    # ... and each core's copy of the input rows another core writes over (cores.shares_with_copies)
    copy_limit = max(scratch, int(single.plan.arena_bytes * COPY_ARENA_FRACTION))
    assert split.private_bytes <= (cores - 1) * (scratch + workspace + 8) + cores * (copy_limit + 8)
    if key == "kws":   # in-place depthwise kernels split by channels, each core with its own scratch
        assert {"rows", "channels"} <= split_kinds(kept)
        # (the lines depthwise keeps its ring on its stack: no scratch)
        assert all(w.scratch is None or w.scratch.startswith("core_scratch") for s in split.items
                   if s.how == "channels" for share in s.shares if share.core for w in share.work)
        compared = compare_on_host(model, tmp_path / "kept", count=2, seed=9, compiled=kept)
        assert compared.bit_exact, compared.mismatches[:3]


def test_cli_refuses_more_cores_than_the_board_has(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "tinygen.cli", "build", str(mlperf_model("ad")), "--board",
                           "mps2-an521", "--cores", "3", "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == ["tinygen: plan: --cores 3: board 'mps2-an521' has 2 core(s)"]
    assert not out.exists()


def test_the_split_of_steps_laid_over_their_inputs_copies_rows(tmp_path):
    """VWW's convolutions and 1x1 convolutions (fully connected over the pixels) lie over their inputs
    in the single-core plan: the split cuts them into bands all the same, each core first copying
    the input rows another core's band writes over (a barrier after the copies)."""
    model = mlperf_model("vww").read_bytes()
    single = compile_bytes(model, name="m", patch=PatchRequest.parse("auto"))
    kept = compile_bytes(model, name="m", patch=PatchRequest.parse("auto"), cores=2)
    kinds = split_kinds(kept)
    assert "batches" in kinds and "copies" in kinds
    items = kept.core_split.items
    copied = {items[i + 1].how for i in range(len(items) - 1) if items[i].how == "copies"}
    # bands of rows (convolutions, and the 1x1 ones the two-pixel wide conv takes) or of pixels (1x1 as FC)
    assert copied and copied <= {"rows", "batches"}
    assert all(items[i + 1].barrier_before for i in range(len(items) - 1) if items[i].how == "copies")
    assert set(single.plan.placements) <= set(kept.plan.placements)
    assert kept.plan.arena_bytes == single.plan.arena_bytes + kept.core_split.private_bytes
    assert kept.core_split.predicted_ratio < 0.7
    compared = compare_on_host(model, tmp_path / "kept", count=1, seed=3, compiled=kept)
    assert compared.bit_exact, compared.mismatches[:3]
