"""Following a run as its log grows: where it will end and when it reaches a target (`watch`).

`forecast_run` fits a law on the run so far (with the whole run's schedule) and reads off its
forecast: the final loss with its range and, given a target, the first step the forecast reaches
it, with the steps its range's low and high curves reach it. `follow` re-reads a log and gives a
new `Update` whenever enough new points have arrived.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .errors import InputError
from .forecast import Prediction, predict
from .law import Law
from .ranges import held_out_error
from .readers import read_run
from .run import Run
from .schedules import Schedule
from .selection import fit

MIN_POINTS = 8  # a fit needs this many points
NEW_SHARE = 0.1  # refit when the run has this share more points than at the last fit (or MIN_NEW)
MIN_NEW = 5


@dataclass(frozen=True)
class Update:
    """One forecast of a run in progress."""

    step: int  # the run's last logged step
    points: int
    last_loss: float
    law: str
    final_step: int
    final_loss: float
    final_range: tuple[float, float] | None
    target: float | None = None
    target_step: int | None = None  # the first step the forecast reaches the target (None: never)
    target_steps: tuple[int | None, int | None] | None = None  # ... its range's low and high curves
    held_out: float | None = None  # the law's held-out error, a fraction of the loss
    done: bool = False  # the run has reached its schedule's last step

    def to_dict(self) -> dict:
        return asdict(self)


def _first_at_or_below(steps: np.ndarray, curve: np.ndarray, target: float) -> int | None:
    below = np.flatnonzero(curve <= target)
    return int(steps[below[0]]) if below.size else None


def forecast_run(run: Run, schedule: Schedule, *, law: str = "auto", target: float | None = None,
                 **fit_options) -> tuple[Law, Prediction, Update]:
    """Fit `law` on the run so far and forecast the rest of `schedule` (see module doc)."""
    if schedule.total is None:
        raise InputError("watch needs the schedule's length: add :total=N (the run's last step + 1)")
    fitted = fit([run], [schedule], law=law, validate=True, **fit_options)
    pred = predict(fitted, schedule)
    interval = pred.interval
    low, high = interval if interval is not None else (pred.loss, pred.loss)
    target_step = target_steps = None
    if target is not None:
        target_step = _first_at_or_below(pred.steps, pred.loss, target)
        target_steps = (_first_at_or_below(pred.steps, low, target),
                        _first_at_or_below(pred.steps, high, target))
    last = int(run.steps[-1])
    return fitted, pred, Update(
        last, int(run.steps.size), float(run.loss[-1]), fitted.name, int(pred.steps[-1]), pred.final_loss,
        None if interval is None else (float(low[-1]), float(high[-1])), target, target_step, target_steps,
        held_out_error(fitted), last >= schedule.total - 1)


def follow(source: str | Path, schedule: Schedule, *, interval: float = 30.0, once: bool = False,
           read: Callable[[str | Path], Run] = read_run, sleep: Callable[[float], None] = time.sleep,
           **options) -> Iterator[tuple[Run, Law, Prediction, Update]]:
    """Re-read `source` every `interval` seconds and forecast again when it has grown by NEW_SHARE
    (or MIN_NEW points); stop after the update at the schedule's last step, or after one with
    `once`. Each update comes with the run as read, the law and its prediction."""
    fitted_on = 0
    while True:
        run = read(source)
        grown = run.steps.size - fitted_on
        if run.steps.size >= MIN_POINTS and (fitted_on == 0 or grown >= max(MIN_NEW, NEW_SHARE * fitted_on)):
            fitted, pred, update = forecast_run(run, schedule, **options)
            fitted_on = run.steps.size
            yield run, fitted, pred, update
            if once or update.done:
                return
        elif once:
            raise InputError(f"{source}: {run.steps.size} points so far, {MIN_POINTS} needed to forecast")
        sleep(interval)
