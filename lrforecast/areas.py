"""The LR areas of the annealing laws: the only place they are computed.

S1(s) = sum_{i<=s} eta_i                      forward area (inclusive of step s)
m_i   = lam * m_{i-1} + (eta_{i-1} - eta_i)   annealing momentum
S2(s) = sum_{i<=s} m_i                        annealing area

Warmup modes say which LRs enter the areas during linear warmup:
- "real":    the real warmup LRs in S1 and S2 (the LR before step 0 is 0, so a run without
             warmup starts with one rise of `peak`: negative momentum that fades with lam).
- "real-s1": the real warmup LRs in S1; S2 only from LR changes after warmup.
- "peak":    warmup steps counted as peak in S1 and S2 (the authors' reference code).
"""

from __future__ import annotations

import numpy as np

WARMUP_MODES = ("real", "real-s1", "peak")
DEFAULT_WARMUP_MODE = "real"
DECAY_SEEN = 0.1  # a fit learns what a decay does only from a run whose LR falls 10% below peak


def area_lr(eta: np.ndarray, warmup: int, mode: str) -> np.ndarray:
    """The LR sequence the areas are built from under a warmup mode."""
    if mode == "peak" and warmup > 0:
        eta = eta.copy()
        eta[:warmup] = eta[warmup] if warmup < eta.size else eta.max()
    return eta


def forward_area(eta: np.ndarray, warmup: int = 0, mode: str = "real") -> np.ndarray:
    """S1 at every step (index = step)."""
    return np.cumsum(area_lr(eta, warmup, mode))


def lr_drops(eta: np.ndarray, warmup: int = 0, mode: str = "real") -> np.ndarray:
    """d_i = eta_{i-1} - eta_i, the per-step LR decrease that drives the momentum."""
    e = area_lr(eta, warmup, mode)
    before = 0.0 if mode == "real" else e[0]
    d = -np.diff(e, prepend=before)
    if mode == "real-s1":
        d[: warmup + 1] = 0.0
    return d


def decayed_sum(x: np.ndarray, lam: float) -> np.ndarray:
    """m_i = lam * m_{i-1} + x_i (m_{-1} = 0), what scipy.signal.lfilter([1], [1, -lam], x) gives, in
    O(n) with numpy alone (scipy.signal takes over a second to import): within a block of steps,
    m_i = lam^i (carry + sum_k lam^-k x_k), with blocks short enough that lam^-k stays finite."""
    x = np.asarray(x, dtype=np.float64)
    if lam == 0.0 or x.size == 0:
        return x.copy()
    step = -np.log(lam)  # lam^-k = exp(k * step)
    block = max(1, int(min(x.size, 4096, 600.0 / step)))
    out = np.empty_like(x)
    k = np.arange(block, dtype=np.float64)
    grow, shrink = np.exp(k * step), np.exp(-k * step)
    carry = 0.0
    for start in range(0, x.size, block):
        stop = min(start + block, x.size)
        n = stop - start
        acc = np.cumsum(x[start:stop] * grow[:n])
        out[start:stop] = shrink[:n] * (carry + acc)
        carry = lam * out[stop - 1]
    return out


def annealing_area(eta: np.ndarray, lam: float, warmup: int = 0, mode: str = "real") -> np.ndarray:
    """S2 at every step (index = step); O(n) through a first-order IIR filter (decayed_sum)."""
    return np.cumsum(decayed_sum(lr_drops(eta, warmup, mode), lam))


def lr_decay(eta: np.ndarray, stop: int | None = None) -> float:
    """How far the LR falls below its peak up to step `stop` (default: the end), as a fraction of
    that peak. The annealing term is learned only from runs that decay and used only on schedules
    that do."""
    e = eta[: eta.size if stop is None else stop + 1]
    if e.size == 0 or e.max() <= 0:
        return 0.0
    top = int(np.argmax(e))
    return float(1.0 - e[top:].min() / e[top])
