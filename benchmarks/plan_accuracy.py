"""How well `plan` finds a length, and how often the forecast range holds the real loss: on the
reference protocol, fit auto on the three train runs, then ask for the steps each test run's schedule
needs to reach the loss that run really ended at, and forecast each test run's curve.

The true length is the run's own (its last logged step + 1 for constant and step schedules, whose LR
history up to that step is the same at any length; its total for decaying ones, which were logged to
within 0.4% of their end). The range is plan's: the length if the law, or one of its refits, were
off by its held-out error. The loss columns: the share of the run's points inside `predict`'s range
(low to high), and whether its last point is; and the share inside the refits' spread alone
(refit_low to refit_high).
Run: `make bench` or `python benchmarks/plan_accuracy.py`.
"""

from __future__ import annotations

import time

import numpy as np
from reference_protocol import SHARED, machine, sizes_present

from lrforecast import evaluate, fit, predict
from lrforecast.planning import plan
from lrforecast.reference import load_reference
from lrforecast.resolve import resolve
from lrforecast.schedules import Schedule


def free_length(s: Schedule) -> tuple[str, int]:
    """The spec of `s` without its length (a WSD decay start as a fraction), and that length."""
    params = dict(s.params)
    total = int(params.pop("total"))
    if "decay_start" in params:
        params["decay"] = round((total - params.pop("decay_start")) / total, 6)
    return Schedule(s.name, params).spec, total


def main() -> None:
    print(f"machine: {machine()}")
    for size in sizes_present():
        runs, proto = load_reference(SHARED / "data" / "mpl" / size)
        law = fit([runs[n][0] for n in proto["train"]], [runs[n][1] for n in proto["train"]], law="auto")
        print(f"\n## {size}: auto ({law.name}) fitted on {', '.join(proto['train'])} "
              f"(up to step {law.horizon})\n")
        print("| test run | target loss | true steps | planned | error | range | in range | s "
              "| loss in range | last loss in range | loss in refits' spread |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for name in proto["test"]:
            run, sched = runs[name]
            spec, total = free_length(sched)
            keep = run.steps < total
            truth = total if sched.name in ("cosine", "wsd") else int(run.steps[keep][-1]) + 1
            target = float(run.loss[keep][-1])
            t = time.perf_counter()
            (r,) = plan(law, [spec], target)
            lo, hi = r.steps_range
            inside = lo is not None and hi is not None and lo <= truth <= hi
            error = f"{100 * (r.steps / truth - 1):+.1f}%" if r.steps else "not reached"
            seconds = time.perf_counter() - t
            held = evaluate(law, run, sched).range  # a validation loss: every point is the trend
            pred = predict(law, resolve(sched, run))  # every step, from the first the law covers
            seen = keep & (run.steps >= pred.steps[0])
            at, y = run.steps[seen] - pred.steps[0], run.loss[seen]
            in_refits = np.mean((pred.band[0][at] <= y) & (y <= pred.band[1][at]))
            print(f"| {name} | {target:.4f} | {truth} | {r.steps} | {error} | {lo}-{hi} | "
                  f"{'yes' if inside else 'no'} | {seconds:.2f} | {100 * held['held']:.0f}% | "
                  f"{'yes' if held['end_held'] else 'no'} | {100 * in_refits:.0f}% |", flush=True)


if __name__ == "__main__":
    main()
