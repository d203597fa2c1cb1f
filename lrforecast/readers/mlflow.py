"""MLflow's local stores, read without mlflow: the SQLite file (`mlflow.db`, the default since
MLflow 3.7) and the file store (`mlruns/<experiment>/<run>/metrics/<key>`) before it.

In the file store each metric file holds one line per logged value, `timestamp value step` (a
missing step is 0, as MLflow reads it); a key with "/" is a folder (`metrics/train/loss`). A run
folder, an experiment folder or the `mlruns` folder itself may be given: each run is one run, named
by its `tags/mlflow.runName` when it has one. In the SQLite file the same values are rows of its
`metrics` table (`key, value, timestamp, run_uuid, step, is_nan`), and a run's name is the `name`
of its row in `runs` (with its experiment's name where names repeat); deleted runs are left out.
The file is opened read-only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import InputError
from .records import Series

SQLITE_MAGIC = b"SQLite format 3\x00"
DB_NAME = "mlflow.db"  # what MLflow 3.7 and later write when no tracking URI is set


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


def is_mlflow_folder(folder: Path) -> bool:
    """A file store (run, experiment or mlruns folder), or a folder holding an mlflow.db."""
    return bool(mlflow_runs(folder)) or (folder / DB_NAME).is_file()


def read_mlflow(path: Path) -> tuple[dict[str, Series], list[str]]:
    """Every run of an MLflow store: an SQLite file, a folder with mlflow.db, or the file store."""
    if path.is_file():
        return read_mlflow_db(path)
    runs = mlflow_runs(path)
    if not runs and (path / DB_NAME).is_file():
        return read_mlflow_db(path / DB_NAME)
    return _read_file_store(path, runs)


def _read_file_store(folder: Path, runs: dict[str, Path]) -> tuple[dict[str, Series], list[str]]:
    if not runs:
        raise InputError(f"{folder}: no MLflow run (a folder with metrics/) here or below")
    out = {}
    for name, run in runs.items():
        metrics = run / "metrics"
        out[name] = {p.relative_to(metrics).as_posix(): read_metric(p)
                     for p in sorted(metrics.rglob("*")) if p.is_file()}
    return out, []


def is_mlflow_db(path: Path) -> bool:
    """Whether an SQLite file has MLflow's `runs` and `metrics` tables."""
    with _connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {"runs", "metrics"} <= tables


def read_mlflow_db(path: Path) -> tuple[dict[str, Series], list[str]]:
    """Every run that is not deleted, named by its run name; where names repeat, its experiment's
    name is added, and where they still repeat, its id."""
    notes: list[str] = []
    with _connect(path) as db:
        rows = db.execute("SELECT r.run_uuid, r.name, r.lifecycle_stage, e.name FROM runs r "
                          "LEFT JOIN experiments e ON r.experiment_id = e.experiment_id "
                          "ORDER BY r.start_time").fetchall()
        live = [(uuid, name or uuid, experiment)
                for uuid, name, stage, experiment in rows if stage != "deleted"]
        if len(live) < len(rows):
            notes.append(f"{path.name}: left out {len(rows) - len(live)} deleted run(s)")
        names = [name for _, name, _ in live]
        named = [f"{name} ({experiment})" if names.count(name) > 1 else name for _, name, experiment in live]
        out: dict[str, Series] = {}
        for (uuid, _, _), name in zip(live, named, strict=True):
            keys = [k for (k,) in db.execute("SELECT DISTINCT key FROM metrics WHERE run_uuid = ?", (uuid,))]
            series: Series = {}
            for key in sorted(keys):
                values = db.execute("SELECT step, CASE WHEN is_nan THEN NULL ELSE value END FROM metrics "
                                    "WHERE key = ? AND run_uuid = ? ORDER BY timestamp, step",
                                    (key, uuid)).fetchall()
                if not values:  # a key whose rows a damaged file lost
                    continue
                steps, numbers = zip(*values, strict=True)
                try:
                    series[key] = (np.array(steps, np.int64), np.array(numbers, float))  # NULL -> nan
                except (ValueError, TypeError, OverflowError):  # text where a number belongs
                    raise InputError(f"{path}: the metric '{key}' holds steps or values that are not "
                                     "numbers; is the database damaged?") from None
            out[f"{name} ({uuid})" if named.count(name) > 1 else name] = series
    if not out:
        raise InputError(f"{path}: an MLflow database without any run; give the one the runs were "
                         "logged to (MLFLOW_TRACKING_URI)")
    return out, notes


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    """`path` opened read-only and immutable (reading a log never changes it, and SQLite then
    writes nothing beside it: no -shm or -wal file for a database in WAL mode), closed after use."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as e:
        raise InputError(f"{path}: cannot open it as an SQLite database ({e})") from None
    try:
        yield db
    except sqlite3.Error as e:
        raise InputError(f"{path}: not a readable MLflow database ({e}); check the file") from None
    finally:
        db.close()
