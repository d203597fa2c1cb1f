"""CSV, TSV and Parquet tables: generic `step,lr,loss`, W&B exports and Lightning metrics.csv.

W&B: `train/global_step` is the step of HF runs (ranked before `_step`), `__MIN`/`__MAX`
columns are envelopes, not the series, and chart exports name columns `<run> - <metric>`.
Lightning: sparse rows (the LR on rows of its own) become separate series over the same steps.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import InputError
from .detect import LOSS_KEYS, LR_KEYS, STEP_KEYS
from .records import Series, arrow_column, columns_to_series

KNOWN = {k.lower() for k in STEP_KEYS + LOSS_KEYS + LR_KEYS}


def read_table(path: Path, fmt: str) -> pa.Table:
    """A whole CSV/TSV/Parquet file as an Arrow table."""
    try:
        if fmt == "parquet":
            return pq.read_table(path)
        delimiter, decimal = _delimiter(path, fmt)
        opts = pacsv.ParseOptions(delimiter=delimiter)
        # only empty cells are missing: a "nan" loss is a NaN (counted when dropped), not a gap
        conv = pacsv.ConvertOptions(null_values=[""], strings_can_be_null=True, decimal_point=decimal)
        return pacsv.read_csv(path, parse_options=opts, convert_options=conv)
    except (pa.ArrowInvalid, OSError) as e:
        msg = str(e).splitlines()[0]
        if "Empty CSV file" in msg or path.stat().st_size == 0:
            raise InputError(f"{path}: the file is empty; give a log with a header and rows") from None
        raise InputError(f"{path}: cannot read it as {fmt.upper()} ({msg})") from None


def _delimiter(path: Path, fmt: str) -> tuple[str, str]:
    """The field delimiter and decimal mark. Tab for TSV; for CSV a comma, unless the header holds
    none and a semicolon or a tab does. A spreadsheet exported in a locale whose decimal mark is the
    comma separates fields by semicolons; its numbers then hold commas."""
    if fmt == "tsv":
        return "\t", "."
    with path.open("rb") as f:
        header, first_row = f.readline(1 << 16), f.readline(1 << 16)
    if b"," not in header:
        for other in (b";", b"\t"):
            if other in header:
                return other.decode(), "," if b"," in first_row else "."
    return ",", "."


def read_table_runs(path: Path, fmt: str, step_key: str | None = None
                    ) -> tuple[dict[str, Series], str, list[str]]:
    """The runs of a table: one, or one per W&B run when an export holds several ("RUN - key"
    columns beside a shared step column)."""
    table = read_table(path, fmt)
    where = str(path)
    if table.num_rows == 0:
        raise InputError(f"{where}: the file has a header but no rows")
    shared, by_run, text_cols = {}, {}, []
    for name in table.column_names:
        if name.endswith("__MIN") or name.endswith("__MAX"):
            continue
        column = arrow_column(table.column(name))
        prefix, key = name.split(" - ", 1) if " - " in name else (None, name)
        if column is None:
            if key.lower() in KNOWN:
                raise InputError(f"{where}: column '{name}' holds text, not numbers; check the file")
            text_cols.append(key)
        elif prefix is None:
            shared[key] = column
        else:
            by_run.setdefault(prefix, {})[key] = column
    notes = [f"column '{name}' holds text, not numbers" for name in text_cols]
    groups = by_run if len(by_run) > 1 else {path.stem: next(iter(by_run.values()), {})}
    runs = {}
    for run, cols in groups.items():
        runs[run], step_name = columns_to_series({**shared, **cols}, where, step_key)
    return runs, step_name, notes
