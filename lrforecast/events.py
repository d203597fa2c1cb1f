"""A forecast as TensorBoard scalars, so it shows beside the run where people look.

`write_forecast` writes one event file of its own into a run's folder: the forecast loss, its range
and the law's held-out error as `forecast/loss`, `forecast/low`, `forecast/high` (at up to
MAX_POINTS of the forecast steps) and `forecast/held_out_error` (in % of the loss, at the last
step). The records are encoded here (readers/wire.py decodes the same protobuf) with their masked
CRC32C, as TensorBoard writes them: a record is its length (uint64), the length's CRC, the Event
and the Event's CRC.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from pathlib import Path

import numpy as np

from .atomic import replacing
from .errors import InputError
from .forecast import Prediction
from .law import Law
from .ranges import held_out_error
from .readers.tensorboard import crc_checker

FILE_VERSION = b"brain.Event:2"
TAGS = ("forecast/loss", "forecast/low", "forecast/high")
MAX_POINTS = 2000  # steps written at most, evenly spread, the last always (a chart needs no more)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def event(step: int, wall_time: float, *, scalars: dict[str, float] | None = None,
          file_version: bytes | None = None) -> bytes:
    """One Event: wall_time (1, double), step (2, varint) and a file_version (3) or a Summary (5)
    of simple_value scalars (Value: tag 1, simple_value 2 as float32)."""
    out = b"\x09" + struct.pack("<d", wall_time) + b"\x10" + _varint(int(step))
    if file_version is not None:
        return out + _field(3, file_version)
    values = b"".join(_field(1, _field(1, tag.encode()) + b"\x15" + struct.pack("<f", value))
                      for tag, value in (scalars or {}).items())
    return out + _field(5, values)


def record(data: bytes, masked) -> bytes:
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked(length)) + data + struct.pack("<I", masked(data))


def forecast_events(law: Law, pred: Prediction, wall_time: float | None = None) -> bytes:
    """The event file's bytes: the file version, then per forecast step its loss and range."""
    wall = time.time() if wall_time is None else wall_time
    masked = crc_checker()
    low, high = pred.interval if pred.interval is not None else (pred.loss, pred.loss)
    out = [record(event(0, wall, file_version=FILE_VERSION), masked)]
    keep = np.unique(np.linspace(0, pred.steps.size - 1, min(pred.steps.size, MAX_POINTS)).astype(np.int64))
    for i in keep:
        step = pred.steps[i]
        values = dict(zip(TAGS, (float(pred.loss[i]), float(low[i]), float(high[i])), strict=True))
        out.append(record(event(int(step), wall, scalars=values), masked))
    err = held_out_error(law)
    if err is not None:
        out.append(record(event(int(pred.steps[-1]), wall, scalars={"forecast/held_out_error": 100 * err}),
                          masked))
    return b"".join(out)


def write_forecast(law: Law, pred: Prediction, folder: str | Path, replace: Path | None = None) -> Path:
    """Write the forecast as an event file of its own into `folder` (a run's TensorBoard folder,
    made if missing), or over the file `replace` an earlier forecast wrote (watch's later updates:
    one forecast file, not one per update), and return its path; written whole or not at all."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--tensorboard {folder}: not a folder; give the run's TensorBoard folder")
    folder.mkdir(parents=True, exist_ok=True)
    path = replace if replace is not None else (
        folder / f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.lrforecast")
    data = forecast_events(law, pred)
    with replacing(path) as tmp:
        tmp.write_bytes(data)
    return path
