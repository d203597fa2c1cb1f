"""Backtest: a fitted law's forecast against a run it can be checked on."""

from __future__ import annotations

from .errors import InputError
from .forecast import forecast_range, refit_spread, validity_warnings
from .law import Law
from .metrics import curve_metrics, end_error, noise_level, range_coverage, trend_error
from .resolve import resolve
from .run import Run
from .schedules import Schedule


def evaluate(law: Law, run: Run, schedule: Schedule, from_step: int | None = None) -> dict:
    """Backtest: the law's prediction against an observed run, over its points after warmup.
    Its metrics are the protocol's five and TrendE, PredE against the run's trend; and, for a law
    with a forecast range, how much of the run's trend lies in it (range_coverage)."""
    schedule = resolve(schedule, run)
    eta = schedule.lr_for(run)
    start = max(schedule.warmup, 1) if from_step is None else from_step
    keep = (run.steps < eta.size) & (run.steps >= start)
    if keep.sum() < 2:
        raise InputError(f"{run.source}: fewer than 2 points between step {start} and the end of "
                         f"the schedule ({eta.size}); check the schedule")
    pred = law.predict_lr(eta, run.steps[keep], schedule.warmup)
    y = run.loss[keep]
    noise = noise_level(y)
    result = {"run": run.name, "source": run.source, "schedule": schedule.spec,
              "points": int(keep.sum()), "dropped_beyond_schedule": int((run.steps >= eta.size).sum()),
              "metrics": {**curve_metrics(y, pred), "TrendE": trend_error(y, pred, noise),
                          "EndE": end_error(y, pred, noise)},
              "warnings": validity_warnings(law, schedule, eta),
              "curve": {"step": run.steps[keep], "observed": y, "predicted": pred}}
    interval = forecast_range(law, *refit_spread(law, eta, run.steps[keep], schedule.warmup, pred))
    if interval is not None:
        result["range"] = range_coverage(y, *interval, noise)
    return result
