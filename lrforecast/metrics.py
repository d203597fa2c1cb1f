"""Goodness of a predicted curve against an observed one (the reference protocol's definitions)."""

from __future__ import annotations

import numpy as np

METRICS = ("R2", "MAE", "RMSE", "PredE", "WorstE")


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


def mean_metrics(per_run: list[dict[str, float]]) -> dict[str, float]:
    """The unweighted mean of each metric over runs, as the reference protocol reports it."""
    return {k: float(np.mean([m[k] for m in per_run])) for k in METRICS}


def noise_level(y: np.ndarray) -> float:
    """The scatter of single logged points around their trend: a robust standard deviation of the
    step-to-step differences, over sqrt(2). A fit cannot get its RMSE much below this."""
    d = np.diff(np.asarray(y, float))
    if d.size < 2:
        return float("nan")
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0))
