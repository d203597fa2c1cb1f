"""Which standard schedule a sparsely logged LR follows.

Trainers log the LR every few steps (Hugging Face every `logging_steps`), so the LR of every step
cannot be read from the log. Most runs use one of a few schedules: a linear warmup, then constant,
or linear or cosine decay to 0 (the Hugging Face schedulers). For each, the warmup is estimated
from the rising logged points and the length from the decaying ones, in closed form, then peak,
warmup and length are refined by least squares; the candidate is checked against every logged
point and kept only if it is within MATCH of the peak at all of them. Anything else (a WSD, steps,
a floor above 0) is not guessed: the user gives the schedule.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from .schedules import Schedule, lr_alignment, parse_schedule

MATCH = 0.02  # largest mismatch allowed, as a fraction of the peak LR (a fit warns beyond it too)


def shape(name: str, s: np.ndarray, peak: float, warmup: float, total: float) -> np.ndarray:
    """The family's LR at steps `s`, for real-valued warmup and total (schedules._build's formulas)."""
    q = np.clip((s - warmup) / max(total - warmup, 1e-9), 0.0, 1.0)
    decay = {"cosine": 0.5 * (1.0 + np.cos(np.pi * q)), "linear": 1.0 - q, "constant": np.ones_like(q)}[name]
    return peak * np.where(s < warmup, s / max(warmup, 1e-9), decay)


def candidates(steps: np.ndarray, lr: np.ndarray) -> list[Schedule]:
    """One schedule per family: parameters estimated in closed form, refined by least squares on
    the logged points (a first log after the decay began hides the peak), then rounded (a peak
    within 0.2% of a 3-digit value is taken as that value)."""
    peak = float(lr.max())
    top = int(np.argmax(lr))
    q = lr / peak
    rising = (steps < steps[top]) & (q > 0) & (q < 0.999)
    warmup = float(np.median(steps[rising] / q[rising])) if rising.any() else 0.0
    last = float(steps[-1])
    falling = (steps > max(steps[top], warmup)) & (q > 0.01) & (q < 0.99)
    s, qf = steps[falling].astype(float), q[falling]
    x = np.arccos(2.0 * qf - 1.0) / np.pi  # cosine: q = (1 + cos(pi x)) / 2, x = (s - W) / (T - W)
    starts = {"constant": last + 1}
    if falling.any():
        starts["cosine"] = float(np.median(warmup + (s - warmup) / x))
        starts["linear"] = float(np.median((s - warmup * qf) / (1.0 - qf)))
    out = []
    for name, total in starts.items():
        # a warmup no logged point shows is taken as none; the peak may hide before the first log
        free = [0, 1, 2] if rising.any() else [0, 2]
        z = np.array([peak, warmup, max(total, last + 1)])
        lo = np.array([0.5 * peak, 0.0, last + 1])
        hi = np.array([2.0 * peak, last, max(100.0 * (last + 1), z[2] + 1)])
        scale = np.array([peak, max(last, 1.0), max(last, 1.0)])

        def residual(v, n=name, z=z, free=free):
            full = z.copy()
            full[free] = v
            return (shape(n, steps, *full) - lr) / peak

        fit = least_squares(residual, np.clip(z[free], lo[free], hi[free]), bounds=(lo[free], hi[free]),
                            x_scale=scale[free])
        z[free] = fit.x
        round_peak = float(f"{z[0]:.3g}")
        peak_fit = round_peak if abs(round_peak - z[0]) < 2e-3 * z[0] else z[0]
        spec = f"{name}:peak={peak_fit:.6g}:warmup={int(round(z[1]))}:total={int(round(z[2]))}"
        out.append(parse_schedule(spec + ("" if name == "constant" else ":min=0")))
    return out


def recognise(steps: np.ndarray, lr: np.ndarray) -> tuple[Schedule | None, Schedule | None, float]:
    """(the schedule the logged LR follows or None, the closest candidate, its largest mismatch as
    a fraction of the peak)."""
    ok = np.isfinite(lr)
    steps, lr = np.asarray(steps)[ok], np.asarray(lr)[ok]
    if steps.size < 3 or lr.max() <= 0:
        return None, None, np.inf
    best, worst = None, np.inf
    for sched in candidates(steps, lr):
        a = lr_alignment(steps, lr, sched.lr())
        if a is not None and a["max_mismatch"] < worst:
            best, worst = sched, a["max_mismatch"]
    return (best if worst <= MATCH else None), best, worst
