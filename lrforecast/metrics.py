"""Goodness of a predicted curve against an observed one (the reference protocol's definitions)."""

from __future__ import annotations

import numpy as np

METRICS = ("R2", "MAE", "RMSE", "PredE", "WorstE")
TREND_SCATTER = 1e-3  # trend_error averages the log's scatter down to 0.1% of the loss


def curve_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """R2, MAE, RMSE, PredE = mean |y-p|/y and WorstE = max |y-p|/y over the points of one run."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    err = y - p
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    rel = np.abs(err) / np.abs(y)
    return {
        "R2": 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan"),
        "MAE": float(np.mean(np.abs(err))),
        "RMSE": float(np.sqrt(np.mean(err**2))),
        "PredE": float(np.mean(rel)),
        "WorstE": float(np.max(rel)),
    }


def mean_metrics(per_run: list[dict[str, float]], keys: tuple[str, ...] = METRICS) -> dict[str, float]:
    """The unweighted mean of each metric over runs, as the reference protocol reports it."""
    return {k: float(np.mean([m[k] for m in per_run])) for k in keys}


def trend_error(y: np.ndarray, p: np.ndarray, noise: float) -> float:
    """PredE against the run's trend: over means of k consecutive points, k large enough that the
    log's point-to-point scatter (`noise`) averages down to TREND_SCATTER of the loss (at most
    n/20 points). A clean log (a validation loss) gets k = 1, PredE itself; a per-batch training
    loss scatters by a few percent, which no forecast of the expected loss can or should follow."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    yb, pb = _bin_means(trend_window(y, noise), y, p)
    return float(np.mean(np.abs(yb - pb) / np.abs(yb)))


def _bin_means(k: int, *arrays: np.ndarray) -> list[np.ndarray]:
    """Means of k (or k + 1) consecutive points of each array, over the same bins."""
    n = arrays[0].size
    starts = np.linspace(0, n, n // k + 1).astype(np.int64)[:-1]
    sizes = np.diff(np.r_[starts, n])
    return [np.add.reduceat(a, starts) / sizes for a in arrays]


def end_error(y: np.ndarray, p: np.ndarray, noise: float) -> float:
    """The relative error at the run's end, of the mean of its last k points (k as in trend_error):
    what a forecast of the final loss gets wrong."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    k = trend_window(y, noise)
    return float(abs(np.mean(y[-k:]) - np.mean(p[-k:])) / abs(np.mean(y[-k:])))


def range_coverage(y: np.ndarray, low: np.ndarray, high: np.ndarray, noise: float) -> dict:
    """How much of a run's trend lies between `low` and `high`: the share of its means of k
    consecutive points (k as in trend_error) that do, and whether the mean of its last k does
    (`end`, against the range there, `end_range`)."""
    y, low, high = (np.asarray(a, float) for a in (y, low, high))
    k = trend_window(y, noise)
    yb, lb, hb = _bin_means(k, y, low, high)
    end, end_low, end_high = float(np.mean(y[-k:])), float(np.mean(low[-k:])), float(np.mean(high[-k:]))
    return {"held": float(np.mean((lb <= yb) & (yb <= hb))), "end_held": bool(end_low <= end <= end_high),
            "end": end, "end_range": [end_low, end_high]}


def trend_window(y: np.ndarray, noise: float) -> int:
    """How many consecutive points average the log's scatter down to TREND_SCATTER of the loss."""
    level = noise / float(np.mean(np.abs(y))) if np.isfinite(noise) else 0.0
    return int(np.clip(np.ceil((level / TREND_SCATTER) ** 2), 1, max(1, y.size // 20)))


def noise_level(y: np.ndarray) -> float:
    """The scatter of single logged points around their trend: a robust standard deviation of the
    step-to-step differences, over sqrt(2). A fit cannot get its RMSE much below this."""
    d = np.diff(np.asarray(y, float))
    if d.size < 2:
        return float("nan")
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0))
