"""The 124M runs of ../shared/data/schaipp124m (Schaipp et al. 2025) and their transfer tasks, as its
README defines them: runs with their exact per-step schedules, and for each task the runs to fit and
the runs to forecast. Used by benchmarks/transfer.py and the tests."""

from __future__ import annotations

import csv
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lrforecast import Run, Schedule

SHARED = Path(os.environ.get("LRFORECAST_SHARED", Path(__file__).resolve().parents[2] / "shared"))
DATA = SHARED / "data" / "schaipp124m"
PEAKS = {"1e-4": "lr0.0001", "5e-4": "lr0.0005", "2e-3": "lr0.002"}
HORIZONS = (15, 25, 35, 50)


def config() -> dict:
    return tomllib.loads((DATA / "runs.toml").read_text())


def lr(c: dict, total: int | None = None) -> np.ndarray:
    """A run's LR at every step, from its runs.toml table (matches the logged LR to 1e-15 of peak)."""
    total = c["total_steps"] if total is None else total
    peak, w, start = c["peak_lr"], c["warmup"], c["warmup_start_lr"]
    t = np.arange(total, dtype=np.float64)
    if c["schedule"] == "cosine":  # torch's OneCycleLR: cosine rise to peak at w - 1, cosine to final at end
        rise = np.clip(t / (w - 1), 0.0, 1.0)
        fall = (t - (w - 1)) / (total - 1 - (w - 1))
        return np.where(t <= w - 1, peak + (start - peak) / 2 * (1 + np.cos(np.pi * rise)),
                        c["final_lr"] + (peak - c["final_lr"]) / 2 * (1 + np.cos(np.pi * fall)))
    eta = np.where(t < w, start + (peak - start) * t / w, peak)
    if c["schedule"] == "wsd":
        q = np.clip((t - c["decay_start"]) / (total - c["decay_start"]), 0.0, 1.0)
        shape = 1.0 - q if c["decay_shape"] == "linear" else 1.0 - np.sqrt(q)
        eta = np.where(t >= c["decay_start"], peak * shape, eta)
    return eta


def read(name: str, cut: int | None = None) -> Run:
    """A run's validation loss (`<name>.csv`), the points before step `cut` if given."""
    with (DATA / f"{name}.csv").open() as f:
        rows = np.array([[float(x) for x in r] for r in list(csv.reader(f))[1:]])
    if cut is not None:
        rows = rows[rows[:, 0] < cut]
    return Run.from_points(name, rows[:, 0], rows[:, 1], source=str(DATA / f"{name}.csv"))


def schedule(name: str, total: int | None = None) -> Schedule:
    return Schedule.of_lr(lr(config()[name], total), name)


@dataclass(frozen=True)
class Task:
    name: str  # e.g. "2e-3 choice-25k"
    peak: str
    fitted: tuple[tuple[str, int | None], ...]  # (run, cut: the constant run is cut at the horizon)
    forecast: tuple[str, ...]

    def inputs(self) -> tuple[list[Run], list[Schedule]]:
        """The runs to fit and their schedules (the constant run's cut at the horizon)."""
        return ([read(r, cut) for r, cut in self.fitted], [schedule(r, cut) for r, cut in self.fitted])

    def scored_from(self, name: str) -> int:
        """The first step scored of a forecast run: after its branch from the constant run, and 1000."""
        return max(int(config()[name].get("branch_step", 0)), 1000)


def tasks() -> list[Task]:
    """Every task of the README: choice-T, wsd-T and horizon-25k-50k at each peak LR where its runs exist."""
    cfg = config()
    out = []
    for peak, p in PEAKS.items():
        const = f"{p}_50k_constant"
        for kind, fitted_run in (("choice", "cos10"), ("wsd", "wsd-lin0.2")):
            for T in HORIZONS:
                decay = f"{p}_{T}k_{fitted_run}"
                if decay not in cfg:
                    continue
                prefix = f"{p}_{T}k_" + ("wsd" if kind == "wsd" else "")
                others = [r for r in cfg if r.startswith(prefix) and r not in (decay, const)]
                fitted = ((const, T * 1000), (decay, None))
                out.append(Task(f"{peak} {kind}-{T}k", peak, fitted, tuple(others)))
        fitted = ((const, 25000), (f"{p}_25k_cos10", None), (f"{p}_25k_wsd-lin0.2", None))
        others = tuple(r for r in cfg if r.startswith(f"{p}_50k_") and r != const)
        out.append(Task(f"{peak} horizon-25k-50k", peak, fitted, others))
    return out


def task(name: str) -> Task:
    """The task of tasks() named `name` (e.g. "2e-3 choice-25k")."""
    return next(t for t in tasks() if t.name == name)
