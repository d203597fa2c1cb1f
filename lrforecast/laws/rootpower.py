"""The root-power law: the multi-power law on drops of a power of the LR, on the LR-area clock.

    L(t)  = L0 + A * S1(t)^(-alpha) - B * LD(t)
    LD(t) = sum_{k<=t} (u_{k-1} - u_k) * G(S_k(t)),   u = (eta / peak)^p,   G(x) = 1 - (C*x + 1)^(-beta)
    S_k(t) = sum_{tau=k..t} eta_tau / peak

The multi-power law (multipower.py) credits each LR drop with a gain in proportion to its size in
LR, so the last drops of a decay to zero are worth little, and it lets a drop at a low LR take
effect faster (its clock is eta_k^-gamma times the LR area). Here a drop counts by its size in
u = (eta/peak)^p: with p < 1 the same fall of the LR gains more the lower the LR is (p = 1/2: the
loss of a noisy optimiser held at one LR sits above its floor by about the square root of that LR
rather than the LR itself), and a drop takes effect over the LR area after it alone (gamma = 0).
On the 124M runs of ../shared/data/schaipp124m (decays to zero, peak LRs 1e-4 to 2e-3) this orders
cooldowns as they really end where the multi-power law does not; on the multi-power law's own runs
(../shared/data/mpl: step drops, decays to 10%) it forecasts worse (benchmarks/transfer.py).
L0, A, B are linear; alpha, beta, p and C are searched, pulled towards their priors as in the
multi-power law, and with the same weight: on every task of both benchmarks the fit keeps alpha
within 0.07 of its prior and the others within 0.03 (log10 C: 0.01), so in practice the law is
its three linear parameters on fixed shapes.

What else was tried before leaving the shapes so, with its figures on the transfer tasks, and
what the form can do at best on the 124M runs: benchmarks/rootpower-experiments.md.
"""

from __future__ import annotations

import numpy as np

from ..areas import area_lr, lr_drops
from . import multipower
from .base import SHAPE, Curve, Param
from .multipower import block_layout, columns, eval_steps, ld_from_blocks, make_blocks

name = "rootpower"

# the multi-power law's parameters but gamma, with p in its place; its priors, prior weight and gain
# prior (multipower.py says how they were chosen; B here is its B times the peak LR, the gain of a
# decay to zero, in the same units of the median loss)
_SHARED = {p.name: p for p in multipower.PARAMS}
PARAMS = (*(_SHARED[n] for n in ("L0", "A", "B", "alpha", "beta")),
          Param("p", SHAPE, grid=(0.25, 0.5, 0.75, 1.0), bounds=(0.1, 1.5), prior=0.5), _SHARED["C"])
EXAMPLE = {"L0": 2.6, "A": 0.6, "B": 0.15, "alpha": 0.45, "beta": 0.6, "p": 0.5, "C": 0.02}
PRIOR_WEIGHT, GAIN_PRIOR, GAIN_WEIGHT = multipower.PRIOR_WEIGHT, multipower.GAIN_PRIOR, multipower.GAIN_WEIGHT
# p is chosen by the decay fold (decayfold.py) where the fitted runs allow one: its prior alone
# keeps it at 0.5, which over-credits the end of a decay to zero at low peak LRs
DECAY_FOLD = ("p", (0.4, 0.5, 0.6, 0.7, 0.85, 1.0))


def basis(curve: Curve, theta: dict[str, float], mode: str, cache: dict | None = None) -> np.ndarray:
    raw = curve.eta / curve.unit
    key = (id(curve), "plan")
    plan = None if cache is None else cache.get(key)
    if plan is None:  # what the drops of u share whatever p: their steps, signs and blocks
        eta = area_lr(raw, curve.warmup, mode)
        ev = eval_steps(raw, curve.steps)
        plan = eta, ev, block_layout(lr_drops(raw, curve.warmup, mode), ev), np.cumsum(eta)
        if cache is not None:
            cache[key] = plan
    eta, ev, layout, cs = plan

    def ld_at_ev() -> np.ndarray:
        drops = lr_drops(np.maximum(raw, 0.0) ** theta["p"], curve.warmup, mode)
        blocks = make_blocks(eta, drops, ev, layout=layout)
        return ld_from_blocks(blocks, cs[ev], ev, theta["beta"], 0.0, theta["C"])

    return columns(curve, cs, ev, theta["alpha"], (id(curve), theta["p"], theta["beta"], theta["C"]),
                   ld_at_ev, cache)
