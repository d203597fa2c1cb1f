"""Choosing a law by how well it predicts what it was not fitted on.

Folds, on the runs at hand only:
- leave one run out (two or more runs): fit on the others, predict the left-out run;
- horizon: fit on the first third of every run's steps, predict the whole runs. Forecasts are
  usually asked for longer than the fitted runs, which leaving a run out does not test.
With a single run only the horizon fold exists (a held-out tail of the run).
The score is the mean PredE of the two kinds (the leave-one-out folds averaged first), so new
shapes and longer horizons weigh the same however many runs there are; the lowest score wins.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import LRForecastError
from .forecast import evaluate
from .law import Law
from .laws import LAWS
from .metrics import mean_metrics
from .run import Run
from .schedules import Schedule

HORIZON_FRACTION = 1 / 3
MAX_LORO_FOLDS = 4  # with many runs, leave out at most this many (evenly spread) in turn


def head(run: Run, fraction: float) -> Run:
    """The first `fraction` of a run's steps."""
    keep = run.steps <= run.steps[0] + fraction * (run.steps[-1] - run.steps[0])
    return Run(run.name, run.steps[keep], run.loss[keep], None if run.lr is None else run.lr[keep],
               run.source, run.format, list(run.notes))


def cross_validate(runs: Sequence[Run], schedules: Sequence[Schedule], law: str, **options) -> dict:
    """Mean metrics of each fold and over folds (see module doc)."""
    from .fitting import fit

    folds: dict[str, dict] = {}
    n = len(runs)
    for i in np.unique(np.linspace(0, n - 1, min(n, MAX_LORO_FOLDS)).astype(int)) if n > 1 else []:
        others = [j for j in range(n) if j != i]
        fitted = fit([runs[j] for j in others], [schedules[j] for j in others], law=law, **options)
        folds[f"leave out {runs[i].name}"] = evaluate(fitted, runs[i], schedules[i])["metrics"]
    kinds = [mean_metrics(list(folds.values()))] if folds else []
    fitted = fit([head(r, HORIZON_FRACTION) for r in runs], schedules, law=law, **options)
    folds["horizon"] = mean_metrics([evaluate(fitted, r, s)["metrics"]
                                     for r, s in zip(runs, schedules, strict=True)])
    return {"folds": folds, "mean": mean_metrics(kinds + [folds["horizon"]])}


def fit_auto(runs: Sequence[Run], schedules: Sequence[Schedule], *, progress=None, prior=None,
             **options) -> Law:
    """Fit every law; keep the one with the lowest cross-validated PredE, and say by how much."""
    from .fitting import fit

    scores, laws, failures = {}, {}, {}
    names = [n for n in LAWS if not (options.get("lam") is not None and n != "momentum")]
    for i, name in enumerate(names):
        try:
            laws[name] = fit(runs, schedules, law=name, **options)
            scores[name] = cross_validate(runs, schedules, name, **options)
        except LRForecastError as e:
            failures[name] = str(e)
        if progress is not None:
            progress(i + 1, len(names))
    if not laws:
        raise LRForecastError("; ".join(f"{n}: {m}" for n, m in failures.items()), exit_code=3)
    ranked = sorted(scores, key=lambda n: scores[n]["mean"]["PredE"])
    best = laws[ranked[0]]
    summary = {"chosen": ranked[0], "score": "cross-validated mean PredE",
               "cv": {n: scores[n] for n in ranked}, "failed": failures}
    if len(ranked) > 1:
        a, b = (scores[n]["mean"]["PredE"] for n in ranked[:2])
        best.notes.append(f"law auto: {ranked[0]} chosen, cross-validated PredE {a:.5f} vs "
                          f"{b:.5f} for {ranked[1]} ({100 * (b - a) / b:.0f}% lower)")
    best.options["selection"] = summary
    return best
