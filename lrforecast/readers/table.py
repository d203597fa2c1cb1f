"""CSV, TSV and Parquet tables: generic `step,lr,loss`, W&B exports and Lightning metrics.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import InputError
from ..run import Run
from .detect import LOSS_KEYS, LR_KEYS, STEP_KEYS, pick


def read_table(path: Path, fmt: str) -> pa.Table:
    """A whole CSV/TSV/Parquet file as an Arrow table."""
    try:
        if fmt == "parquet":
            return pq.read_table(path)
        opts = pacsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",")
        return pacsv.read_csv(path, parse_options=opts)
    except (pa.ArrowInvalid, OSError) as e:
        msg = str(e).splitlines()[0]
        if "Empty CSV file" in msg or path.stat().st_size == 0:
            raise InputError(f"{path}: the file is empty; give a log with a header and rows") from None
        raise InputError(f"{path}: cannot read it as {fmt.upper()} ({msg})") from None


def series_columns(names: list[str]) -> list[str]:
    """Columns that are series, not W&B's __MIN/__MAX envelopes."""
    return [n for n in names if not (n.endswith("__MIN") or n.endswith("__MAX"))]


def _strip_run_prefix(names: list[str]) -> dict[str, str]:
    """W&B chart exports name columns '<run> - <metric>': map the metric back to the column."""
    out = {}
    for n in names:
        out[n.split(" - ", 1)[1] if " - " in n else n] = n
    return out


def _column(table: pa.Table, name: str) -> np.ndarray:
    col = table.column(name)
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_null(col.type)):
        try:
            col = col.cast(pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise InputError(f"column '{name}' holds text, not numbers") from None
    return col.to_numpy(zero_copy_only=False).astype(np.float64)


def table_to_run(table: pa.Table, where: str, *, name: str, fmt: str, step_key=None, loss_key=None,
                 lr_key=None, duplicates: str = "last") -> Run:
    """Pick step/loss/LR columns, skip rows without a loss (sparse Lightning rows), build a Run."""
    if table.num_rows == 0:
        raise InputError(f"{where}: the file has a header but no rows")
    cols = _strip_run_prefix(series_columns(table.column_names))
    s = pick("step", cols, step_key, STEP_KEYS, where)
    loss_name = pick("loss", cols, loss_key, LOSS_KEYS, where)
    lr_name = pick("lr", cols, lr_key, LR_KEYS, where, required=False)
    steps = _column(table, cols[s])
    loss = _column(table, cols[loss_name])
    lr = _column(table, cols[lr_name]) if lr_name else None
    notes = [f"step={cols[s]} loss={cols[loss_name]} lr={cols[lr_name] if lr_name else '-'}"]
    present = ~np.isnan(steps)
    if lr is not None:
        _spread_lr(steps, lr)  # Lightning logs the LR on its own rows
    has_loss = table.column(cols[loss_name]).is_valid().to_numpy(zero_copy_only=False)
    skipped = int((~has_loss & present).sum())
    if skipped and skipped < present.sum():
        notes.append(f"skipped {skipped} rows without a loss")
    keep = present & has_loss
    if not keep.any():
        raise InputError(f"{where}: the loss column '{cols[loss_name]}' has no values (all empty or NaN)")
    return Run.from_points(name, steps[keep], loss[keep], None if lr is None else lr[keep],
                           source=where, format=fmt, duplicates=duplicates, notes=notes)


def _spread_lr(steps: np.ndarray, lr: np.ndarray) -> None:
    """Fill missing LR cells from another row of the same step (in place)."""
    missing = np.isnan(lr) & ~np.isnan(steps)
    if not missing.any() or np.isnan(lr).all():
        return
    have = ~np.isnan(lr) & ~np.isnan(steps)
    by_step = dict(zip(steps[have].tolist(), lr[have].tolist(), strict=True))
    for i in np.flatnonzero(missing):
        lr[i] = by_step.get(steps[i], np.nan)
