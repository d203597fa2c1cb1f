"""Fit a law to one or more runs by variable projection.

The linear parameters (L0, A, C) are solved exactly for every candidate of the nonlinear ones
(alpha, lam, ...), which are searched on a coarse grid and then refined locally with bounded
L-BFGS-B from the best grid points. No random starts: the same data give the same law.
Residuals are relative, (y - p) / y, which is the log residual to first order; `robust=True`
swaps the squares for a Huber loss (delta 1e-3, as in the reference code) solved by IRLS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .areas import DECAY_SEEN, DEFAULT_WARMUP_MODE, WARMUP_MODES, lr_decay
from .errors import FitError, InputError
from .law import FitConfig, FitWindow, Law, RunFit
from .laws import get_form
from .laws.base import (
    FLOOR,
    GAIN,
    SCALE,
    Curve,
    column,
    decode,
    free_shapes,
    linear,
    named,
    prior_centre,
    search_space,
    shapes,
)
from .metrics import curve_metrics, mean_metrics, noise_level
from .progress import Progress
from .resolve import resolve
from .run import Run
from .schedules import LR_MISMATCH, Schedule, lr_alignment

HUBER_DELTA = 1e-3
EARLY_FRACTION = 0.05  # the default window also skips the first 5% of the longest run
N_REFINE = 3
MAX_POINTS = 500  # points per run the fit uses at most
LOW_R2 = 0.9  # below this, say whether the run's noise or the law is to blame
AT_NOISE = 1.25  # an RMSE within this factor of the log's own scatter is noise-limited
SPIKE, SPIKE_NOISE = 0.1, 10.0  # a point 10% and 10 scatters off the fitted curve is a spike

@dataclass
class FitData:
    """One run prepared for fitting: its curve (schedule + steps in the window) and losses."""

    run: Run
    schedule: Schedule
    curve: Curve
    y: np.ndarray


def default_from_step(runs: Sequence[Run], schedules: Sequence[Schedule]) -> int:
    """Skip warmup and the early transient: max(warmup, 5% of the longest run's last step)."""
    warmup = max(s.warmup for s in schedules)
    last = max(int(r.steps[-1]) for r in runs)
    return max(warmup, int(round(EARLY_FRACTION * last)))


def resolved(runs: Sequence[Run], schedules: Sequence[Schedule]) -> list[Schedule]:
    """One schedule per run, `log` and `file:` ones turned into per-step values, and a schedule
    without a length given the run's (it ends at the run's last step). The length is fixed here,
    once: a fit on the first third of the run (cross-validation's horizon fold) must keep the
    whole run's schedule, not squeeze a cosine into that third."""
    if len(runs) != len(schedules):
        raise InputError(f"{len(runs)} runs but {len(schedules)} schedules; give one --schedule per run")
    out = []
    for s, r in zip(schedules, runs, strict=True):
        s = resolve(s, r)
        if s.total is None:
            s = replace(s, params={**s.params, "total": int(r.steps[-1]) + 1})
        out.append(s)
    return out


def prepare(runs: Sequence[Run], schedules: Sequence[Schedule], from_step: int | None = None
            ) -> tuple[list[FitData], list[str], int]:
    """Evaluate each (resolved) schedule per step and keep the points inside the fit window."""
    notes: list[str] = []
    start = default_from_step(runs, schedules) if from_step is None else int(from_step)
    data = []
    unit = max(s.peak for s in schedules)  # what becomes the law's peak_lr: the unit of its LRs
    for run, sched in zip(runs, schedules, strict=True):
        if run.steps.size < 3:
            raise InputError(f"{run.name}: the log holds {run.steps.size} point(s) with a loss; a fit needs "
                             "at least 3 (and a few hundred steps of training to be useful)")
        eta = sched.lr_for(run)
        inside = run.steps < eta.size
        if not inside.all():
            notes.append(f"{run.name}: dropped {int((~inside).sum())} points beyond the schedule's "
                         f"{eta.size} steps")
        if sched.origin:
            notes.append(f"{run.name}: {sched.origin}")
        if run.lr is not None and sched.name != "log":
            notes += _alignment_notes(run, sched, eta)
        keep = inside & (run.steps >= start)
        if keep.sum() > MAX_POINTS:  # evenly thinned: the fit's cost stays bounded on long logs
            notes.append(f"{run.name}: fitted on {MAX_POINTS} of its {int(keep.sum())} points, evenly spaced")
            keep = thinned(keep, MAX_POINTS)
        if keep.sum() < 3:
            raise InputError(
                f"{run.name}: only {int(keep.sum())} points between step {start} and the schedule's end "
                f"({eta.size}); lower --from-step or check the schedule's total"
            )
        data.append(FitData(run, sched, Curve(eta, run.steps[keep], sched.warmup, unit), run.loss[keep]))
    return data, notes, start


def thinned(keep: np.ndarray, at_most: int) -> np.ndarray:
    """`keep` with at most `at_most` of its True entries left, evenly spread (the first and last
    kept)."""
    idx = np.flatnonzero(keep)
    if idx.size <= at_most:
        return keep
    out = np.zeros_like(keep)
    out[idx[np.unique(np.linspace(0, idx.size - 1, at_most).astype(np.int64))]] = True
    return out


def _alignment_notes(run: Run, sched: Schedule, eta: np.ndarray) -> list[str]:
    a = lr_alignment(run.steps, run.lr, eta)
    if a is None:
        return []
    text = (f"{run.name}: logged LR vs schedule: best offset {a['offset']:+d} step, largest mismatch "
            f"{100 * a['max_mismatch']:.2f}% of peak over {a['points']} points")
    if a["max_mismatch"] > LR_MISMATCH:
        text += "; the schedule does not match the logged LR, check it"
    return [text]


def _solve(X: np.ndarray, y: np.ndarray, robust: bool, extra: tuple[np.ndarray, float] | None = None,
           free: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Linear coefficients minimising relative residuals; those not marked `free` (default: all but
    the first column, the floor) kept >= 0. `extra` is one more equation (row @ coef = target),
    counted as it is: the gain prior."""
    if free is None:
        free = np.arange(X.shape[1]) == 0
    w = 1.0 / y
    weights = np.ones_like(y)
    for _ in range(6 if robust else 1):
        sw = w * np.sqrt(weights)
        Aw, bw = X * sw[:, None], y * sw
        if extra is not None:
            Aw, bw = np.vstack([Aw, extra[0]]), np.r_[bw, extra[1]]
        coef = np.linalg.lstsq(Aw, bw, rcond=None)[0]
        if np.any(coef[~free] < 0):
            lo = np.where(free, -np.inf, 0.0)
            from scipy.optimize import lsq_linear  # here, not at the top: it is slow to import

            coef = lsq_linear(Aw, bw, bounds=(lo, np.inf), method="bvls").x
        r = (y - X @ coef) * w
        if robust:
            weights = np.minimum(1.0, HUBER_DELTA / np.maximum(np.abs(r), 1e-300))
    if robust:
        a = np.abs(r)
        obj = float(np.sum(np.where(a <= HUBER_DELTA, 0.5 * r**2, HUBER_DELTA * (a - 0.5 * HUBER_DELTA))))
    else:
        obj = float(0.5 * np.sum(r**2))
    if extra is not None:
        obj += 0.5 * float(extra[0] @ coef - extra[1]) ** 2
    return coef, obj


def _gain_equation(form, weight: float, y: np.ndarray, scale: float, centre: float = 1.0
                   ) -> tuple[np.ndarray, float] | None:
    """The pull of the annealing coefficient towards `centre` * form.GAIN_PRIOR * median loss per
    unit of the law's LR unit, the peak LR (see laws/multipower.py), as an equation whose squared
    error weighs `weight` in objective units."""
    if not weight:
        return None
    target = centre * form.GAIN_PRIOR * float(np.median(y))  # the gain in the law's unit, the peak LR
    root = np.sqrt(weight / scale)
    row = np.zeros(len(linear(form)))
    row[column(form, GAIN)] = root / target
    return row, float(root)


def fit_law(
    runs: Sequence[Run],
    schedules: Sequence[Schedule],
    *,
    law: str,
    warmup_mode: str = DEFAULT_WARMUP_MODE,
    lam: float | None = None,
    from_step: int | None = None,
    robust: bool = True,
    prior: float | None = None,
    gain_prior: float | None = None,
    shapes: dict[str, float] | None = None,
    refine: int = N_REFINE,
    gain_centre: float = 1.0,
    progress: Progress | None = None,
) -> Law:
    """Fit one named law. The options are FitConfig's: `prior` weighs a pull of the shape
    parameters towards their prior (default: the law's PRIOR_WEIGHT; 0 turns it off), `gain_prior`
    one of the gain towards the law's GAIN_PRIOR (default GAIN_WEIGHT; 0 turns it off), `lam`
    fixes the momentum decay; `shapes` fixes shape parameters at values chosen for them (the decay
    fold's choice, decayfold.py); `refine` is how many of the best grid points are refined (the
    decay fold's trial fits refine one)."""
    form = get_form(law)
    gain = gain_prior
    for option, value in (("prior", prior), ("gain_prior", gain)):
        if value is not None and not (np.isfinite(value) and value >= 0):
            raise InputError(f"{option} must be a weight >= 0 (0 turns the pull off), got {value}",
                             param=option)
    if getattr(form, "GAIN_PRIOR", None) is None:
        gain = 0.0
    elif gain is None:
        gain = form.GAIN_WEIGHT
    schedules = resolved(runs, schedules)
    fixed = _fixed(form, {"lam": lam}) | _chosen(form, shapes or {})
    z_prior = prior_centre(form, fixed)
    if z_prior is None:
        prior = 0.0
    elif prior is None:
        prior = form.PRIOR_WEIGHT
    if from_step is not None and from_step < 0:
        raise InputError(f"from_step must be a step >= 0, got {from_step}", param="from_step")
    if warmup_mode not in WARMUP_MODES:
        raise InputError(f"warmup mode '{warmup_mode}' is unknown; use one of {', '.join(WARMUP_MODES)}")
    data, notes, start = prepare(runs, schedules, from_step)
    decay = max(lr_decay(d.curve.eta, int(d.curve.steps[-1])) for d in data)
    if decay < DECAY_SEEN:
        source = ("comes from the gain prior (published fits of other runs)" if gain else
                  "is not learned from what a decay does to the loss and forecasts of schedules that "
                  "decay are guesses")
        notes.append(f"no fitted run has an LR decay (the LR falls at most {100 * decay:.0f}% below its "
                     f"peak before the last fitted point), so the annealing term ({named(form, GAIN)}) "
                     f"{source}. Fit a run that decays as well (a short cooldown from a checkpoint is "
                     "enough)")
    y = np.concatenate([d.y for d in data])
    cache: dict = {}
    scale = 1e6 / y.size  # keeps the objective O(1) for the optimiser's tolerances
    extra = _gain_equation(form, gain, y, scale, gain_centre)

    def objective(z) -> float:
        theta = decode(form, z, fixed)
        X = np.vstack([form.basis(d.curve, theta, warmup_mode, cache) for d in data])
        if not np.all(np.isfinite(X)):
            return np.inf
        penalty = prior * float(np.nansum((np.asarray(z) - z_prior) ** 2)) if prior else 0.0
        return _solve(X, y, robust, extra)[1] * scale + penalty

    grids, bounds = search_space(form, fixed)
    mesh = (np.stack([g.ravel() for g in np.meshgrid(*grids, indexing="ij")], axis=1) if grids
            else np.zeros((1, 0)))  # every shape fixed: only the linear parameters are fitted
    values = np.full(len(mesh), np.inf)
    # The grid in order of its prior penalty: the objective is at least the penalty, so once the
    # penalty reaches the `refine`-th best objective so far no later point can join the best, and
    # the rest of the grid is skipped (the same starts as the whole grid, in a fraction of the time).
    penalties = prior * np.nansum((mesh - z_prior) ** 2, axis=1) if prior else np.zeros(len(mesh))
    for n, i in enumerate(np.argsort(penalties, kind="stable")):
        if n >= refine and penalties[i] > np.partition(values, refine - 1)[refine - 1]:
            break
        values[i] = objective(mesh[i])
        if progress is not None and (n % 16 == 0 or n == len(mesh) - 1):
            progress(n + 1, len(mesh) + refine)
    from scipy.optimize import minimize  # here, not at the top: scipy.optimize is slow to import

    best_z, best_f = (None, np.inf) if grids else (mesh[0], float(values[0]))
    for k, i in enumerate(np.argsort(values)[:refine] if grids else ()):
        res = minimize(objective, mesh[i], method="L-BFGS-B", bounds=bounds,
                       options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 500})
        if res.fun < best_f:
            best_z, best_f = res.x, float(res.fun)
        if progress is not None:
            progress(len(mesh) + k + 1, len(mesh) + refine)
    if best_z is None or not np.isfinite(best_f):
        raise FitError("the fit did not converge to finite parameters; check the runs and schedules")
    theta = decode(form, best_z, fixed)
    X_all = [form.basis(d.curve, theta, warmup_mode) for d in data]
    coef, _ = _solve(np.vstack(X_all), y, robust, extra)
    params = {**{p.name: float(c) for p, c in zip(linear(form), coef, strict=True)}, **theta}
    if not all(np.isfinite(v) for v in params.values()):
        raise FitError(f"the fit gave non-finite parameters {params}; check the runs and schedules")
    a = column(form, SCALE)  # what the power law explains
    fall = coef[a] * np.ptp(np.concatenate([X[:, a] for X in X_all]))
    rising = [note for d in data for note in _rising_note(d)]
    if not fall > 1e-6 * float(np.median(y)):
        raise FitError("the fit is degenerate (no power-law decrease, A = 0): the loss does not fall "
                       "with the LR area; "
                       + (rising[0] if rising else "fit more of the run or check the loss column"))
    for (lo, hi), zi, nm in zip(bounds, best_z, [s.name for s in free_shapes(form, fixed)], strict=True):
        if min(zi - lo, hi - zi) < 1e-6 * (hi - lo):
            edge = "lower" if zi - lo < hi - zi else "upper"
            notes.append(f"{nm} ended at the {edge} edge of its search range; the fit may be poorly "
                         "determined")

    run_info = []
    for d, X in zip(data, X_all, strict=True):
        pred = X @ coef
        run_info.append(RunFit(d.run.name, d.run.source, d.schedule.spec, int(d.y.size),
                               curve_metrics(d.y, pred), noise_level(d.y)))
        notes += _run_notes(run_info[-1], d, pred)
    notes += rising
    doubts = [f"{d.run.name}: its loss rises over the fitted steps" for d in data if _rising_note(d)]
    floor = named(form, FLOOR)
    if params[floor] < 0:
        notes.append(f"{floor} = {params[floor]:.3g}: the loss the law tends to with unlimited training is "
                     "below zero, which no cross-entropy loss can reach, so the law does not describe "
                     "this run (as when fine-tuning drives the loss towards zero) and forecasts past "
                     "the fitted steps are not meaningful")
        doubts.append(f"its floor {floor} = {params[floor]:.3g} is below zero")
    peaks = [s.peak for s in schedules]
    if max(peaks) > 1.01 * min(peaks):
        notes.append("the runs have different peak LRs; the law assumes one peak LR")
    return Law(
        name=law, params=params, peak_lr=max(peaks), warmup=max(s.warmup for s in schedules),
        config=FitConfig(warmup_mode=warmup_mode, lam=lam, from_step=from_step, robust=robust,
                         prior=float(prior), gain_prior=float(gain)),
        horizon=max(int(d.curve.steps[-1]) for d in data),
        total=max(int(d.schedule.total) for d in data),  # a point at step = total is past it (lr_for)
        fit_window=FitWindow(start, max(int(d.curve.steps[-1]) for d in data), float(decay)),
        runs=tuple(run_info), metrics=mean_metrics([r.metrics for r in run_info]), notes=tuple(notes),
        doubts=tuple(doubts),
    )


def _run_notes(info: RunFit, d: FitData, pred: np.ndarray) -> list[str]:
    """Spikes (points far off the curve and beyond the log's scatter) named, then the fit judged
    on the other points: the robust loss discounts spikes, the run's metrics count them."""
    off = np.abs(d.y - pred)
    spikes = (off > SPIKE * np.abs(d.y)) & (off > SPIKE_NOISE * np.nan_to_num(info.noise))
    if not spikes.any():
        return _fit_quality_notes(info)
    worst = int(np.argmax(off / np.abs(d.y)))
    return [f"{d.run.name}: {int(spikes.sum())} point(s) more than {SPIKE:.0%} (and {SPIKE_NOISE:g}x the "
            f"log's scatter) off the fitted curve, worst at step {int(d.curve.steps[worst])} (loss "
            f"{d.y[worst]:.4g} against {pred[worst]:.4g}): loss spikes or bad records; the fit "
            "discounts them, its metrics count them"] + _fit_quality_notes(
        replace(info, metrics=curve_metrics(d.y[~spikes], pred[~spikes]), noise=noise_level(d.y[~spikes])))


def _rising_note(d: FitData) -> list[str]:
    """Name a loss that ends higher than it starts in the window: the laws only describe one that falls."""
    tenth = max(1, d.y.size // 10)
    first, last = float(np.median(d.y[:tenth])), float(np.median(d.y[-tenth:]))
    if last <= first:
        return []
    return [f"{d.run.name}: the loss rises over the fitted steps (median {first:.4g} in the first tenth, "
            f"{last:.4g} in the last): a diverging run, or not the loss (see --loss-key)? The laws "
            "describe a loss that falls with training, so forecasts from this fit are not meaningful"]


def _fit_quality_notes(info: RunFit) -> list[str]:
    """When the law explains little of a run, say whether that is the log's noise or the law."""
    r2, rmse, noise = info.metrics["R2"], info.metrics["RMSE"], info.noise
    if not r2 < LOW_R2 or not np.isfinite(noise):
        return []
    if rmse <= AT_NOISE * noise:
        return [f"{info.name}: R2 {r2:.2f}, but the residuals (RMSE {rmse:.4f}) are the log's own "
                f"point-to-point scatter ({noise:.4f}): the fit follows the trend, and single logged "
                "losses will scatter around the forecast by about that much"]
    ratio = f"{rmse / noise:.3g}x" if noise > 0 else "well above"
    return [f"{info.name}: R2 {r2:.2f} and residuals {ratio} the log's point-to-point "
            f"scatter: the law does not describe this run well; treat forecasts from it as rough"]


def _chosen(form, values: dict[str, float]) -> dict[str, float]:
    """Shape parameters fixed at a chosen value, each within its search bounds."""
    out = {}
    for name, value in values.items():
        param = next((p for p in shapes(form) if p.name == name), None)
        if param is None:
            raise InputError(f"{name} is not a shape parameter of the {form.name} law", param="shapes")
        lo, hi = param.bounds
        if not lo <= param.search(value) <= hi:
            raise InputError(f"{name} = {value} is outside the {form.name} law's range for it",
                             param="shapes")
        out[name] = float(value)
    return out


def _fixed(form, values: dict[str, float | None]) -> dict[str, float]:
    """The shape parameters a user fixed (None: not fixed), checked against the law's contract."""
    fixed = {}
    for name, value in values.items():
        if value is None:
            continue
        param = next((p for p in shapes(form) if p.name == name), None)
        if param is None or param.fix_range is None:
            raise InputError(f"{name} does not apply to the {form.name} law", param=name)
        lo, hi = param.fix_range
        if not lo <= value < hi:
            raise InputError(f"{name} must lie in [{lo:g}, {hi:g}), got {value}", param=name)
        fixed[name] = float(value)
    return fixed
