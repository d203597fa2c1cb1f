"""The multi-power law (Luo et al., ICLR 2025).

    L(t)  = L0 + A * S1(t)^(-alpha) - B * LD(t)
    LD(t) = sum_{k<=t} (eta_{k-1} - eta_k) * G(eta_k^(-gamma) * S_k(t)),   G(x) = 1 - (C*x + 1)^(-beta)
    S_k(t) = sum_{tau=k..t} eta_tau

S1 includes the warmup LRs (the paper's S_W). L0, A, B are linear; alpha, beta, gamma, C are
searched (beta and gamma in (0, 1), C on a log scale).

LD is a double sum over drops k and wanted steps t. It is evaluated only at the wanted steps, in
chunks of steps that bound memory, and the k axis is compressed: steps where the LR does not change
contribute nothing and are left out, and runs of consecutive drops are merged into blocks summed at
their drop-weighted centre. Blocks never straddle a wanted step (so `k <= t` stays exact) and grow
geometrically with distance from the next wanted step, so the steps whose G changes fastest, just
before t, stay single. `ld_error_bound` bounds the error this makes; the tests check it.
When far more steps are wanted than MAX_EVAL (a dense prediction), LD is computed at MAX_EVAL of
them, denser where it bends fastest (after the start, the end of warmup, each decay start and large
LR changes), and interpolated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..areas import area_lr, lr_drops
from .base import FLOOR, GAIN, SCALE, SHAPE, Curve, Param

name = "multipower"

MAX_BLOCK = 64  # the longest run of drops merged into one block
MAX_EVAL = 1500  # beyond this many wanted steps, LD is interpolated from this many
CHUNK = 1 << 21  # elements of the (steps x blocks) work array computed at once, at most
ROWS = 32  # wanted steps per chunk: the array of a chunk is as wide as the blocks its last row sees

# The fit pulls (alpha, beta, gamma, log10 C) towards the reference code's starting point (each
# parameter's `prior`) with weight PRIOR_WEIGHT (objective units: 1 = the squared relative error of
# 1e-3 over every point). Unregularised, the seven-parameter law overfits three runs. The weight is
# the one of 3, 30, 100, 300, 3000 with the lowest cross-validated PredE (selection.py's folds, on
# the train runs of the reference protocol only), summed over the 25M and 100M sizes.
PRIOR_WEIGHT = 100.0
# The law works with the LR in units of the fitted peak (Curve.unit), so that the units of the LR
# change no forecast. The reference code's C = 1 was for raw LRs at its peak of 3e-4: with the LR in
# units of the peak, x = C eta^-gamma S scales by peak^(1 - gamma), so its C = 1 at gamma = 0.5 is
# log10 C = C_SHIFT here; the prior, grid and bounds of log10 C are the reference's moved by that.
C_SHIFT = 0.5 * float(np.log10(3e-4))
PARAMS = (
    Param("L0", FLOOR),
    Param("A", SCALE),
    Param("B", GAIN),
    Param("alpha", SHAPE, grid=tuple(np.linspace(0.1, 1.0, 10)), bounds=(0.02, 2.0), prior=0.5),
    Param("beta", SHAPE, grid=(0.2, 0.4, 0.6, 0.8), bounds=(0.02, 0.999), prior=0.5),
    Param("gamma", SHAPE, grid=(0.2, 0.4, 0.6, 0.8), bounds=(0.02, 0.999), prior=0.5),
    Param("C", SHAPE, grid=tuple(np.linspace(-2.5, 1.5, 5) + C_SHIFT), bounds=(-4.0 + C_SHIFT, 3.0 + C_SHIFT),
          transform="log10", prior=C_SHIFT),
)
def in_peak_units(params: dict[str, float], peak: float) -> dict[str, float]:
    """Parameters for raw LRs (as the authors publish them, and law files of schema version 1 kept
    them) in this module's units of the peak LR: A times peak^-alpha, B times the peak and C times
    peak^(1 - gamma), so that the law's forecasts stay the same."""
    return {**params, "A": params["A"] * peak ** -params["alpha"], "B": params["B"] * peak,
            "C": params["C"] * peak ** (1.0 - params["gamma"])}


def FROM_VERSION_1(params: dict[str, float], peak: float) -> dict[str, float]:  # noqa: N802
    """A version-1 law file kept the parameters for raw LRs."""
    return in_peak_units(params, peak)


EXAMPLE = in_peak_units(
    {"L0": 2.6, "A": 0.6, "B": 450.0, "alpha": 0.45, "beta": 0.6, "gamma": 0.65, "C": 2.0}, 3e-4)

# B * peak LR is the loss a decay to zero gains once it has fully taken effect. A run that has seen
# little decay (a pilot: the first third of a cosine falls 22%) barely pins B down and its fit puts
# B near 0, so it forecasts almost no gain from the rest of the decay (GPT-2 124M, llm.c: 3.7% off at
# the end). B is pulled towards GAIN_PRIOR of the median fitted loss per unit of peak LR: the
# geometric mean of the authors' fits on the protocol's train runs (25M 3.2%, 100M 4.2%, 400M 5.4%).
# GAIN_WEIGHT (1 = a B off by 100% costs as much as a relative error of 1e-3 at every point) is the
# one of 0, 0.1, 0.3, 1, 3 with the lowest cross-validated error on those train runs (25M + 100M).
GAIN_PRIOR = 0.042
GAIN_WEIGHT = 0.3


@dataclass
class Blocks:
    """Drops merged into blocks: total drop, centre (as cumulative LR before it) and LR there.

    The last four fields serve only `ld_error_bound`: each block's LR range and, at the first
    wanted step after it, the LR area since its first and since its last drop.
    """

    drop: np.ndarray  # sum of d_k in the block
    cs_before: np.ndarray  # sum_{tau < k_centre} eta_tau (interpolated at the centre)
    eta: np.ndarray  # drop-weighted LR of the block
    first: np.ndarray  # first step of the block (for masking k <= t)
    eta_lo: np.ndarray
    eta_hi: np.ndarray
    s_hi: np.ndarray
    s_lo: np.ndarray


@dataclass
class Layout:
    """Which drop goes in which block: what make_blocks needs of the drops beyond their sizes (the
    steps with a drop, their signs and the wanted steps), so that drops of the same steps and signs
    but other sizes (rootpower.py's, for each p) reuse it."""

    k: np.ndarray  # the steps with a drop, at or before the last wanted step
    bid: np.ndarray  # the block of each
    starts: np.ndarray  # index into k of each block's first and last drop
    ends: np.ndarray
    t_next: np.ndarray  # the first wanted step at or after each block


def block_layout(d: np.ndarray, steps: np.ndarray, max_block: int = MAX_BLOCK, per_octave: int = 1) -> Layout:
    """Partition the non-zero drops at or before the last wanted step into blocks (module doc), with
    `per_octave` bands per doubling of the distance to the next wanted step."""
    last = int(steps[-1])
    k = np.flatnonzero(d[: last + 1])
    if k.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Layout(empty, empty, empty, empty, empty)
    # distance from each drop to the next wanted step at or after it
    nxt = steps[np.searchsorted(steps, k)]
    dist = nxt - k
    # a new block at each change of segment (next wanted step), sign, geometric distance band,
    # every `max_block` steps, and at every gap in the drops
    band = np.floor(per_octave * np.log2(dist + 1.0)).astype(np.int64)
    chunk = dist // max_block
    sign = np.sign(d[k]).astype(np.int64)
    new = np.ones(k.size, dtype=bool)
    new[1:] = ((nxt[1:] != nxt[:-1]) | (band[1:] != band[:-1]) | (chunk[1:] != chunk[:-1])
               | (sign[1:] != sign[:-1]) | (k[1:] != k[:-1] + 1))
    starts = np.flatnonzero(new)
    return Layout(k, np.cumsum(new) - 1, starts, np.r_[starts[1:], k.size] - 1, nxt[starts])


def make_blocks(eta: np.ndarray, d: np.ndarray, steps: np.ndarray, max_block: int = MAX_BLOCK,
                layout: Layout | None = None) -> Blocks:
    """The drops `d` merged into blocks (see module doc), on `layout` if given (it must come from
    drops at the same steps with the same signs).

    max_block=1 gives every drop its own block: the exact double sum.
    """
    lay = block_layout(d, steps, max_block) if layout is None else layout
    k, bid, starts, ends = lay.k, lay.bid, lay.starts, lay.ends
    if k.size == 0:
        return Blocks(*([np.zeros(0)] * 3), np.zeros(0, dtype=np.int64), *([np.zeros(0)] * 4))
    cs = np.concatenate([[0.0], np.cumsum(eta)])  # cs[i] = sum_{tau < i} eta_tau
    w = np.abs(d[k])
    wsum = np.bincount(bid, weights=w)
    centre = np.bincount(bid, weights=w * k) / np.where(wsum > 0, wsum, 1.0)
    return Blocks(
        drop=np.bincount(bid, weights=d[k]),
        cs_before=np.interp(centre, np.arange(cs.size), cs),
        eta=np.bincount(bid, weights=w * eta[k]) / np.where(wsum > 0, wsum, 1.0),
        first=k[starts],
        eta_lo=np.minimum.reduceat(eta[k], starts),
        eta_hi=np.maximum.reduceat(eta[k], starts),
        s_hi=cs[lay.t_next + 1] - cs[k[starts]],
        s_lo=cs[lay.t_next + 1] - cs[k[ends]],
    )


def ld_error_bound(blocks: Blocks, beta: float, gamma: float, C: float) -> float:
    """An upper bound on |LD_blocks - LD_exact| at any wanted step.

    Every drop of a block has x_k = eta_k^-gamma * S_k(t) between x_lo = eta_hi^-gamma * S_lo(t)
    and x_hi = eta_lo^-gamma * S_hi(t), and so has the block's centre; G is increasing, so the
    block's error is at most |drop| * (G(x_hi) - G(x_lo)). After the block, S_lo and S_hi grow by
    the same area D; the spread is taken at the largest of D = 0 and D = area * 2^j (j < 40).
    """
    if blocks.drop.size == 0:
        return 0.0
    grow = np.r_[0.0, 2.0 ** np.arange(40)][:, None] * np.maximum(blocks.s_hi - blocks.s_lo,
                                                                  blocks.eta_hi)[None, :]
    with np.errstate(divide="ignore", over="ignore"):
        x_hi = C * np.where(blocks.eta_lo > 0, blocks.eta_lo, np.nan) ** -gamma * (blocks.s_hi + grow)
        x_lo = C * np.where(blocks.eta_hi > 0, blocks.eta_hi, np.nan) ** -gamma * (blocks.s_lo + grow)
        spread = (x_lo + 1.0) ** -beta - (x_hi + 1.0) ** -beta
    spread = np.where(np.isnan(spread), 1.0, spread)
    return float(np.sum(np.abs(blocks.drop) * spread.max(axis=0)))


def ld_from_blocks(blocks: Blocks, cs_t: np.ndarray, steps: np.ndarray, beta: float, gamma: float,
                   C: float) -> np.ndarray:
    """LD at `steps` given the blocks; cs_t[i] = sum_{tau <= steps[i]} eta_tau.

    Blocks that start after t have S_k(t) <= 0 and so G = 0: no mask is needed. The rows go in
    chunks of ROWS so that each chunk's (rows x blocks) array is little wider than the blocks
    started by its last row, and G = -expm1(-beta * log1p(x)) keeps its precision where x is small."""
    out = np.zeros(steps.size)
    if blocks.drop.size == 0:
        return out
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scale = C * np.where(blocks.eta > 0, blocks.eta, np.nan) ** -gamma
    zero_lr = ~np.isfinite(scale)  # LR 0 at the drop: its full effect as soon as any LR follows
    scale = np.where(zero_lr, 0.0, scale)
    zero_drop = np.where(zero_lr, blocks.drop, 0.0)
    n_before = np.searchsorted(blocks.first, steps, side="right")
    rows = max(1, min(ROWS, CHUNK // blocks.drop.size))
    for i in range(0, steps.size, rows):
        width = int(n_before[i:i + rows].max())
        S = cs_t[i:i + rows, None] - blocks.cs_before[None, :width]
        np.maximum(S, 0.0, out=S)
        if zero_lr.any():
            out[i:i + rows] += (S > 0) @ zero_drop[:width]
        S *= scale[None, :width]
        np.log1p(S, out=S)
        S *= -beta
        np.expm1(S, out=S)  # -G
        out[i:i + rows] -= S @ blocks.drop[:width]
    return out


def eval_steps(eta: np.ndarray, steps: np.ndarray, max_eval: int = MAX_EVAL) -> np.ndarray:
    """At most `max_eval` of `steps` at which to compute LD: even spacing plus the step before and
    points at geometric distances after each place where LD bends fastest: the start (the LR rises
    from 0), the end of warmup, large LR changes and the start of each decay. Always the first and
    last."""
    if steps.size <= max_eval:
        return steps
    picks = [steps[np.linspace(0, steps.size - 1, max_eval // 2).astype(np.int64)]]
    d = np.diff(eta, prepend=0.0)
    big = np.flatnonzero(np.abs(d) > 0.05 * eta.max())
    falls = np.flatnonzero((d[1:] < 0) & (d[:-1] >= 0)) + 1  # where a decay starts
    anchors = np.r_[0, int(np.argmax(eta)), big[big > 0], falls]
    offsets = np.unique(np.r_[-1, 0, np.round(2 ** np.arange(0, 15, 0.25))]).astype(np.int64)
    for k in anchors[: max_eval // (2 * offsets.size)]:
        picks.append(k + offsets)
    cand = np.unique(np.concatenate(picks))
    cand = cand[(cand >= steps[0]) & (cand <= steps[-1])]
    return steps[np.unique(np.clip(np.searchsorted(steps, cand), 0, steps.size - 1))]


def _plan(curve: Curve, mode: str) -> tuple[np.ndarray, Blocks, np.ndarray]:
    """What LD needs whatever the parameters: the steps it is computed at, the blocks, cumsum(eta)."""
    raw = curve.eta / curve.unit
    eta = area_lr(raw, curve.warmup, mode)
    ev = eval_steps(raw, curve.steps)
    return ev, make_blocks(eta, lr_drops(raw, curve.warmup, mode), ev), np.cumsum(eta)


def basis(curve: Curve, theta: dict[str, float], mode: str, cache: dict | None = None) -> np.ndarray:
    key = (id(curve), "plan")
    if cache is not None and key in cache:
        ev, blocks, cs = cache[key]
    else:
        ev, blocks, cs = _plan(curve, mode)
        if cache is not None:
            cache[key] = (ev, blocks, cs)
    shape = (theta["beta"], theta["gamma"], theta["C"])
    return columns(curve, cs, ev, theta["alpha"], (id(curve), *shape),
                   lambda: ld_from_blocks(blocks, cs[ev], ev, *shape), cache)


def columns(curve: Curve, cs: np.ndarray, ev: np.ndarray, alpha: float, ld_key: tuple, ld_at_ev,
            cache: dict | None) -> np.ndarray:
    """The basis [1, S1^-alpha, -LD] from cumsum(eta) and `ld_at_ev()`, LD at the steps `ev`
    (computed once per `ld_key` in the cache, interpolated to every wanted step)."""
    ld = None if cache is None else cache.get(ld_key)
    if ld is None:
        ld = ld_at_ev()
        if ev.size != curve.steps.size:
            ld = np.interp(curve.steps, ev, ld)
        if cache is not None:
            cache[ld_key] = ld
    s1 = cs[curve.steps]
    with np.errstate(divide="ignore"):
        power = np.where(s1 > 0, s1, np.nan) ** -alpha
    return np.column_stack([np.ones_like(s1), power, -ld])
