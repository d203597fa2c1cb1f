"""Which standard schedule a sparsely logged LR follows.

Trainers log the LR every few steps (Hugging Face every `logging_steps`, Megatron every
`log-interval`), so the LR of every step cannot be read from the log. Most runs use a linear warmup
and then one of a few shapes: constant; linear or cosine decay to 0 or to a floor; or WSD (stable,
then a linear, cosine or 1-sqrt decay). For each, the warmup is estimated from the rising logged
points, the decay's start and length from the falling ones in closed form, then all are refined by
least squares. A candidate counts only if it is within LR_MISMATCH (2%) of the peak at every logged
point, and the simplest one close to the best is kept (a cosine to 0 before the same with a floor,
before a WSD). Anything else (steps, restarts) is not guessed: the user gives the schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .schedules import LR_MISMATCH, Schedule, lr_alignment, parse_schedule

MAX_FIT_POINTS = 5000  # the parameters are fitted on at most this many logged points, checked on all
PEAK, WARMUP, START, TOTAL, FLOOR = range(5)  # the parameter vector


@dataclass(frozen=True)
class Family:
    name: str  # the schedule name in the spec grammar
    decay: str  # constant, linear, cosine or 1-sqrt
    stable: bool = False  # a stable phase between warmup and decay (WSD)
    floor: bool = False  # decays to a fitted floor instead of 0


FAMILIES = (  # simplest first
    Family("constant", "constant"), Family("linear", "linear"), Family("cosine", "cosine"),
    Family("linear", "linear", floor=True), Family("cosine", "cosine", floor=True),
    *(Family("wsd", d, stable=True, floor=f) for f in (False, True) for d in ("linear", "cosine", "1-sqrt")),
)


def shape(family: Family, s: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The family's LR at steps `s` for real-valued parameters z (schedules._build's formulas)."""
    start = max(z[START], z[WARMUP]) if family.stable else z[WARMUP]
    q = np.clip((s - start) / max(z[TOTAL] - start, 1e-9), 0.0, 1.0)
    f = {"cosine": 0.5 * (1.0 + np.cos(np.pi * q)), "linear": 1.0 - q, "1-sqrt": 1.0 - np.sqrt(q),
         "constant": np.ones_like(q)}[family.decay]
    lr = np.where(s < start, z[PEAK], z[FLOOR] + (z[PEAK] - z[FLOOR]) * f)
    return np.where(s < z[WARMUP], z[PEAK] * s / max(z[WARMUP], 1e-9), lr)


def _start_values(steps: np.ndarray, lr: np.ndarray) -> tuple[np.ndarray, bool]:
    """Closed-form first guesses: peak, warmup (from rising points), decay start (the last point at
    the peak), total (from the falling points, as for a linear decay), floor 0; and whether any
    logged point rises."""
    peak = float(lr.max())
    q = lr / peak
    top = int(np.argmax(lr))
    rising = (steps < steps[top]) & (q > 0) & (q < 0.999)
    warmup = float(np.median(steps[rising] / q[rising])) if rising.any() else 0.0
    plateau = np.flatnonzero((q >= 0.999) & (steps >= steps[top]))
    start = float(steps[plateau[-1]]) if plateau.size else warmup
    falling = (steps > start) & (q > 0.01) & (q < 0.99)
    last = float(steps[-1])
    total = last + 1
    if falling.any():
        s, qf = steps[falling].astype(float), q[falling]
        total = max(total, float(np.median((s - start * qf) / (1.0 - qf))))
    return np.array([peak, warmup, start, total, 0.0]), bool(rising.any())


def fit_family(family: Family, steps: np.ndarray, lr: np.ndarray,
               start: tuple[np.ndarray, bool] | None = None) -> Schedule:
    """The family's parameters that best match the logged points, rounded into a spec. `start`:
    _start_values of these points, when already computed (they are the same for every family)."""
    z, rising = _start_values(steps, lr) if start is None else start
    z = z.copy()
    last = float(steps[-1])
    peak = z[PEAK]
    if family.decay == "constant":
        z[TOTAL] = last + 1
    # a warmup no logged point shows is taken as none; the peak may hide before the first log
    free = [PEAK] + ([WARMUP] if rising else []) + ([START] if family.stable else [])
    free += ([TOTAL] if family.decay != "constant" else []) + ([FLOOR] if family.floor else [])
    lo = np.array([0.5 * peak, 0.0, 0.0, last + 1, 0.0])
    hi = np.array([2.0 * peak, last, last, max(100.0 * (last + 1), z[TOTAL] + 1), 0.9 * peak])

    def residual(v):
        full = z.copy()
        full[free] = v
        return (shape(family, steps, full) - lr) / peak

    from scipy.optimize import least_squares  # here: scipy.optimize takes most of a second to import

    z[free] = least_squares(residual, np.clip(z[free], lo[free], hi[free]), bounds=(lo[free], hi[free]),
                            x_scale=np.maximum(np.abs(np.clip(z[free], lo[free], hi[free])), peak)).x
    rounded = float(f"{z[PEAK]:.3g}")
    p = rounded if abs(rounded - z[PEAK]) < 2e-3 * z[PEAK] else z[PEAK]
    parts = [family.name, f"peak={p:.6g}", f"warmup={int(round(z[WARMUP]))}", f"total={int(round(z[TOTAL]))}"]
    if family.stable:
        parts += [f"decay_start={int(round(max(z[START], z[WARMUP])))}", f"shape={family.decay}"]
    if family.decay != "constant":
        parts.append(f"min={z[FLOOR]:.3g}" if z[FLOOR] > 1e-3 * p else "min=0")
    return parse_schedule(":".join(parts))


def recognise(steps: np.ndarray, lr: np.ndarray) -> tuple[Schedule | None, Schedule | None, float]:
    """(the schedule the logged LR follows or None, the closest candidate, its largest mismatch as
    a fraction of the peak, over every logged point). Among candidates within max(2x, +0.1% of
    peak) of the closest, the simplest is kept."""
    ok = np.isfinite(lr)
    steps, lr = np.asarray(steps)[ok], np.asarray(lr, dtype=float)[ok]
    if steps.size < 3 or lr.max() <= 0:
        return None, None, np.inf
    fit_on = np.unique(np.linspace(0, steps.size - 1, min(steps.size, MAX_FIT_POINTS)).astype(np.int64))
    scored = []
    start = _start_values(steps[fit_on], lr[fit_on])
    for family in FAMILIES:
        try:
            sched = fit_family(family, steps[fit_on], lr[fit_on], start)
        except (ValueError, InputError):  # a degenerate guess (a decay start past the end, say)
            continue
        a = lr_alignment(steps, lr, sched.lr())
        if a is not None:
            scored.append((sched, a["max_mismatch"]))
    if not scored:
        return None, None, np.inf
    best = min(m for _, m in scored)
    sched, worst = next((s, m) for s, m in scored if m <= max(2.0 * best, best + 1e-3))
    return (sched if worst <= LR_MISMATCH else None), sched, worst
