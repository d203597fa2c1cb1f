"""Schedules that come from somewhere else: `file:PATH` (an LR per step, or step,lr columns) and
`log` (the run's own logged LR, or, logged every few steps, the standard schedule it follows),
turned into per-step values."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from .errors import InputError
from .recognise import recognise
from .schedules import Schedule


def resolve(schedule: Schedule, run=None) -> Schedule:
    """Turn `file:` and `log` into per-step values (reading the file or the run's logged LR).

    A schedule that already holds its values is returned as it is.
    """
    if schedule.values is not None:
        return schedule
    if schedule.name == "log":
        eta = None if run is None else run.logged_lr_every_step()
        if eta is None:
            return _recognised(run)
        return Schedule("log", schedule.params, schedule.label, _checked_values(eta, schedule.label))
    if schedule.name == "file":
        return Schedule("file", schedule.params, schedule.label,
                        _checked_values(read_lr_file(schedule.params["path"]), schedule.label))
    return schedule


def log_schedule(run) -> str | None:
    """What `log` makes of a run's LR: "logged" (every step), a recognised spec, or None."""
    try:
        sched = resolve(Schedule("log"), run)
    except InputError:
        return None
    return "logged" if sched.name == "log" else sched.spec


def _recognised(run) -> Schedule:
    """The standard schedule a run's sparsely logged LR follows (recognise.py), or exit 2."""
    where = run.source if run is not None else "this run"
    example = "cosine:peak=3e-4:warmup=2000:total=100000"
    if run is not None and run.lr is not None and np.isfinite(run.lr).any():
        if np.nanmax(run.lr) <= 0:
            raise _zero_lr("log")
        found, closest, worst = recognise(run.steps, run.lr)
        every = int(np.median(np.diff(run.steps[np.isfinite(run.lr)]))) if closest is not None else 0
        if found is not None:
            return replace(found, origin=f"the LR is logged every {every} steps and follows {found.spec}, "
                                         "used as the run's schedule")
        if closest is not None:
            raise InputError(f"{where}: the LR is logged only every {every} steps and follows no standard "
                             "schedule (a linear warmup, then constant, linear or cosine decay, or WSD; "
                             f"closest: {closest.spec}, off by {100 * worst:.1f}% of the peak); give the "
                             "schedule with --schedule")
    raise InputError(f"{where}: the LR is not logged at every step, so 'log' cannot rebuild the "
                     f"schedule; give one with --schedule, e.g. {example}")


def _zero_lr(label: str) -> InputError:
    return InputError(f"schedule '{label}': the LR is zero everywhere (a log that prints it rounded, as "
                      "Composer's console does to 4 decimals?); give --schedule, or --lr-key for another "
                      "field")


def _checked_values(eta: np.ndarray, label: str) -> np.ndarray:
    if not np.all(np.isfinite(eta)):
        raise InputError(f"schedule '{label}': the LR has missing or non-finite values")
    if np.any(eta < 0):
        raise InputError(f"schedule '{label}': the LR is negative at step {int(np.argmax(eta < 0))}")
    if eta.max() <= 0:
        raise _zero_lr(label)
    return eta


def read_lr_file(path: str) -> np.ndarray:
    """Per-step LR from a file: one LR per line, `step,lr` columns (interpolated), or any log the
    readers read, from its LR field (interpolated between the steps it is logged at)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"schedule file '{path}' not found")
    try:
        return _read_lr_columns(p, path)
    except (InputError, UnicodeDecodeError) as plain:
        return _lr_of_log(p, path, plain)


def _lr_of_log(p: Path, path: str, plain: Exception) -> np.ndarray:
    """The LR field of a training log, at every step up to its last logged one."""
    from .readers import read_run  # here: the readers load pyarrow, which a plain LR file does not need

    try:
        run = read_run(p)
    except InputError:
        raise (plain if isinstance(plain, InputError) else
               InputError(f"schedule file '{path}': neither LR values nor a log the readers know")) from None
    keep = np.isfinite(run.lr) if run.lr is not None else np.zeros(0, dtype=bool)
    if not keep.any():
        raise InputError(f"schedule file '{path}': the log has no LR field; give its name with --lr-key "
                         "when fitting, or write the LR per step (one column, or step,lr)")
    return _every_step(run.steps[keep], run.lr[keep])


def _every_step(steps: np.ndarray, lr: np.ndarray) -> np.ndarray:
    """The LR at every step up to the last one given, interpolated between the steps given."""
    return np.interp(np.arange(int(steps[-1]) + 1), steps, lr)


def _read_lr_columns(p: Path, path: str) -> np.ndarray:
    rows = []
    for line in p.read_text().splitlines():
        cells = [c for c in line.replace(",", " ").replace("\t", " ").split() if c]
        if not cells:
            continue
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            if rows:
                raise InputError(f"schedule file '{path}': cannot read the line '{line[:60]}'") from None
            if any("loss" in c.lower() for c in cells):  # a log's header, not an LR file's
                raise InputError(f"schedule file '{path}' is a training log") from None
            continue  # a header line
    if not rows:
        raise InputError(f"schedule file '{path}' holds no LR values")
    width = {len(r) for r in rows}
    if width == {1}:
        return np.array([r[0] for r in rows])
    if width == {2}:
        arr = np.array(rows)
        steps, lr = arr[:, 0], arr[:, 1]
        if np.any(np.diff(steps) <= 0):
            raise InputError(f"schedule file '{path}': steps must increase")
        return _every_step(steps, lr)
    raise InputError(f"schedule file '{path}': expected one column (lr) or two (step,lr)")
