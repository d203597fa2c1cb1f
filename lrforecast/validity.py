"""Where a schedule takes a law outside what it was fitted on: the warnings a forecast carries, and
the forecasts refused because the loss the law gives cannot be (not finite, not above zero, below its
floor) or has nothing to come from (a decay ranked by a law that never saw one)."""

from __future__ import annotations

import numpy as np

from .areas import DECAY_SEEN, lr_decay
from .errors import ForecastError, InputError
from .law import Law
from .schedules import Schedule

HORIZON_FACTOR = 3.0  # beyond 3x the longest fitted step, say the forecast is a far extrapolation
ZERO_TAIL = 0.01  # more than 1% of the steps at LR 0 after the peak: the law's known failure
# an LR that ends below this share of the lowest LR the fitted runs reached: the gain of the fall
# below it is extrapolated (on the shared 124M runs at peak 2e-3, every decay to zero forecast from a
# constant run and a cosine to 10% ended 0.018 to 0.028 too high at 50k)
BELOW_FITTED = 0.5


def unlearned_decay(law: Law, eta: np.ndarray) -> bool:
    """Whether `eta` decays although the runs the law was fitted on had no LR decay to learn the
    annealing term from."""
    return law.fit_window.lr_decay < DECAY_SEEN and lr_decay(eta) >= DECAY_SEEN


def below_fitted(law: Law, eta: np.ndarray) -> bool:
    """Whether `eta` ends well below the lowest LR (as a share of the peak) the law was fitted on."""
    fitted_low = 1.0 - law.fit_window.lr_decay
    return law.fit_window.lr_decay >= DECAY_SEEN and 1.0 - lr_decay(eta) < BELOW_FITTED * fitted_low


def gain_from_prior(law: Law) -> bool:
    """Whether the law's annealing coefficient was pulled towards its gain prior (the multi-power
    law's default): then what a decay gains has a source even when the runs showed no decay."""
    return law.config.gain_prior > 0.0


def refuse_unlearned_decay(law: Law, spec: str, eta: np.ndarray) -> None:
    """Exit 2 rather than rank a schedule that decays by a law that never saw a decay and has no
    gain prior to say what one gains."""
    if unlearned_decay(law, eta) and not gain_from_prior(law):
        raise InputError(f"'{spec}' decays, but the law was fitted on runs without an LR decay, so "
                         "it cannot tell what a decay gains; fit a run that decays as well (a short "
                         "cooldown from a checkpoint is enough), or the multi-power law, whose gain "
                         "prior says what a decay gains")


def checked(law: Law, label: str, loss: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """The forecast `loss` of a schedule, refused (ForecastError, exit 3) where no loss can be: not
    finite, at or below zero, or below the law's floor (the loss it tends to with unlimited training),
    saying what the law was not fitted on that would explain it."""
    loss = np.asarray(loss, dtype=float)
    floor = law.floor
    bad = ~np.isfinite(loss) | (loss <= 0)
    if floor is not None and floor > 0:
        bad |= loss < floor * (1 - 1e-9)
    if not bad.any():
        return loss
    nonfinite, nonpositive = ~np.isfinite(loss), loss <= 0
    worst = (loss[nonfinite][0] if nonfinite.any() else loss[nonpositive][0] if nonpositive.any()
             else float(loss[bad].min()))
    what = ("not a number" if not np.isfinite(worst) else f"{worst:.4g}, at or below zero" if worst <= 0
            else f"{worst:.4g}, below the law's floor ({law.floor_name} = {floor:.4g})")
    if floor is not None and floor < 0:
        why = (f"the law's floor is below zero ({law.floor_name} = {floor:.3g}): it does not describe these "
               "runs")
    elif unlearned_decay(law, eta):
        why = "the law was fitted on runs without an LR decay, so it cannot say what one does"
    else:
        why = "the schedule takes the law far from what it was fitted on"
    raise ForecastError(f"'{label}': the forecast loss is {what}; {why}. Fit runs like the schedule asked "
                        "for (a decay, a similar length and peak LR)")


def validity_warnings(law: Law, schedule: Schedule, eta: np.ndarray) -> list[str]:
    """Where this schedule takes the law outside what it was fitted on."""
    out = []
    peak = float(eta.max())
    label = schedule.label or schedule.spec
    if abs(peak - law.peak_lr) > 0.01 * law.peak_lr:
        out.append(f"{label}: peak LR {peak:.3g} differs from the fitted {law.peak_lr:.3g}; "
                   "the law holds only at its fitted peak (it always favours a larger LR)")
    after = eta[int(np.argmax(eta)):]
    if np.mean(after <= 0) > ZERO_TAIL:
        out.append(f"{label}: {int((after <= 0).sum())} steps at LR 0; the law wrongly predicts gains "
                   "from zero-LR steps")
    if eta.size - 1 > HORIZON_FACTOR * law.horizon:
        out.append(f"{label}: {eta.size} steps is over {HORIZON_FACTOR:g}x the longest fitted run "
                   f"({law.horizon}); a far extrapolation")
    start = law.fit_window.from_step
    if eta.size - 1 < start:
        out.append(f"{label}: ends at step {eta.size - 1}, before the first fitted step ({start}); "
                   "the law was fitted on later steps only")
    if unlearned_decay(law, eta):
        out.append(f"{label}: decays, but the law was fitted on runs without a decay: what the decay "
                   "gains comes from the gain prior (published fits of other runs), not from these runs"
                   if gain_from_prior(law) else
                   f"{label}: decays, but the law was fitted on runs without a decay, so what the "
                   "decay does to the loss is a guess")
    elif below_fitted(law, eta):
        out.append(f"{label}: its LR falls to {1 - lr_decay(eta):.0%} of its peak, below the "
                   f"{1 - law.fit_window.lr_decay:.0%} the fitted runs reached; what the fall below that "
                   "gains is extrapolated from the fitted decay")
    if schedule.warmup != law.warmup and schedule.name not in ("file", "log"):
        out.append(f"{label}: warmup {schedule.warmup} differs from the fitted {law.warmup}")
    return out

