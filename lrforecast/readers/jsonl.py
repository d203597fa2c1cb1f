"""JSON lines: LLaMA-Factory trainer_log.jsonl, ms-SWIFT logging.jsonl, and any one-object-per-line log.

LLaMA-Factory: step `current_steps`, `lr` or `learning_rate`, explicit nulls, a last summary line
without a loss. ms-SWIFT: the step only inside `"global_step/max_steps": "10/438"`, eval lines
(`eval_loss`) and a large nested summary object last.
pyarrow.json reads the file when it can (fast, nulls kept apart from NaN); when it cannot (lines
that are not JSON objects, a field whose type changes), lines are read one by one and the ones
that are not JSON objects are counted. Nested objects are flattened with "/", so
{"train": {"loss": 2.1}} gives the field train/loss, as W&B names it. A file nested deeper than
MAX_DEPTH anywhere is read line by line and its too-deep lines skipped: pyarrow crashes on 100,000
levels and takes minutes on 8,000, and no log nests that deep.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.json as pajson

from ..errors import InputError
from .records import Series, arrow_column, columns_to_series, records_to_columns

MAX_DEPTH = 64  # of nested objects and lists, in a line or a file
_OPEN, _CLOSE = np.frombuffer(b"{[", np.uint8), np.frombuffer(b"}]", np.uint8)


def read_jsonl(path: Path, step_key: str | None = None) -> tuple[Series, str, list[str]]:
    if not _starts_with_object(path) or _deeper_than(path, MAX_DEPTH):
        return _read_lines(path, step_key)  # pyarrow 26 crashes (SIGSEGV) on a file that opens with null
    try:
        table = pajson.read_json(path)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _read_lines(path, step_key)
    cols = {n: c for n, col in _flat_columns(table).items() if (c := arrow_column(col)) is not None}
    series, step_name = columns_to_series(cols, str(path), step_key)
    return series, step_name, []


def _starts_with_object(path: Path) -> bool:
    """Whether the first character that is not white space is '{'."""
    with path.open("rb") as f:
        while chunk := f.read(1 << 16):
            if text := chunk.lstrip():
                return text.startswith(b"{")
    return False


def _depths(data: bytes, start: int = 0) -> np.ndarray:
    """The nesting depth after each byte (brackets inside strings count too: an upper bound)."""
    b = np.frombuffer(data, np.uint8)
    return start + np.cumsum(np.isin(b, _OPEN).astype(np.int64) - np.isin(b, _CLOSE))


def _deeper_than(path: Path, limit: int) -> bool:
    """Whether the file nests deeper than `limit` anywhere, read in chunks."""
    depth = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 24):
            d = _depths(chunk, depth)
            if d.max() > limit:
                return True
            depth = int(d[-1])
    return False


def _flat_columns(table: pa.Table) -> dict[str, pa.ChunkedArray]:
    """Columns with nested objects flattened: parent/child."""
    out, todo = {}, list(zip(table.column_names, table.columns, strict=True))
    while todo:
        name, col = todo.pop(0)
        if pa.types.is_struct(col.type):
            todo[:0] = [(f"{name}/{f.name}", c) for f, c in zip(col.type, col.flatten(), strict=True)]
        else:
            out[name] = col
    return out


def _flat(obj: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in obj.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}/"))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _text(line: bytes) -> str:
    """A line as text: UTF-8 (with or without a byte-order mark), else Latin-1, which decodes any
    bytes (a note written in a legacy encoding holds no number we need)."""
    try:
        return line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def _read_lines(path: Path, step_key: str | None) -> tuple[Series, str, list[str]]:
    records, bad, deep = [], 0, 0
    with path.open("rb") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.count(b"{") + line.count(b"[") > MAX_DEPTH and _depths(line).max() > MAX_DEPTH:
                deep += 1
                continue
            try:
                obj = json.loads(_text(line))
            except (json.JSONDecodeError, RecursionError):
                bad += 1
                continue
            if isinstance(obj, dict):
                records.append(_flat(obj))
            else:
                bad += 1
    if not records:
        raise InputError(f"{path}: no JSON objects found; is this a JSON-lines log?")
    series, step_name = columns_to_series(records_to_columns(records), str(path), step_key)
    notes = [f"skipped {bad} lines that are not JSON objects"] * bool(bad)
    notes += [f"skipped {deep} lines nested deeper than {MAX_DEPTH} levels"] * bool(deep)
    return series, step_name, notes
