"""TensorBoard event files, read without TensorFlow or the `tensorboard` package.

A file is a sequence of records: uint64 length, uint32 masked CRC32C of the length, the payload
(an `Event` protobuf), uint32 masked CRC32C of the payload. Only the fields needed for scalars are
decoded: Event.step (2) and Event.summary (5) -> Summary.value (1) -> Value.tag (1) with either
simple_value (2, float32) or a rank-0 tensor (8: TensorProto dtype 1, shape 2, tensor_content 4,
float_val 5, double_val 6, int_val 7, int64_val 10, half_val 13). Other payloads are skipped
without decoding. Nothing is subsampled. A truncated last record (a file still being written) ends
the read with a note. CRCs are checked only when asked (fast with `google-crc32c` installed).
"""

from __future__ import annotations

import functools
import struct
from pathlib import Path

import numpy as np

from ..errors import InputError
from .wire import skip as _skip
from .wire import varint as _varint

LFS_MAGIC = b"version https://git-lfs"
_DTYPES = {1: "<f4", 2: "<f8", 3: "<i4", 9: "<i8", 19: "<f2", 4: "<u1", 5: "<i2", 6: "<i1",
           17: "<u2", 22: "<u4", 23: "<u8"}
_u64 = struct.Struct("<Q").unpack_from
_f32 = struct.Struct("<f").unpack_from
_f64 = struct.Struct("<d").unpack_from


def is_event_file(path: Path) -> bool:
    return "tfevents" in path.name and not path.name.endswith(".profile-empty")


def event_files(folder: Path) -> list[Path]:
    """Event files directly inside `folder`, in filename order (chronological for real writers)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and is_event_file(p))


def _skip_field(buf: bytes, i: int, key: int) -> int:
    """Past an unwanted field whose first key byte `key` was read at i - 1 (a key of several bytes
    is re-read whole)."""
    if key >= 0x80:
        key, i = _varint(buf, i - 1)
    return _skip(buf, i, key & 7)


def _tensor_scalar(buf: bytes, i: int, end: int) -> float | None:
    """The value of a one-element numeric TensorProto in buf[i:end], else None."""
    dtype, content, n_elems = 0, None, 1
    packed: dict[int, bytes] = {}
    loose: dict[int, list] = {}
    while i < end:
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if field == 1 and wire == 0:
            dtype, i = _varint(buf, i)
        elif field == 2 and wire == 2:  # TensorShapeProto: dim (2) { size (1) }
            n, i = _varint(buf, i)
            n_elems = _shape_elements(buf, i, i + n)
            i += n
        elif field == 4 and wire == 2:
            n, i = _varint(buf, i)
            content = buf[i:i + n]
            i += n
        elif field in (5, 6, 7, 10, 13) and wire == 2:
            n, i = _varint(buf, i)
            packed[field] = buf[i:i + n]
            i += n
        elif field in (5, 6, 7, 10, 13) and wire in (0, 1, 5):
            if wire == 5:
                loose.setdefault(field, []).append(_f32(buf, i)[0])
                i += 4
            elif wire == 1:
                loose.setdefault(field, []).append(_f64(buf, i)[0])
                i += 8
            else:
                v, i = _varint(buf, i)
                loose.setdefault(field, []).append(v)
        else:
            i = _skip(buf, i, wire)
    if n_elems != 1 or dtype not in _DTYPES:
        return None
    if content:
        return float(np.frombuffer(content[: np.dtype(_DTYPES[dtype]).itemsize], _DTYPES[dtype])[0])
    if 5 in packed:
        return float(np.frombuffer(packed[5][:4], "<f4")[0])
    if 6 in packed:
        return float(np.frombuffer(packed[6][:8], "<f8")[0])
    for field in (7, 10, 13):
        if field in packed:
            v = _varint(packed[field], 0)[0]
            return _from_varint(v, field, dtype)
    for field, values in loose.items():
        return float(values[0]) if field in (5, 6) else _from_varint(int(values[0]), field, dtype)
    return None


def _from_varint(v: int, field: int, dtype: int) -> float:
    if field == 13:  # half_val: float16 bits in an int32
        return float(np.array([v], "<u2").view("<f2")[0])
    if v >= 1 << 63:
        v -= 1 << 64
    return float(v)


def _shape_elements(buf: bytes, i: int, end: int) -> int:
    count = 1
    while i < end:
        key, i = _varint(buf, i)
        if key >> 3 == 2 and key & 7 == 2:
            n, i = _varint(buf, i)
            j, stop, size = i, i + n, 0
            while j < stop:
                k, j = _varint(buf, j)
                if k >> 3 == 1 and k & 7 == 0:
                    size, j = _varint(buf, j)
                else:
                    j = _skip(buf, j, k & 7)
            count *= size
            i += n
        else:
            i = _skip(buf, i, key & 7)
    return count


@functools.cache
def _crc_table() -> list[int]:
    """The byte table of CRC32C (Castagnoli), reflected."""
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


def _crc32c(data: bytes) -> int:
    """CRC32C in pure Python: correct but slow, so for a few bytes or without google-crc32c."""
    table, c = _crc_table(), 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def crc_checker(fast: bool = True):
    """The masked CRC32C of a byte string: google-crc32c's when installed and `fast`, else Python's."""
    crc = _crc32c
    if fast:
        try:
            import google_crc32c

            crc = google_crc32c.value
        except ImportError:
            pass

    def masked(data: bytes) -> int:
        c = crc(data)
        return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    return masked


def read_events(path: Path, series: dict[str, tuple[list, list]], verify: bool = False) -> list[str]:
    """Append every scalar of one event file to `series` {tag: (steps, values)}; return notes."""
    buf = path.read_bytes()
    if buf.startswith(LFS_MAGIC):
        raise InputError(f"{path} is a Git LFS pointer, not an event file; fetch it with 'git lfs pull'")
    if not buf:  # a job that has just started, or restarted, leaves an empty file
        return [f"{path.name}: empty, nothing logged in it yet"]
    header_ok = len(buf) >= 12 and crc_checker(fast=False)(buf[:8]) == struct.unpack_from("<I", buf, 8)[0]
    if not header_ok:  # checked on the first record always: 8 bytes, cheap even in pure Python
        raise InputError(f"{path} is not a TensorBoard event file (its first record fails its checksum)")
    masked = crc_checker() if verify else None
    notes: list[str] = []
    size, pos, records = len(buf), 0, 0
    tag_names: dict[bytes, str] = {}
    while pos < size:
        if pos + 12 > size:
            notes.append(f"{path.name}: stopped at a truncated record at byte {pos}")
            break
        n = _u64(buf, pos)[0]
        start, end = pos + 12, pos + 12 + n
        if end + 4 > size:
            notes.append(f"{path.name}: stopped at a truncated record at byte {pos}")
            break
        if masked is not None:
            if (masked(buf[pos:pos + 8]) != struct.unpack_from("<I", buf, pos + 8)[0]
                    or masked(buf[start:end]) != struct.unpack_from("<I", buf, end)[0]):
                raise InputError(f"{path}: CRC mismatch in the record at byte {pos}; the file is corrupt")
        pos = end + 4
        records += 1
        try:
            _decode_event(buf, start, end, series, tag_names)
        except (IndexError, ValueError, struct.error):
            raise InputError(f"{path}: the record at byte {start - 12} is not a valid Event; "
                             "the file is corrupt or not an event file") from None
    return notes


def _decode_event(buf: bytes, i: int, end: int, series: dict, tag_names: dict) -> None:
    step, summary = 0, None
    while i < end:
        key = buf[i]
        i += 1
        if key == 0x10:  # step, varint
            step, i = _varint(buf, i)
        elif key == 0x09:  # wall_time, double
            i += 8
        elif key == 0x2A:  # summary
            n, i = _varint(buf, i)
            summary = (i, i + n)
            i += n
        else:
            i = _skip_field(buf, i, key)
    if summary is None:
        return
    if step >= 1 << 63:
        step -= 1 << 64
    i, stop = summary
    while i < stop:
        key = buf[i]
        i += 1
        if key != 0x0A:
            i = _skip_field(buf, i, key)
            continue
        n, i = _varint(buf, i)
        v_end = i + n
        tag, value = None, None
        while i < v_end:
            k = buf[i]
            i += 1
            if k == 0x0A:  # tag
                m, i = _varint(buf, i)
                raw = buf[i:i + m]
                tag = tag_names.get(raw)
                if tag is None:
                    tag = tag_names[raw] = raw.decode("utf-8", "replace")
                i += m
            elif k == 0x15:  # simple_value, float32
                value = _f32(buf, i)[0]
                i += 4
            elif k == 0x42:  # tensor
                m, i = _varint(buf, i)
                value = _tensor_scalar(buf, i, i + m)
                i += m
            else:
                i = _skip_field(buf, i, k)
        if tag is not None and value is not None:
            steps, values = series.setdefault(tag, ([], []))
            steps.append(step)
            values.append(value)


def read_tensorboard(path: Path, verify: bool = False) -> tuple[dict[str, dict], list[str]]:
    """{run name: {tag: (steps, values)}} from an event file or a run directory, and notes.

    A directory's own event files are one run, joined in filename order; each subdirectory that
    holds event files is a separate run, named by its path relative to `path`. A directory with no
    event file anywhere below gives no run (read_source then says what the folder does hold).
    """
    notes: list[str] = []
    if path.is_file():
        if path.stat().st_size == 0:
            raise InputError(f"{path}: the event file is empty (a run that has logged nothing yet?)")
        groups = {".": [path]}
    else:
        groups = {}
        for folder in [path, *sorted(p for p in path.rglob("*") if p.is_dir())]:
            files = event_files(folder)
            if files:
                groups[str(folder.relative_to(path))] = files
    runs, empty = {}, []
    for name, files in groups.items():
        series: dict[str, tuple[list, list]] = {}
        for f in files:
            notes += read_events(f, series, verify)
        if not series and len(groups) > 1:  # the Hugging Face Trainer's hparams folder: no scalars
            empty.append(name)
            continue
        runs[name] = {tag: (np.asarray(s, dtype=np.int64), np.asarray(v, dtype=np.float64))
                      for tag, (s, v) in series.items()}
    if empty:
        notes.append(f"left out {len(empty)} folder(s) whose event files hold no scalars "
                     f"(hyperparameters only?): {', '.join(empty)}")
    return runs, notes
