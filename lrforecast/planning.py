"""How many steps each schedule needs to reach a target loss: the length half of choosing a schedule.

A cosine or a WSD cooldown ends at its total, so its whole shape moves with its length. Each
candidate is rebuilt at every length tried and the law's final loss searched for the shortest length
that reaches the target: a geometric scan for the first length that does, then bisection. The range
says how far that length moves if the final loss is off by as much as the law's largest error at the
end of a run it was not fitted on (its cross-validation), under the law and under each of its
refits (the same law fitted without one run, as compare shows them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .errors import InputError
from .forecast import Prediction, law_defaults, predict
from .law import Law
from .progress import Progress
from .ranges import range_error
from .schedules import MAX_FACTOR, MAX_STEPS, Schedule, parse_schedule
from .sweep import Sweep, expand_sweeps
from .validity import checked, refuse_unlearned_decay, validity_warnings

SCAN = 48  # lengths tried, geometrically spaced, before the bisection
TOLERANCE = 1e-3  # the bisection stops at 0.1% of the length (or 1 step)


@dataclass
class Reach:
    """One candidate's answer: the shortest length that reaches the target, or None within max_steps."""

    name: str
    spec: str  # the schedule at that length (at the longest tried when none reaches it)
    steps: int | None
    final_loss: float  # the law's final loss at that length
    steps_range: tuple[int | None, int | None] | None  # with the target off by the held-out end error
    warnings: list[str]


def final_loss(law: Law, schedule: Schedule, total: int, eta: np.ndarray | None = None) -> float:
    """The law's loss at the last step of `schedule` built `total` steps long (`eta`, if built)."""
    eta = schedule.lr(total) if eta is None else eta
    return float(checked(law, schedule.label or schedule.spec,
                         law.predict_lr(eta, np.array([total - 1]), schedule.warmup), eta)[0])


def search_limit(law: Law, max_steps: int | None = None) -> int:
    """The longest length plan tries: `max_steps`, or MAX_FACTOR times the longest fitted run (at
    most MAX_STEPS)."""
    if max_steps is not None and max_steps > MAX_STEPS:
        raise InputError(f"--max-steps {max_steps:,} is more than lrforecast forecasts ({MAX_STEPS:,})")
    return int(max_steps or min(MAX_FACTOR * law.horizon, MAX_STEPS))


def shortest_length(law: Law, schedule: Schedule, target: float, lo: int, hi: int) -> int | None:
    """The fewest steps in [lo, hi] whose final loss is at most `target` (to 0.1%), or None."""
    grid = np.unique(np.geomspace(lo, hi, SCAN).astype(np.int64))
    first = next((i for i, total in enumerate(grid) if final_loss(law, schedule, int(total)) <= target), None)
    if first is None:
        return None
    if first == 0:
        return int(grid[0])
    a, b = int(grid[first - 1]), int(grid[first])  # a misses the target, b reaches it
    while b - a > max(1, TOLERANCE * b):
        mid = (a + b) // 2
        if final_loss(law, schedule, mid) <= target:
            b = mid
        else:
            a = mid
    return b


def _spread(models: list[Law], schedule: Schedule, target: float, err: float, lo: int, hi: int
            ) -> tuple[int | None, int | None]:
    """The range of lengths: the fewest steps to reach the target made `err` easier, and the fewest
    to reach it made `err` harder, over the law and its refits (None: not within `hi`)."""
    easy = [shortest_length(m, schedule, target * (1 + err), lo, hi) for m in models]
    hard = [shortest_length(m, schedule, target * (1 - err), lo, hi) for m in models]
    reached = [n for n in easy if n is not None]
    return (min(reached) if reached else None,
            None if None in hard else max(hard))


def _searchable(spec: str, defaults: dict) -> Schedule:
    """The candidate without a length, refused where its length cannot move."""
    schedule = parse_schedule(spec, {**defaults, "total": None})
    if schedule.name in ("file", "log"):
        raise InputError(f"'{spec}' gives the LR step by step, so it has one length; plan needs a "
                         "schedule it can rebuild at any length (cosine, wsd, ...)")
    if "total" in schedule.params:
        raise InputError(f"'{spec}' fixes its length (total=...); plan chooses the length, so leave it out")
    if "decay_start" in schedule.params:
        raise InputError(f"'{spec}' starts its decay at a fixed step; give decay=FRACTION instead so "
                         "the cooldown moves with the length")
    return schedule


def unreached(law: Law, name: str, target: float, longest: int, loss: float) -> str:
    """Why a candidate has no length: the target lies below the law's floor, or beyond the search."""
    floor = law.floor
    if floor is not None and target <= floor:
        return (f"{name}: {target:g} is at or below the law's floor ({law.floor_name} = {floor:.4f}), "
                "the loss it tends to with unlimited training, so no length reaches it")
    return (f"{name}: does not reach {target:g} within {longest:,} steps (its loss there: {loss:.4f}); "
            "raise --max-steps or the target")


def plan(law: Law, specs: list[str], target: float, *, defaults: dict | None = None,
         max_steps: int | None = None, progress: Progress | None = None) -> list[Reach]:
    """For each candidate schedule (swept specs expanded), the fewest steps to reach `target`;
    fewest first."""
    defaults = law_defaults(law) if defaults is None else defaults
    hi = search_limit(law, max_steps)
    models = [law] + [law.with_params(p) for p in law.refits]
    out = []
    specs = expand_sweeps(specs)
    for spec in specs:
        schedule = _searchable(spec, defaults)
        lo = max(schedule.warmup, *schedule.params.get("at", [0])) + 1
        if hi <= lo:
            raise InputError(f"--max-steps {hi} leaves no length to try for '{spec}' (it needs more "
                             f"than {lo} steps)")
        refuse_unlearned_decay(law, spec, schedule.lr(hi))
        steps = shortest_length(law, schedule, target, lo, hi)
        err = range_error(law, schedule.lr(hi))
        spread = None if err is None else _spread(models, schedule, target, err, lo, hi)
        total = steps or hi
        eta = schedule.lr(total)
        at_length = Schedule(schedule.name, {**schedule.params, "total": total}, schedule.label)
        loss = final_loss(law, schedule, total, eta)
        warnings = validity_warnings(law, at_length, eta)
        if steps is None:
            warnings.append(unreached(law, schedule.label or spec, target, hi, loss))
        out.append(Reach(spec, at_length.spec, steps, loss, spread, warnings))
        if progress is not None:
            progress(len(out), len(specs))
    return sorted(out, key=lambda r: (r.steps is None, r.steps or 0, r.final_loss))


def curves(law: Law, reaches: list[Reach], points: int = 400) -> list[Prediction]:
    """Each candidate's predicted curve at the length found (about `points` steps of it), for a chart."""
    out = []
    for r in reaches:
        if r.steps is not None:
            p = predict(law, parse_schedule(r.spec), every=max(1, r.steps // points), band=False)
            out.append(replace(p, name=r.name))
    return out


def needs_fewest(reaches: list[Reach], name: str) -> bool:
    """Whether the candidate called `name` (as given, or its schedule's name) reaches the target in
    the fewest steps (a CI expectation)."""
    def called(r: Reach) -> bool:
        return name in (r.name, r.spec.split(":")[0])

    if not any(called(r) for r in reaches):
        raise InputError(f"--expect-best {name}: no candidate of that name; candidates: "
                         + ", ".join(r.name for r in reaches))
    return reaches[0].steps is not None and called(reaches[0])


def plan_sweep_points(reaches: list[Reach], sweep: Sweep) -> dict:
    """A swept key's values and, for each, the steps plan found and their range (NaN: none)."""
    def num(n: int | None) -> float:
        return np.nan if n is None else float(n)

    by_name = {r.name: r for r in reaches}
    found = [by_name[s] for s in sweep.specs]
    return {"values": np.array(sweep.values, dtype=float), "y": np.array([num(r.steps) for r in found]),
            "low": np.array([num((r.steps_range or (None, None))[0]) for r in found]),
            "high": np.array([num((r.steps_range or (None, None))[1]) for r in found]),
            "names": [r.name for r in found], "label": "steps",
            "levels": [(r.name, float(r.steps)) for r in reaches
                       if r.name not in sweep.specs and r.steps is not None]}
