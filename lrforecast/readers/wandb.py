"""W&B run files (`run-<id>.wandb`, what an offline or unsynced run leaves), read without wandb.

The file is a 7-byte header (`:W&B`, magic 0xBEE1, version) and then LevelDB-log records in
32 KiB blocks: uint32 CRC32 (zlib) of the type byte and the data, uint16 length, uint8 type
(1 full, 2 first, 3 middle, 4 last piece), data; a block's tail shorter than a record header is
padding. Each whole record is a `Record` protobuf; only Record.history (2) is decoded:
HistoryRecord.item (1) -> HistoryItem key (1) or nested_key (2, joined with "/") and its value,
as value_json (16), integer (5, zigzag) or number (6, double). `_step` is W&B's step. A record
that is cut short or fails its CRC (a run still being written, or killed) ends the read with a note.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

from ..errors import InputError
from .records import Series, columns_to_series, records_to_columns
from .wire import fields

MAGIC = b":W&B"
BLOCK = 32768
HEADER = struct.Struct("<IHB")  # crc, length, type
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
_f64 = struct.Struct("<d").unpack


def is_wandb_file(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == MAGIC


def wandb_file(folder: Path) -> Path | None:
    """The run file of a W&B run folder (`wandb/offline-run-.../`), if it holds one."""
    found = sorted(folder.glob("run-*.wandb"))
    return found[-1] if found else None


def wandb_runs(folder: Path) -> dict[str, Path]:
    """{run name: run file} of a W&B run folder, or of a folder of them (`wandb/`, its
    `latest-run` link skipped: it repeats a run)."""
    if (file := wandb_file(folder)) is not None:
        return {folder.name: file}
    subs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
    return {p.name: f for p in subs if (f := wandb_file(p)) is not None}


def records(data: bytes) -> tuple[list[bytes], int | None]:
    """The whole records of a W&B file, and the offset where a damaged or cut record stopped the
    read (None when the file ends cleanly)."""
    out, pending, pos = [], b"", 7
    while pos + HEADER.size <= len(data):
        left = BLOCK - pos % BLOCK
        if left < HEADER.size:
            pos += left
            continue
        crc, length, kind = HEADER.unpack_from(data, pos)
        if crc == 0 and length == 0 and kind == 0:  # zero padding to the block's end
            pos += left
            continue
        payload = data[pos + HEADER.size:pos + HEADER.size + length]
        if len(payload) < length or zlib.crc32(payload, zlib.crc32(bytes([kind]))) != crc:
            return out, pos
        pos += HEADER.size + length
        if kind == FULL:
            out.append(payload)
        elif kind == FIRST:
            pending = payload
        elif kind == MIDDLE:
            pending += payload
        elif kind == LAST:
            out.append(pending + payload)
    return out, None if pos >= len(data) or not data[pos:].strip(b"\0") else pos


def history_rows(record: bytes) -> list[dict]:
    """The history row a Record holds ([] for any other record): {key: value}."""
    rows = []
    for number, value in fields(record):
        if number != 2:
            continue
        row = {}
        for item_number, item in fields(value):
            if item_number != 1:
                continue
            key, nested, val = None, [], None
            for f, x in fields(item):
                if f == 1:
                    key = x.decode(errors="replace")
                elif f == 2:
                    nested.append(x.decode(errors="replace"))
                elif f == 5:
                    val = (x >> 1) ^ -(x & 1)
                elif f == 6:
                    val = _f64(x)[0]
                elif f == 16:
                    try:
                        val = json.loads(x)
                    except ValueError:
                        val = None
            row["/".join(nested) if nested else key] = val
        rows.append(row)
    return rows


def read_wandb_runs(path: Path, step_key: str | None = None
                    ) -> tuple[dict[str, Series], str, list[str]]:
    """Every run of a W&B run file, run folder or folder of run folders."""
    files = wandb_runs(path) if path.is_dir() else {path.stem: path}
    if not files:
        raise InputError(f"{path}: no W&B run file (run-*.wandb) here or in its subfolders")
    runs, notes, step_name = {}, [], "_step"
    for name, file in files.items():
        runs[name], step_name, more = read_wandb(file, step_key)
        notes += [f"{name}: {n}" for n in more] if len(files) > 1 else more
    return runs, step_name, notes


def read_wandb(path: Path, step_key: str | None = None) -> tuple[Series, str, list[str]]:
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise InputError(f"{path}: not a W&B run file (it does not start with ':W&B')")
    found, stopped = records(data)
    rows = [row for record in found for row in history_rows(record)]
    if not rows:
        raise InputError(f"{path}: the W&B run file holds no logged history")
    notes = [f"the file stops being readable at byte {stopped} of {len(data)} (a run still being "
             f"written, or cut short); read the {len(rows)} history rows before it"] if stopped else []
    series, step_name = columns_to_series(records_to_columns(rows), str(path), step_key)
    return series, step_name, notes
