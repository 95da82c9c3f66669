"""An exact placement search (OR-Tools CP-SAT), started from the best greedy plan.

Every buffer gets an aligned offset; every pair live at the same time either keeps apart (one
below the other) or, where an allowance permits, overlaps within its [min_delta, max_delta]. The
arena is minimised down to the lower bound (plan/contracts.py). The search is deterministic (one
worker, a deterministic time limit), so the same model always gets the same plan; it stops at
the limit with the best plan found, which is never worse than the greedy one it starts from.

The solver runs in a child process: OR-Tools is native code, and a crash inside it (one segfault
was seen under load in the test suite) must cost the build only the improvement, never the build.
"""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys

from tinygen.plan.arena import ALIGNMENT, ArenaPlan, Placement, allowance_map, arena_size

CHILD_STARTUP_ALLOWANCE_S = 30.0  # importing OR-Tools in the child, on a loaded machine


def improve_placement(plan: ArenaPlan, seconds: float) -> ArenaPlan:
    """The CP-SAT search in a child process; the greedy plan where the child fails or times out."""
    try:
        child = subprocess.run([sys.executable, "-m", "tinygen.plan.exact"], input=pickle.dumps((plan, seconds)),
                               capture_output=True, timeout=20 * seconds + CHILD_STARTUP_ALLOWANCE_S)
    except (OSError, subprocess.TimeoutExpired):
        return plan
    if child.returncode != 0:
        return plan
    improved = pickle.loads(child.stdout)
    return improved if isinstance(improved, ArenaPlan) else plan


def search_placement(plan: ArenaPlan, seconds: float) -> ArenaPlan:
    from ortools.sat.python import cp_model

    buffers = [p.buffer for p in plan.placements]
    hint = {p.buffer.key: p.offset for p in plan.placements}
    allowed = allowance_map(plan.allowances)
    upper = plan.arena_bytes // ALIGNMENT
    model = cp_model.CpModel()
    slot = {b.key: model.NewIntVar(0, max(0, upper - (b.size + ALIGNMENT - 1) // ALIGNMENT), b.key)
            for b in buffers}
    arena = model.NewIntVar(max(0, plan.lower_bound_bytes // ALIGNMENT), upper, "arena")
    for b in buffers:
        model.Add(ALIGNMENT * slot[b.key] + b.size <= ALIGNMENT * arena)
        model.AddHint(slot[b.key], hint[b.key] // ALIGNMENT)
    for i, a in enumerate(buffers):
        for b in buffers[i + 1:]:
            if not a.overlaps_in_time(b):
                continue
            xa, xb = ALIGNMENT * slot[a.key], ALIGNMENT * slot[b.key]
            below, above = model.NewBoolVar(""), model.NewBoolVar("")
            model.Add(xa + a.size <= xb).OnlyEnforceIf(below)
            model.Add(xb + b.size <= xa).OnlyEnforceIf(above)
            options = [below, above]
            for first, second, x_in, x_out in ((a, b, xa, xb), (b, a, xb, xa)):
                allowance = allowed.get((first.key, second.key))
                if allowance is None:
                    continue
                within = model.NewBoolVar("")
                model.Add(x_out - x_in <= allowance.max_delta).OnlyEnforceIf(within)
                if allowance.min_delta is not None:
                    model.Add(x_out - x_in >= allowance.min_delta).OnlyEnforceIf(within)
                if allowance.multiple_of > 1:   # on the lattice max_delta - k * multiple_of
                    k = model.NewIntVar(0, ALIGNMENT * upper // allowance.multiple_of + 1, "")
                    model.Add(x_out - x_in == allowance.max_delta - allowance.multiple_of * k).OnlyEnforceIf(within)
                options.append(within)
            model.AddBoolOr(options)
    model.Minimize(arena)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = seconds
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return plan
    # What the search proved: no placement is smaller than its bound (the optimum, when it finished).
    bound = max(plan.lower_bound_bytes, ALIGNMENT * int(solver.BestObjectiveBound()))
    placements = tuple(Placement(b, ALIGNMENT * solver.Value(slot[b.key])) for b in buffers)
    size = arena_size(placements)
    proven = ", proven optimal" if status == cp_model.OPTIMAL else ""
    if size >= plan.arena_bytes:
        return dataclasses.replace(plan, order=plan.order + proven, lower_bound_bytes=min(bound, plan.arena_bytes))
    return dataclasses.replace(plan, placements=placements, arena_bytes=size, order="cp-sat" + proven,
                               lower_bound_bytes=min(bound, size))


if __name__ == "__main__":
    # The child's side of improve_placement: (plan, seconds) pickled on stdin, the plan on stdout.
    request_plan, request_seconds = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps(search_placement(request_plan, request_seconds)))
