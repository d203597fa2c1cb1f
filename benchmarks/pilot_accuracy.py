"""How well a pilot forecasts the rest of its run: fit on the first part of a real pre-training run,
forecast the steps after it.

The runs are the two GPT-2 124M runs trained with llm.c on FineWeb 10B in shared/data/real (cosine
from 6e-4 to 0 after 700 warmup steps, over 19,552 and 19,560 steps; a per-batch training loss).
For each fraction, `fit --law auto` sees the steps up to it with the whole run's schedule, and is
scored on the steps after it: the error of the final loss (EndE) and the mean error against the
loss's trend (TrendE), beside what the law says of itself (its cross-validated held-out TrendE and
EndE, which plan's range and compare's warning use), and whether the final loss (the mean of the
last points, as in EndE) lies in `predict`'s range.
A second table: every distinct real log in shared/data/real (pre-training, continued pre-training
and fine-tuning, each with its own logged LR as the schedule), the multi-power law fitted on its
first third and half with and without the annealing-gain prior, and the TrendE of the steps after.
Run: `make bench` or `python benchmarks/pilot_accuracy.py`.
"""

from __future__ import annotations

import time

from reference_protocol import SHARED, machine

from lrforecast import evaluate, fit
from lrforecast.errors import LRForecastError
from lrforecast.fitting import resolved
from lrforecast.readers import read_run
from lrforecast.run import Run
from lrforecast.schedules import Schedule, parse_schedule
from lrforecast.selection import head

RUNS = {"llmc-gpt2-124m-fineweb10b-main.log": 19552, "llmc-gpt2-124m-fineweb10b-stdout.log": 19560}
SPEC = "cosine:peak=6e-4:warmup=700:min=0"
FRACTIONS = (0.25, 1 / 3, 0.5, 2 / 3)


def llmc(name: str) -> tuple[Run, Schedule]:
    """The llm.c log `name` of RUNS (../shared/data/real) and its schedule, SPEC at the run's total."""
    return read_run(SHARED / "data" / "real" / name), parse_schedule(f"{SPEC}:total={RUNS[name]}")


def after(run: Run, step: int) -> Run:
    """The points of a run after `step`."""
    keep = run.steps > step
    return Run(run.name, run.steps[keep], run.loss[keep], None if run.lr is None else run.lr[keep])


def main() -> None:
    print(f"machine: {machine()}")
    print(f"schedule: {SPEC} with the run's total; errors in % of the loss\n")
    print("| run | fitted on | law | unseen TrendE | unseen EndE | law's own TrendE | law's own EndE "
          "| final loss in range | fit s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in RUNS:
        run, sched = llmc(name)
        for fraction in FRACTIONS:
            pilot = head(run, fraction)
            t = time.perf_counter()
            law = fit([pilot], [sched], law="auto")
            seconds = time.perf_counter() - t
            result = evaluate(law, after(run, int(pilot.steps[-1])), sched)
            m, own = result.metrics, law.held_out
            print(f"| {name.split('-')[-1]} | first {fraction:.0%} (to step {pilot.steps[-1]}) | "
                  f"{law.name} | {100 * m['TrendE']:.2f} | {100 * m['EndE']:.2f} | "
                  f"{100 * own.TrendE:.2f} | {100 * own.EndE:.2f} | "
                  f"{'yes' if result.range['end_held'] else 'no'} | {seconds:.1f} |", flush=True)


def every_log() -> None:
    """The second table (module doc)."""
    print("\n## every real log: multipower TrendE of the steps after the pilot, without / with the gain "
          "prior\n")
    print("| log | first 33% | first 50% |")
    print("|---|---|---|")
    seen = set()
    for path in sorted((SHARED / "data" / "real").iterdir()):
        if path.suffix == ".md":
            continue
        run = read_run(path)
        key = (run.steps.size, round(float(run.loss[0]), 4))  # float32 in TensorBoard, float64 in JSON
        if key in seen:  # the same run in another format
            continue
        seen.add(key)
        (sched,) = resolved([run], [parse_schedule("log")])
        cells = []
        for fraction in (1 / 3, 1 / 2):
            pilot = head(run, fraction)
            pair = []
            for gain in (0.0, None):
                try:
                    law = fit([pilot], [sched], law="multipower", gain_prior=gain)
                    m = evaluate(law, after(run, int(pilot.steps[-1])), sched).metrics
                    pair.append(f"{100 * m['TrendE']:.2f}")
                except LRForecastError:
                    pair.append("fails")
            cells.append(" / ".join(pair))
        print(f"| {path.name[:40]} | {cells[0]} | {cells[1]} |", flush=True)


if __name__ == "__main__":
    main()
    every_log()
