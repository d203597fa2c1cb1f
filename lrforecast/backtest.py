"""Backtest: a fitted law's forecast against a run it can be checked on."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import InputError
from .law import Law
from .metrics import curve_metrics, end_error, noise_level, range_coverage, trend_error
from .ranges import forecast_range, refit_spread
from .resolve import resolve
from .run import Run
from .schedules import Schedule
from .validity import validity_warnings


@dataclass(frozen=True)
class Backtest:
    """A law's forecast of an observed run over its points after warmup: the protocol's five metrics
    with TrendE (PredE against the run's trend) and EndE (the error at its end); for a law with a
    forecast range, how much of the run's trend lies in it (metrics.range_coverage)."""

    name: str
    source: str
    schedule: str
    points: int
    dropped_beyond_schedule: int
    metrics: dict[str, float]
    warnings: list[str]
    steps: np.ndarray = field(repr=False)
    observed: np.ndarray = field(repr=False)
    predicted: np.ndarray = field(repr=False)
    range: dict | None = None

    def to_dict(self) -> dict:
        """As evaluate's JSON gives it (without the per-point curve)."""
        out = {"run": self.name, "source": self.source, "schedule": self.schedule, "points": self.points,
               "dropped_beyond_schedule": self.dropped_beyond_schedule, "metrics": self.metrics,
               "warnings": self.warnings}
        return out if self.range is None else {**out, "range": self.range}


def evaluate(law: Law, run: Run, schedule: Schedule, from_step: int | None = None) -> Backtest:
    """Backtest `law` on `run` under `schedule`, over the points from `from_step` (default: the end
    of warmup) to the schedule's end."""
    schedule = resolve(schedule, run)
    eta = schedule.lr_for(run)
    start = max(schedule.warmup, 1) if from_step is None else from_step
    keep = (run.steps < eta.size) & (run.steps >= start)
    if keep.sum() < 2:
        raise InputError(f"{run.source}: fewer than 2 points between step {start} and the end of "
                         f"the schedule ({eta.size}); check the schedule")
    steps = run.steps[keep]
    pred = law.predict_lr(eta, steps, schedule.warmup)
    y = run.loss[keep]
    noise = noise_level(y)
    interval = forecast_range(law, *refit_spread(law, eta, steps, schedule.warmup, pred), eta)
    return Backtest(run.name, run.source, schedule.spec, int(keep.sum()), int((run.steps >= eta.size).sum()),
                    {**curve_metrics(y, pred), "TrendE": trend_error(y, pred, noise),
                     "EndE": end_error(y, pred, noise)},
                    validity_warnings(law, schedule, eta), steps, y, pred,
                    None if interval is None else range_coverage(y, *interval, noise))
