"""How often `predict`'s range holds the final loss of a run forecast from its own first part: the
calibration of the forecast range (ranges.range_error, envelope.py).

Every run of ../shared/data (124M of schaipp124m, 25M and 100M of mpl) whose LR falls by half or more
is cut at 30%, 50% and 70% of its steps and fitted by `fit` (auto, as a user would) on that part
alone; the range's final loss is checked against the run's real one (the mean of its last points,
as `evaluate` measures it). For each case it also prints the unseen-decay coefficient the range would
have needed to hold it (its held-out end error kept), so that ranges.UNSEEN_DECAY_ERROR can be read
off at a stated coverage. The two llm.c GPT-2 124M logs of ../shared/data/real (another family: a
per-batch training loss, a cosine to zero) are cut at 30% to 70% and shown apart; the main log's
cuts are what the coefficient was set to hold.
Run: `make bench` or `python benchmarks/range_calibration.py [--shares 0.3,0.5]`.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np
import pilot_accuracy
import schaipp
from reference_protocol import SHARED, machine, sizes_present

from lrforecast import evaluate, fit
from lrforecast.areas import lr_decay
from lrforecast.ranges import UNSEEN_DECAY_ERROR, held_out_end_error, range_error, unseen_decay
from lrforecast.reference import load_reference
from lrforecast.resolve import resolve

MIN_FALL = 0.5  # the runs used: their LR falls by at least this share of its peak
LLMC_SHARES = (0.3, 0.4, 0.5, 0.6, 0.7)


def runs() -> list[tuple[str, object, object]]:
    """(group, Run, Schedule) of every decaying run of the shared data."""
    out = []
    for name in schaipp.config():
        sched = schaipp.schedule(name)
        if lr_decay(sched.lr(sched.total)) >= MIN_FALL:
            out.append(("124m", schaipp.read(name), sched))
    for size in sizes_present():
        for _, (run, sched) in sorted(load_reference(SHARED / "data" / "mpl" / size)[0].items()):
            if lr_decay(resolve(sched, run).lr_for(run)) >= MIN_FALL:
                out.append((size, run, sched))
    return out


def llmc_runs() -> list[tuple[str, object, object]]:
    """(group, Run, Schedule) of the llm.c logs present: pilot_accuracy's runs and schedule."""
    out = []
    for name in pilot_accuracy.RUNS:
        if (SHARED / "data" / "real" / name).is_file():
            out.append((f"llm.c {name.split('-')[-1].removesuffix('.log')}", *pilot_accuracy.llmc(name)))
    return out


def case(run, sched, share: float) -> dict:
    """Fit the first `share` of the run's steps, and score the range at its real end."""
    head = run.subset(run.steps <= run.steps[0] + share * (run.steps[-1] - run.steps[0]))
    law = fit([head], [sched])
    result = evaluate(law, run, sched)
    if result.range is None:
        return {"held": False, "needed": np.inf, "width": np.nan, "unseen": np.nan}
    eta = resolve(sched, run).lr_for(run)
    err, base = range_error(law, eta), held_out_end_error(law)
    low, high = result.range["end_range"]
    band_low, band_high = low / (1 - err), high / (1 + err)  # the law and its refits alone
    end = result.range["end"]
    need = max(0.0, 1 - end / band_low, end / band_high - 1)  # the relative error that would hold it
    unseen = unseen_decay(law, eta)
    needed = 0.0 if need <= base else (np.inf if unseen == 0 else (need - base) / unseen)
    return {"held": bool(result.range["end_held"]), "needed": needed, "width": (high - low) / end,
            "unseen": unseen}


def row(group: str, fitted: str, rs: list[dict]) -> str:
    held = 100 * np.mean([r["held"] for r in rs])
    width, unseen = 100 * np.nanmean([r["width"] for r in rs]), np.nanmean([r["unseen"] for r in rs])
    return f"| {group} | {fitted} | {len(rs)} | {held:.0f}% | {width:.1f}% | {unseen:.2f} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shares", default="0.3,0.5,0.7")
    args = ap.parse_args()
    print(machine())
    print(f"command: python benchmarks/{Path(__file__).name} {shlex.join(sys.argv[1:])}".rstrip())
    shares = [float(s) for s in args.shares.split(",")]
    results: dict[tuple[str, float], list[dict]] = {}
    for group, run, sched in runs():
        for share in shares:
            results.setdefault((group, share), []).append(case(run, sched, share))
            print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(f"\nrange holds the real final loss (UNSEEN_DECAY_ERROR = {UNSEEN_DECAY_ERROR:g}):\n")
    print("| runs | fitted on | cases | held | mean width | mean unseen decay |")
    print("|---|---|---:|---:|---:|---:|")
    every = []
    for (group, share), rs in results.items():
        every += rs
        print(row(group, f"first {100 * share:.0f}%", rs))
    print(row("all", "", every))
    print("\nthe llm.c logs (not in the table above): held, and the unseen-decay coefficient each cut "
          "needed\n")
    print("| log | fitted on | held | width | unseen decay | coefficient needed |")
    print("|---|---|---|---:|---:|---:|")
    for group, run, sched in llmc_runs():
        for share in LLMC_SHARES:
            r = case(run, sched, share)
            print(f"| {group} | first {100 * share:.0f}% | {'yes' if r['held'] else 'no'} | "
                  f"{100 * r['width']:.1f}% | {r['unseen']:.2f} | {r['needed']:.4f} |", flush=True)
    needed = np.array([r["needed"] for r in every])
    print("\nthe unseen-decay coefficient that would hold the share of cases (held-out end error kept):\n")
    print("| share held | coefficient |")
    print("|---:|---:|")
    for q in (0.8, 0.85, 0.9, 0.95):
        k = float(np.quantile(needed, q))
        print(f"| {100 * q:.0f}% | {k:.4f} |" if np.isfinite(k) else f"| {100 * q:.0f}% | none |")


if __name__ == "__main__":
    main()
