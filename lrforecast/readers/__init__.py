"""Readers: any supported log -> Source (named series per run) -> Run.

One module per format; detect.py ranks field names. The format is chosen by name and content,
or given with `format=`.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import sys
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..run import ALL_RUNS, Run
from .detect import LOSS_KEYS, LR_KEYS, LR_PATTERN, is_law_file, pick
from .hf import looks_like_trainer_state, read_trainer_state
from .jsonl import read_jsonl
from .mlflow import SQLITE_MAGIC, is_mlflow_db, is_mlflow_folder, read_mlflow
from .records import Series
from .table import read_table_runs
from .tensorboard import LFS_MAGIC, is_event_file, read_tensorboard
from .text import PATTERNS, read_text
from .wandb import is_wandb_file, read_wandb_runs, wandb_runs

FORMATS = ("tensorboard", "wandb", "mlflow", "trainer_state", "jsonl", "csv", "tsv", "parquet", "text")


@dataclass
class Source:
    """What a log holds: per run, named series (steps, values), and how it was read."""

    path: str
    format: str
    runs: dict[str, Series]
    step_field: str | None = None
    notes: list[str] = field(default_factory=list)


TEXT_CONTROLS = set(b"\t\n\r\x0c\x1b\x08")  # tabs, newlines, ANSI colours, backspaces in job logs


def _looks_binary(head: bytes) -> bool:
    controls = sum(b < 32 and b not in TEXT_CONTROLS for b in head)
    return b"\x00" in head or controls > 0.05 * len(head)


def detect_format(path: Path) -> str:
    """The format from the name, then from the first bytes."""
    if path.is_dir():
        if wandb_runs(path):
            return "wandb"
        return "mlflow" if is_mlflow_folder(path) else "tensorboard"
    if is_event_file(path):
        return "tensorboard"
    if is_wandb_file(path):
        return "wandb"
    suffix = path.suffix.lower()
    with path.open("rb") as f:
        head = f.read(4096)
    if suffix in (".parquet", ".pq") or head.startswith(b"PAR1"):
        return "parquet"
    if not head.strip():
        raise InputError(f"{path}: the file is empty; give a log with a header and rows")
    if head.startswith(SQLITE_MAGIC):
        if is_mlflow_db(path):
            return "mlflow"
        raise InputError(f"{path}: an SQLite database, but not MLflow's (it has no runs and metrics "
                         "tables); export the loss to CSV or JSONL")
    if _looks_binary(head):
        raise InputError(f"{path}: binary data in no format lrforecast knows; give a text log (CSV, "
                         "JSONL, a training job's stdout), Parquet, trainer_state.json, a TensorBoard "
                         "event file (events.out.tfevents.*), a W&B run file or MLflow's mlflow.db")
    if head.startswith(LFS_MAGIC):
        raise InputError(f"{path} is a Git LFS pointer, not the log itself; fetch it with 'git lfs pull'")
    if is_law_file(head):
        raise InputError(f"{path} is an lrforecast law file, not a training log; give it to predict, "
                         "compare, plan or evaluate (inspect describes it)")
    if looks_like_trainer_state(head):
        return "trainer_state"
    if head.lstrip().startswith(b"{'"):  # a Python dict printed by the Hugging Face Trainer
        return "text"
    if suffix in (".jsonl", ".ndjson", ".json") or head.lstrip().startswith(b"{"):
        return "jsonl"
    if suffix in (".tsv", ".tab"):
        return "tsv"
    if suffix == ".csv":
        return "csv"
    first = head.splitlines()[0].decode(errors="replace")
    if "\t" in first and " " not in first.strip():
        return "tsv"
    if "," in first and " " not in first.strip() and suffix not in (".log", ".txt", ".out"):
        return "csv"
    return "text"


LOG_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".parquet", ".log", ".txt", ".out", ".db",
                ".wandb", ".gz")


def _folder_without_runs(path: Path) -> str:
    """Why a folder gives no run (no TensorBoard, W&B or MLflow run in it), naming the logs it holds."""
    found = sorted(p for p in path.iterdir()
                   if (p.is_dir() and (p.name in ("mlruns", "wandb") or wandb_runs(p)))
                   or (p.is_file() and p.suffix.lower() in LOG_SUFFIXES))
    text = (f"{path}: no TensorBoard event files (events.out.tfevents.*), W&B or MLflow runs in this "
            "directory")
    if found:
        shown = ", ".join(p.name + ("/" if p.is_dir() else "") for p in found[:5])
        text += f"; it holds {shown}{', ...' if len(found) > 5 else ''}: give one of them"
    return text


STDIN = "-"


def read_source(source: str | Path, *, format: str | None = None, step_key: str | None = None,
                pattern: str | None = None, verify: bool = False) -> Source:
    """Read every series a log holds; `-` reads one piped into standard input."""
    if str(source) == STDIN:
        return _read_stdin(format=format, step_key=step_key, pattern=pattern, verify=verify)
    try:
        return _read_file_or_folder(source, format=format, step_key=step_key, pattern=pattern, verify=verify)
    except UnicodeDecodeError as e:  # a damaged file, or a text field of a binary one (SQLite, Parquet)
        raise InputError(f"{source}: bytes {e.start}-{e.end} of a text field are not {e.encoding} "
                         f"({e.reason}); is the file damaged or cut short?") from None
    except OverflowError:  # an integer no 64 bits hold where a step or value is read
        raise InputError(f"{source}: a number too large to be a step or a value (over 64 bits); is the "
                         "file damaged?") from None
    except Exception as e:
        if not type(e).__module__.startswith("pyarrow"):  # pyarrow's own: a damaged Parquet file
            raise
        raise InputError(f"{source}: pyarrow cannot read it ({str(e)[:120]}); is the file damaged?") from None


def _read_file_or_folder(source: str | Path, *, format: str | None, step_key: str | None,
                         pattern: str | None, verify: bool) -> Source:
    path = Path(source)
    if not path.exists():
        raise InputError(f"{source}: no such file or directory")
    if path.is_file():
        with path.open("rb") as f:
            magic = f.read(6)
        if (packed := _compression(magic)) is not None:
            return _read_compressed(path, *packed, format=format, step_key=step_key, pattern=pattern,
                                    verify=verify)
        if magic[:2] in UTF16_BOMS:
            return _read_bytes(_utf16_as_utf8(path), path.name, str(path), str(path), format=format,
                               step_key=step_key, pattern=pattern, verify=verify)
    if format is not None and format not in FORMATS:
        raise InputError(f"--format {format} is unknown; use one of {', '.join(FORMATS)}")
    fmt = format or ("text" if pattern else detect_format(path))
    if path.is_dir() and fmt not in ("tensorboard", "wandb", "mlflow"):
        raise InputError(f"{source} is a directory; only TensorBoard, W&B and MLflow runs are read from "
                         "directories")
    where = str(source)
    if fmt == "mlflow":
        runs, notes = read_mlflow(path)
        return Source(where, fmt, runs, "step", notes)
    if fmt == "wandb":
        runs, step_name, notes = read_wandb_runs(path, step_key)
        return Source(where, fmt, runs, step_name, notes)
    if fmt == "tensorboard":
        runs, notes = read_tensorboard(path, verify)
        if not runs:  # a folder with no event file below it
            raise InputError(_folder_without_runs(path))
        if path.is_file():
            named = {path.name: next(iter(runs.values()))}
        else:
            named = {(path.name if r == "." else r): s for r, s in runs.items()}
        return Source(where, fmt, named, "step", notes)
    name = path.stem if fmt in ("csv", "tsv", "parquet") else path.name
    if fmt == "trainer_state":
        series, step_name = read_trainer_state(path, step_key)
        return Source(where, fmt, {name: series}, step_name)
    if fmt == "jsonl":
        series, step_name, notes = read_jsonl(path, step_key)
        return Source(where, fmt, {name: series}, step_name, notes)
    if fmt == "text":
        series, step_name, pattern_name, notes = read_text(path, pattern)
        return Source(where, f"text ({pattern_name})", {name: series}, step_name, notes)
    runs, step_name, notes = read_table_runs(path, fmt, step_key)
    return Source(where, fmt, runs, step_name, notes)


def _read_stdin(**options) -> Source:
    """A log piped in (`python train.py | lrforecast fit -`): read to its end, then like a file."""
    if sys.stdin is None or sys.stdin.isatty():
        raise InputError("'-' reads a log from standard input, but nothing is piped in; "
                         "e.g. python train.py | lrforecast fit -")
    data = sys.stdin.buffer.read()
    if not data.strip():
        raise InputError("standard input is empty; pipe a training log in")
    return _read_bytes(data, "stdin", STDIN, "standard input", **options)


COMPRESSED = {b"\x1f\x8b": (gzip, ".gz"), b"BZh": (bz2, ".bz2"), b"\xfd7zXZ": (lzma, ".xz")}


UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _compression(head: bytes) -> tuple | None:
    """(module, suffix) of a compressed file, by its first bytes; None for any other file."""
    return next((v for magic, v in COMPRESSED.items() if head.startswith(magic)), None)


def _utf16_as_utf8(path: Path) -> bytes:
    """A UTF-16 text file (what Windows PowerShell's `>` writes; it opens with a byte-order mark)
    re-encoded as UTF-8."""
    try:
        return path.read_text(encoding="utf-16").encode()
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: starts as UTF-16 text but is not ({e.reason}); check the file") from None


MAX_DECOMPRESSED = 1 << 30  # bytes: a log that decompresses to more is refused (a decompression bomb?)


def _read_compressed(path: Path, module, suffix: str, **options) -> Source:
    """A gzip, bzip2 or xz log (an archived run): decompressed by `module` in chunks to a temporary
    file (never whole in memory; refused past MAX_DECOMPRESSED), then read like the file inside
    (its name without `suffix`)."""
    inner = path.name[: -len(suffix)] if path.name.endswith(suffix) else path.stem
    with tempfile.TemporaryDirectory() as tmp:
        target, size = Path(tmp) / inner, 0
        try:
            with module.open(path, "rb") as src, target.open("wb") as out:
                while chunk := src.read(1 << 20):
                    size += len(chunk)
                    if size > MAX_DECOMPRESSED:
                        raise InputError(f"{path}: decompresses to more than {MAX_DECOMPRESSED >> 20:,} MiB; "
                                         "is it a log? Decompress it yourself if it really is one")
                    out.write(chunk)
        except (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error) as e:
            raise InputError(f"{path}: a damaged {suffix[1:]} file ({e}); check the download") from None
        return _read_path(target, str(path), str(path), **options)


def _read_bytes(data: bytes, name: str, source: str, label: str, **options) -> Source:
    """Read `data` as a file called `name`; errors and the Source name `label`/`source`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        return _read_path(path, source, label, **options)


def _read_path(path: Path, source: str, label: str, **options) -> Source:
    """Read a temporary file standing for `label`: errors and the Source name `label`/`source`."""
    try:
        src = read_source(path, **options)
    except InputError as e:  # name what the user gave, not the temporary file
        raise InputError(str(e).replace(str(path), label)) from None
    src.path = source
    return src


def choose_run(source: Source, run: str | None = None) -> str:
    """The run to use: the one named, the only one, or the only one with a loss series."""
    if run is not None:
        if run not in source.runs:
            raise InputError(f"{source.path}: no run '{run}'; it holds: {', '.join(source.runs)}")
        return run
    if len(source.runs) == 1:
        return next(iter(source.runs))
    with_loss = runs_with_loss(source)
    if len(with_loss) == 1:
        return with_loss[0]
    raise InputError(f"{source.path} holds {len(with_loss) or len(source.runs)} runs "
                     f"({', '.join(with_loss or list(source.runs))}); choose one with --run NAME "
                     f"(fit takes several, or --run {ALL_RUNS})")


def runs_with_loss(source: Source) -> list[str]:
    """The runs of a source that hold a loss series (by the known names)."""
    return [r for r, s in source.runs.items() if pick("loss", s, None, LOSS_KEYS, "", False)]


def choose_fields(source: Source, run: str, loss_key: str | None = None, lr_key: str | None = None
                  ) -> tuple[str, str | None]:
    series = source.runs[run]
    where = source.path if len(source.runs) == 1 else f"{source.path} (run {run})"
    loss = pick("loss", series, loss_key, LOSS_KEYS, where)
    lr = pick("lr", series, lr_key, LR_KEYS, where, required=False, pattern=LR_PATTERN)
    return loss, lr


def _lr_at(steps: np.ndarray, lr_series: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The logged LR at each of `steps` (the last value logged at that step), NaN where none."""
    s, v = lr_series
    rev_unique, rev_index = np.unique(s[::-1], return_index=True)
    last = v[len(v) - 1 - rev_index]
    i = np.clip(np.searchsorted(rev_unique, steps), 0, max(rev_unique.size - 1, 0))
    found = rev_unique.size > 0 and (rev_unique[i] == steps)
    return np.where(found, last[i], np.nan)


def to_run(source: Source, *, run: str | None = None, loss_key: str | None = None,
           lr_key: str | None = None, duplicates: str = "last") -> Run:
    """Build the Run: the loss series, the logged LR at the same steps, cleaned."""
    name = choose_run(source, run)
    loss_name, lr_name = choose_fields(source, name, loss_key, lr_key)
    steps, loss = source.runs[name][loss_name]
    lr = _lr_at(steps, source.runs[name][lr_name]) if lr_name else None
    notes = [f"format {source.format}; step={source.step_field} loss={loss_name} lr={lr_name or '-'}"]
    return Run.from_points(name, steps, loss, lr, source=source.path, format=source.format,
                           duplicates=duplicates, notes=notes + source.notes,
                           fields={"step": source.step_field, "loss": loss_name, "lr": lr_name})


def read_run(source: str | Path, *, format: str | None = None, step_key: str | None = None,
             loss_key: str | None = None, lr_key: str | None = None, duplicates: str = "last",
             run: str | None = None, pattern: str | None = None, name: str | None = None) -> Run:
    """Read one run from any supported log."""
    src = read_source(source, format=format, step_key=step_key, pattern=pattern)
    r = to_run(src, run=run, loss_key=loss_key, lr_key=lr_key, duplicates=duplicates)
    if name is not None:
        r.name = name
    return r


def read_runs(sources: Sequence[str | Path], *, runs: Sequence[str] = (), format: str | None = None,
              step_key: str | None = None, loss_key: str | None = None, lr_key: str | None = None,
              duplicates: str = "last", pattern: str | None = None) -> list[Run]:
    """The runs to fit jointly from some logs: each log's one run (as `read_run`) when `runs` is
    empty; else every named run each log holds (a name must be in at least one), or with `all`,
    every run with a loss series. So the runs of one W&B export or TensorBoard folder fit together."""
    out: list[Run] = []
    found: set[str] = set()
    every = list(runs) == [ALL_RUNS]
    for source in sources:
        src = read_source(source, format=format, step_key=step_key, pattern=pattern)
        if not runs:
            names = [choose_run(src)]
        elif every and ALL_RUNS not in src.runs:
            names = runs_with_loss(src) or [choose_run(src)]
        else:
            names = [r for r in runs if r in src.runs]
            if not names:
                raise InputError(f"{src.path} holds none of the runs {', '.join(runs)}; it holds: "
                                 f"{', '.join(src.runs)}")
        found.update(names)
        out += [to_run(src, run=n, loss_key=loss_key, lr_key=lr_key, duplicates=duplicates)
                for n in names]
    missing = [r for r in runs if r not in found and not every]
    if missing:
        raise InputError(f"no run {', '.join(missing)} in {', '.join(map(str, sources))}")
    return out


__all__ = ["ALL_RUNS", "FORMATS", "PATTERNS", "Source", "choose_fields", "choose_run", "detect_format",
           "read_run", "read_runs", "read_source", "runs_with_loss", "to_run"]
