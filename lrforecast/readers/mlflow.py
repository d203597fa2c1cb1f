"""MLflow's local file store (`mlruns/<experiment>/<run>/metrics/<key>`), read without mlflow.

Each metric file holds one line per logged value, `timestamp value step` (a missing step is 0, as
MLflow reads it); a key with "/" is a folder (`metrics/train/loss`). A run folder, an experiment
folder or the `mlruns` folder itself may be given: each run is one run, named by its
`tags/mlflow.runName` when it has one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from .records import Series


def is_run(folder: Path) -> bool:
    return (folder / "metrics").is_dir()


def mlflow_runs(folder: Path) -> dict[str, Path]:
    """{run name: run folder} below `folder` (itself a run, an experiment, or mlruns)."""
    if is_run(folder):
        return {_name(folder): folder}
    found: dict[str, Path] = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        candidates = [sub] if is_run(sub) else sorted(p for p in sub.iterdir() if p.is_dir() and is_run(p))
        for run in candidates:
            name = _name(run)
            found[f"{name} ({run.name})" if name in found else name] = run
    return found


def _name(run: Path) -> str:
    tag = run / "tags" / "mlflow.runName"
    return tag.read_text().strip() or run.name if tag.is_file() else run.name


def read_metric(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of one metric file."""
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    try:
        values = np.array([float(parts[1]) for parts in lines])
        steps = np.array([int(parts[2]) if len(parts) > 2 else 0 for parts in lines], dtype=np.int64)
    except (IndexError, ValueError):
        raise InputError(f"{path}: not an MLflow metric file ('timestamp value step' per line)") from None
    return steps, values


def read_mlflow(folder: Path) -> tuple[dict[str, Series], list[str]]:
    runs = mlflow_runs(folder)
    if not runs:
        raise InputError(f"{folder}: no MLflow run (a folder with metrics/) here or below")
    out = {}
    for name, run in runs.items():
        metrics = run / "metrics"
        out[name] = {p.relative_to(metrics).as_posix(): read_metric(p)
                     for p in sorted(metrics.rglob("*")) if p.is_file()}
    return out, []
