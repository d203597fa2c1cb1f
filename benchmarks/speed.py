"""How fast the command line answers, as a user runs it: start-up, inspect of every real log, fit
with the default law on one and on three runs, a 2,000,000-row log, and predict of a
1,000,000-step schedule to Parquet. Each is a fresh `lrforecast` process (wall time, best of
`--repeat`; peak memory of the process), beside its target (issue "Never a confident wrong answer").
Run: `make bench` or `python benchmarks/speed.py [--repeat 3]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import schaipp
from reference_protocol import SHARED, machine

REAL = SHARED / "data" / "real"
LRFORECAST = [sys.executable, "-m", "lrforecast"]


def timed(args: list[str], repeat: int) -> tuple[float, float]:
    """Best wall time over `repeat` runs of `lrforecast args` and the peak RSS (MB) of the slowest
    child so far (ru_maxrss of the children is a running maximum)."""
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        done = subprocess.run([*LRFORECAST, *args], capture_output=True, text=True)
        wall = time.perf_counter() - t
        if done.returncode != 0:
            raise SystemExit(f"lrforecast {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
        best = min(best, wall)
    return best, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def rss_of(args: list[str]) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of one run, measured by the child itself via /proc (so that
    earlier children do not set the maximum)."""
    code = ("import resource, runpy, sys; sys.argv = ['lrforecast', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('lrforecast', run_name='__main__')\n"
            "finally:\n    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)")
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"lrforecast {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return wall, int(done.stderr.strip().splitlines()[-1]) / 1024


def long_log(path: Path, rows: int) -> None:
    """A `step,lr,loss` CSV of `rows` steps, the LR logged at every one: a WSD schedule and a loss
    that follows a power law in the LR area with a cooldown gain and 0.3% noise."""
    t = np.arange(rows)
    lr = np.where(t < 2000, 3e-4 * (t + 1) / 2000, 3e-4)
    lr = np.where(t >= 0.8 * rows, 3e-4 * (rows - t) / (0.2 * rows), lr)
    s1 = np.cumsum(lr / 3e-4)
    loss = 2.5 + 6.0 * s1 ** -0.3 - 0.15 * (1 - lr / 3e-4) * (t >= 0.8 * rows)
    loss *= 1 + 0.003 * np.random.default_rng(0).standard_normal(rows)
    with path.open("w") as f:
        f.write("step,lr,loss\n")
        np.savetxt(f, np.column_stack([t, lr, loss]), fmt=["%d", "%.6e", "%.5f"], delimiter=",")


def schaipp_csv(folder: Path, name: str, cut: int | None = None) -> Path:
    """One 124M run's per-batch training log (`step,lr,loss`, every 50 steps), the constant run cut
    at `cut`, with its logged LR, as a user's log would be."""
    src = schaipp.DATA / f"{name}.train.csv"
    lines = src.read_text().splitlines()
    keep = [lines[0]] + [r for r in lines[1:] if cut is None or int(float(r.split(",")[0])) < cut]
    out = folder / f"{name}.csv"
    out.write_text("\n".join(keep) + "\n")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    print(f"command: python benchmarks/speed.py --repeat {args.repeat}\n")
    rows = []

    def row(what: str, seconds: float, target: float, mb: float | None = None,
            mb_target: float | None = None) -> None:
        ok = seconds <= target and (mb is None or mb <= mb_target)
        mem = "" if mb is None else f"{mb:.0f} MB (target {mb_target:.0f})"
        rows.append(f"| {what} | {seconds:.2f} s | {target:g} s | {mem} | {'met' if ok else 'NOT met'} |")

    for flag in ("--version", "--help"):
        row(f"lrforecast {flag}", timed([flag], args.repeat)[0], 0.3)
    logs = sorted(p for p in REAL.iterdir() if p.name != "README.md")
    inspect = [timed(["inspect", str(p)], args.repeat)[0] for p in logs]
    worst = logs[int(np.argmax(inspect))].name
    row(f"inspect, slowest of the {len(logs)} real logs ({worst})", max(inspect), 1.0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        one = schaipp_csv(folder, "lr0.002_50k_constant")  # 1,000 points
        llmc = REAL / "llmc-gpt2-124m-fineweb10b-stdout.log"  # ~19,000 points, LR at every step
        row("fit, default law, one run (llm.c stdout, LR per step, 19k points)",
            timed(["fit", str(llmc)], args.repeat)[0], 3.0)
        row("fit, default law, one run (124M constant, 1,000 points)",
            timed(["fit", str(one)], args.repeat)[0], 3.0)
        three = [schaipp_csv(folder, "lr0.0005_50k_constant", 25000),
                 schaipp_csv(folder, "lr0.0005_25k_wsd-lin0.2"),
                 schaipp_csv(folder, "lr0.0005_25k_wsd-lin0.6")]
        row("fit, default law, three runs (124M: constant, two WSD cooldowns)",
            timed(["fit", *map(str, three)], args.repeat)[0], 5.0)
        big = folder / "two-million.csv"
        long_log(big, 2_000_000)
        wall, mb = rss_of(["fit", str(big)])
        row("fit, default law, a 2,000,000-row CSV (LR every step)", wall, 15.0, mb, 2048)
        law = folder / "law.json"
        subprocess.run([*LRFORECAST, "fit", str(one), "-o", str(law)], check=True, capture_output=True)
        out = folder / "forecast.parquet"
        wall = np.inf
        for _ in range(args.repeat):
            out.unlink(missing_ok=True)
            t = time.perf_counter()
            subprocess.run([*LRFORECAST, "predict", str(law), "--schedule",
                            "wsd:peak=2e-3:warmup=300:total=1000000:decay=0.2", "-o", str(out)],
                           check=True, capture_output=True)
            wall = min(wall, time.perf_counter() - t)
        row("predict, a 1,000,000-step schedule to Parquet", wall, 3.0)
    print("| what | wall time (best) | target | peak memory | |")
    print("|---|---:|---:|---:|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
