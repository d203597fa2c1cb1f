"""Fit time and memory on a long schedule: 200,000 steps with a loss point every 100 steps.

The run is synthetic (a multi-power law with the 100M reference parameters plus 0.3% noise)
because no public curve this long ships here; what is measured is the cost, not the accuracy.
Memory is the process's peak resident size so far (it only grows), read after each fit.
Run: `make bench` or `python benchmarks/long_schedule.py`.
"""

from __future__ import annotations

import resource
import time

import numpy as np
from reference_protocol import machine

from lrforecast import fit
from lrforecast.law import Law
from lrforecast.laws.multipower import in_peak_units
from lrforecast.run import Run
from lrforecast.schedules import parse_schedule


def main() -> None:
    print(f"machine: {machine()}")
    raw = {"L0": 2.65, "A": 0.6, "B": 438.0, "alpha": 0.45, "beta": 0.6, "gamma": 0.66, "C": 2.1}
    truth = Law.given("multipower", in_peak_units(raw, 3e-4), peak_lr=3e-4, warmup=2000, total=200_000)
    rng = np.random.default_rng(0)
    specs = ["cosine:peak=3e-4:min=3e-5:warmup=2000:total=200000",
             "wsd:peak=3e-4:min=0:warmup=2000:total=200000:decay=0.2"]
    runs, scheds = [], []
    for i, spec in enumerate(specs):
        s = parse_schedule(spec)
        steps = np.arange(100, 200_000, 100)
        loss = truth.predict_lr(s.lr(), steps, 2000) * (1 + 0.003 * rng.standard_normal(steps.size))
        runs.append(Run.from_points(f"run{i}", steps, loss))
        scheds.append(s)
    print(f"{len(runs)} runs of 200,000 steps, {runs[0].steps.size} points each; peak RSS before any "
          f"fit {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print("| law | runs | fit s | peak RSS MB |\n|---|---|---|---|")
    for law in ("momentum", "multipower", "auto"):
        for n in (1, 2):
            t = time.perf_counter()
            fitted = fit(runs[:n], scheds[:n], law=law)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
            print(f"| {law} ({fitted.name}) | {n} | {time.perf_counter() - t:.1f} | {rss:.0f} |", flush=True)


if __name__ == "__main__":
    main()
