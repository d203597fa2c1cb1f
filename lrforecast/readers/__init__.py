"""Readers: any supported log -> Run. One module per format; detect.py picks fields."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..run import Run
from .table import read_table, table_to_run

FORMATS = ("csv", "tsv", "parquet")


def guess_format(path: Path) -> str:
    """The format from the file name (and content where the name is silent)."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".tsv", ".tab"):
        return "tsv"
    return "csv"


def read_run(source: str | Path, *, format: str | None = None, step_key: str | None = None,
             loss_key: str | None = None, lr_key: str | None = None, duplicates: str = "last",
             name: str | None = None) -> Run:
    """Read one run from a log file."""
    path = Path(source)
    if not path.exists():
        raise InputError(f"{source}: no such file or directory")
    fmt = format or guess_format(path)
    if fmt not in FORMATS:
        raise InputError(f"--format {fmt} is unknown; use one of {', '.join(FORMATS)}")
    if path.is_dir():
        raise InputError(f"{source} is a directory; give a log file")
    table = read_table(path, fmt)
    return table_to_run(table, str(source), name=name or path.stem, fmt=fmt, step_key=step_key,
                        loss_key=loss_key, lr_key=lr_key, duplicates=duplicates)
