"""Our TensorBoard reader against the `tensorboard` package's loaders on a 200,000-event file.

Writes 100,000 steps x 2 scalar tags with tensorboardX, then times a full read with:
lrforecast's reader, tensorboard's LegacyEventFileLoader (every event decoded, scalars pulled
out), and EventAccumulator with no subsampling. Checks that all three return the same values.
Run: `make bench` or `python benchmarks/tensorboard_reader.py`.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from reference_protocol import machine

from lrforecast.readers.tensorboard import read_tensorboard

N_STEPS = 100_000


def write_file(folder: Path) -> Path:
    from tensorboardX import SummaryWriter

    rng = np.random.default_rng(0)
    with SummaryWriter(str(folder)) as w:
        for step, (loss, lr) in enumerate(zip(3 + rng.random(N_STEPS), 1e-4 * rng.random(N_STEPS),
                                              strict=True)):
            w.add_scalar("train/loss", loss, step)
            w.add_scalar("train/learning_rate", lr, step)
    return next(folder.glob("*tfevents*"))


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def ours(path: Path) -> dict:
    runs, _ = read_tensorboard(path)
    return next(iter(runs.values()))


def legacy_loader(path: Path) -> dict:
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    out: dict = {}
    for event in LegacyEventFileLoader(str(path)).Load():
        for v in event.summary.value:
            if v.WhichOneof("value") == "simple_value":
                s, vals = out.setdefault(v.tag, ([], []))
                s.append(event.step)
                vals.append(v.simple_value)
    return out


def accumulator(path: Path) -> dict:
    from tensorboard.backend.event_processing import event_accumulator as ea

    acc = ea.EventAccumulator(str(path), size_guidance={ea.SCALARS: 0})
    acc.Reload()
    return {t: ([e.step for e in acc.Scalars(t)], [e.value for e in acc.Scalars(t)])
            for t in acc.Tags()["scalars"]}


def main() -> None:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_file(Path(tmp))
        size = path.stat().st_size
        print(f"file: {N_STEPS * 2:,} scalar events + 1 header, {size / 1e6:.1f} MB (tensorboardX)")
        t_ours, a = best_of(lambda: ours(path))
        t_legacy, b = best_of(lambda: legacy_loader(path))
        t_acc, c = best_of(lambda: accumulator(path), repeat=1)
        for tag in ("train/loss", "train/learning_rate"):
            for other in (b, c):
                assert np.array_equal(a[tag][0], other[tag][0])
                assert np.array_equal(a[tag][1], np.asarray(other[tag][1], dtype=np.float64))
        print("all three readers return the same steps and values")
        print("| reader | seconds | vs lrforecast |\n|---|---|---|")
        print(f"| lrforecast readers.tensorboard | {t_ours:.3f} | 1.0x |")
        print(f"| tensorboard LegacyEventFileLoader | {t_legacy:.3f} | {t_legacy / t_ours:.1f}x slower |")
        print(f"| tensorboard EventAccumulator (no subsampling) | {t_acc:.3f} "
              f"| {t_acc / t_ours:.1f}x slower |")


if __name__ == "__main__":
    main()
