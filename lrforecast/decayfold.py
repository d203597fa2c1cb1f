"""The decay fold: a shape parameter chosen by how well the law forecasts the rest of an LR decay.

How much the last, low-LR part of a decay gains is what ranks cooldowns, and the runs at hand rarely
pin it down: the root-power law's p (how a drop's gain grows as the LR falls) sits at its prior
wherever it is searched. A law that declares DECAY_FOLD = (name, values) has that parameter chosen
here instead: every run whose LR falls by half or more by its last point is cut where its LR has
fallen half way, the law is fitted on the runs so cut with the parameter fixed at each value, and the
value that forecasts the end of the cut runs' decays best (CRITERION: mean EndE, the error of the
trend at their last points) is kept. The fold says which value only when the law follows the decay
at all: when even the best value misses the points after the cut by more than TRUST (TrendE: PredE
against the run's trend), the parameter is searched as usual, pulled towards its prior.

The end, not the whole rest of the decay, because where a decay ends is what ranks schedules, and
the middle of a decay has gained only part of what it will: on the transfer tasks of
../shared/data/schaipp124m the end picked a p whose forecasts of the other runs' final losses were
closer than the rest's (TrendE's) wherever the two differed (5 of the 21 tasks; mean MAE 0.0035 ->
0.0027 at peak LR 1e-4, 0.0078 -> 0.0073 at 2e-3). There the fold keeps p at 0.6-1 at peak LRs
1e-4 and 5e-4 and 0.4-0.5 at 2e-3, where the prior alone gives 0.5 everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .backtest import evaluate
from .errors import FitError, InputError
from .fitting import fit_law, thinned
from .laws import LAWS
from .parallel import Call, run_all
from .run import Run
from .schedules import Schedule

HALF = 0.5  # a run is cut where its LR has fallen this share of its whole fall
MIN_FALL = 0.5  # ... if its LR falls by at least this share of its peak by its last point
MIN_AFTER = 3  # points of a cut run's decay before its cut and after it, at least
# The best value's error above which the fold is not trusted (TrendE, a fraction of the loss): on the
# transfer tasks the fold errs 0.03-0.4% where the law follows the decay and 0.5-4% at peak LR 2e-3
# fitted on a 20% cooldown, where every value of p misses the loss's lag behind the LR.
TRUST = 0.003
CRITERION = "EndE"  # what the fold's values are ranked by (module doc)
TRIAL_POINTS = 200  # points per run of the trial fits, at most (a long log is thinned evenly)


def _cut(run: Run, step: int | None) -> Run:
    """The run's points up to `step` (all: None), at most TRIAL_POINTS of them, evenly spread."""
    return run.subset(thinned(run.steps <= (run.steps[-1] if step is None else step), TRIAL_POINTS))


def cut_points(runs: Sequence[Run], schedules: Sequence[Schedule]) -> list[int | None]:
    """For each run, the step it is cut at (None: it is fitted whole, its LR falls too little or
    too few of its points lie in its decay before the cut or after it)."""
    out: list[int | None] = []
    for run, sched in zip(runs, schedules, strict=True):
        eta = sched.lr_for(run)[: int(run.steps[-1]) + 1]
        top = int(np.argmax(eta))
        peak, end = float(eta[top]), float(eta[-1])
        mid = None
        if peak > 0 and end <= (1 - MIN_FALL) * peak:
            after = np.flatnonzero(eta[top:] <= peak - HALF * (peak - end))
            mid = int(top + after[0])
            # points of the decay on both sides of the cut (a log may start part-way down a decay)
            before = int(((run.steps > top) & (run.steps <= mid)).sum())
            if min(before, int((run.steps > mid).sum())) < MIN_AFTER:
                mid = None
        out.append(mid)
    return out


def decay_fold_calls(runs: Sequence[Run], schedules: Sequence[Schedule], law: str, options: dict
                     ) -> list[Call]:
    """The fits of the decay fold of `law` (none: the law declares no DECAY_FOLD or no run decays
    enough)."""
    spec = getattr(LAWS[law], "DECAY_FOLD", None)
    cuts = cut_points(runs, schedules)
    if spec is None or all(c is None for c in cuts):
        return []
    name, values = spec
    cut = [_cut(r, c) for r, c in zip(runs, cuts, strict=True)]
    return [(fit_law, (cut, list(schedules)), {"law": law, **options, "shapes": {name: v}, "refine": 1})
            for v in values]


def choose(runs: Sequence[Run], schedules: Sequence[Schedule], law: str, outcomes: list
           ) -> tuple[dict[str, float], str | None]:
    """The shape to fix ({} for none) and a note saying why, from the decay fold's fits."""
    if not outcomes:
        return {}, None
    name, values = LAWS[law].DECAY_FOLD
    cuts = cut_points(runs, schedules)
    errors, trends = {}, {}
    for v, (ok, fitted) in zip(values, outcomes, strict=True):
        if not ok:
            if isinstance(fitted, FitError | InputError):
                continue
            raise fitted
        metrics = [evaluate(fitted, r, s, from_step=c + 1).metrics
                   for r, s, c in zip(runs, schedules, cuts, strict=True) if c is not None]
        errors[v] = float(np.mean([m[CRITERION] for m in metrics]))
        trends[v] = float(np.mean([m["TrendE"] for m in metrics]))
    if not errors:
        return {}, None
    best = min(errors, key=errors.get)
    scores = ", ".join(f"{v:g}: {100 * e:.3g}%" for v, e in errors.items())
    what = ("fitted with each decaying run cut where its LR had fallen half way, the error at the end "
            f"of the decay, by {name}: {scores}")
    if min(trends.values()) > TRUST:
        return {}, (f"{name} left to its search: the decay fold cannot tell ({what}; the rest of the "
                    f"decay missed by over {100 * TRUST:g}% with every {name}, so the law does not follow "
                    "it closely enough)")
    return {name: best}, f"{name} = {best:g}, chosen by the decay fold ({what})"


def choose_shape(runs: Sequence[Run], schedules: Sequence[Schedule], law: str, options: dict
                 ) -> tuple[dict[str, float], str | None]:
    """The decay fold of `law` run and read (see module doc)."""
    return choose(runs, schedules, law, run_all(decay_fold_calls(runs, schedules, law, options)))
