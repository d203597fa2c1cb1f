"""Record-shaped logs (JSON objects, table rows) -> named series keyed by a step field."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from ..errors import InputError
from .detect import STEP_KEYS, pick

Series = dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (steps, values), in read order
_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*\d+\s*$")  # ms-SWIFT's "global_step/max_steps": "10/438"


Columns = dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (values, present): null is not NaN


def _number(v) -> float | None:
    """A JSON value as a number: ints and floats (not bools), numbers written as strings ("1.178", as
    TRL logs some, and as pyarrow reads a column of them) and "a/b" strings as a."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        try:
            return float(v)
        except OverflowError:  # an integer beyond float64 (10^309 and up) is no step nor loss
            return None
    if isinstance(v, str):
        if m := _FRACTION.match(v):
            return float(m.group(1))
        try:
            return float(v)
        except ValueError:
            return None
    return None


def records_to_columns(records: Iterable[dict]) -> Columns:
    """Numeric columns, with a mask of the records that hold a number; "a/b" strings give a."""
    rows = list(records)
    cols: Columns = {}
    for i, r in enumerate(rows):
        for k, v in r.items():
            if (x := _number(v)) is None:
                continue
            if k not in cols:
                cols[k] = (np.full(len(rows), np.nan), np.zeros(len(rows), dtype=bool))
            col, present = cols[k]
            col[i], present[i] = x, True
    return cols


def arrow_column(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray] | None:
    """(values, present) of a numeric Arrow column, or of text that holds numbers or "a/b"
    fractions; None for a column of other text or nested values."""
    present = col.is_valid().to_numpy(zero_copy_only=False)
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_null(col.type):
        # unsafe: an integer above 2^53 (a nanosecond timestamp, a seed) rounds to the nearest float
        return col.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False), present
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        return None
    try:
        return col.cast(pa.float64()).to_numpy(zero_copy_only=False), present
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    try:
        cells = col.to_pylist()
    except UnicodeDecodeError:  # text that is not UTF-8 (a Latin-1 note) holds no numbers we read
        return None
    matches = [_FRACTION.match(c) if c is not None else None for c in cells]
    if not any(matches) or any(c is not None and m is None for c, m in zip(cells, matches, strict=True)):
        return None
    values = np.array([float(m.group(1)) if m else np.nan for m in matches])
    return values, present


def columns_to_series(cols: Columns, where: str, step_key: str | None = None) -> tuple[Series, str]:
    """Every other column as a series over the step column, over the rows that hold both."""
    if not cols:
        raise InputError(f"{where}: no numeric fields found; is this a training log?")
    if step_key is None:  # the known step field present in the most rows (a summary row has its own)
        known = [k for k in STEP_KEYS if k in cols] + [k for k in cols if "global_step" in k]
        if known:
            step_key = max(known, key=lambda k: (int(cols[k][1].sum()), -known.index(k)))
    step_name = pick("step", cols, step_key, STEP_KEYS, where)
    steps, has_step = cols[step_name]
    has_step = has_step & np.isfinite(steps) & (np.abs(steps) < 2.0**62)  # a step int64 holds
    series = {}
    for name, (values, present) in cols.items():
        ok = has_step & present
        if name != step_name and ok.any():
            series[name] = (steps[ok].astype(np.int64), values[ok])
    return series, step_name
