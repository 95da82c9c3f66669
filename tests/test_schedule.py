"""The schedule IR: the kernel calls lowered into steps over whole-tensor views, and a loop rendered."""

from __future__ import annotations

import dataclasses

from tinygen.codegen.emit import emit_model
from tinygen.kernels.call import KernelCall
from tinygen.compiler import compile_file
from tinygen.schedule.ir import Loop, Step, View, dense_strides

from conftest import DIGITS_MODEL


def test_every_call_is_a_step_over_whole_tensor_views():
    compiled = compile_file(DIGITS_MODEL)
    schedule, graph = compiled.schedule, compiled.graph
    calls = [c for c in compiled.lowered if isinstance(c, KernelCall)]
    assert schedule.kernel_calls() == tuple(calls)
    for step in schedule.flat_steps():
        for arg in step.call.args:
            view = step.view(arg.name)
            if view is not None and view.c_type != "void":
                tensor = graph.tensor(arg.value.tensor)
                assert view.offset == 0 and view.shape == tuple(tensor.shape)
                assert view.strides == dense_strides(tuple(tensor.shape))
    names = {b.name for b in schedule.buffers}
    assert all(view.buffer in names for _, view in schedule.tensor_views)
    assert set(compiled.plan.buffer_offsets()) == names


def test_a_loop_of_unrolled_iterations_renders_each_call():
    """A loop whose iterations repeat a step renders the call once per iteration, in order."""
    compiled = compile_file(DIGITS_MODEL)
    schedule = compiled.schedule
    first = next(i for i, item in enumerate(schedule.items) if isinstance(item, Step))
    step = schedule.items[first]
    loop = Loop("twice", ((step,), (step,)))
    looped = dataclasses.replace(schedule, items=schedule.items[:first] + (loop,) + schedule.items[first + 1:])
    source = dict(emit_model(compiled.graph, looped, compiled.plan).files)[f"{compiled.graph.name}.c"]
    plain = dict(compiled.sources.files)[f"{compiled.graph.name}.c"]
    assert "twice: 2 iterations" in source
    assert source.count(step.call.function + "(") == plain.count(step.call.function + "(") + 1


def test_view_strides_are_dense_for_a_whole_tensor():
    assert View.whole("t1", "int8_t", (1, 4, 5, 3)).strides == (60, 15, 3, 1)
