"""What a law's form can do at best on the 124M runs of ../shared/data/schaipp124m: fitted on every
run of one peak LR and horizon at once (the constant run cut at the horizon and all nine decaying
runs, in-sample), the mean error of the ten final losses. Three fits each: as the tool fits (with
the law's priors), without the priors, and without them on the constant run and only the last
five points of every other run (the ends alone). A law that cannot come near a target here will
not meet it forecasting from two runs; the transfer tasks (transfer.py) are the test that counts.
Run: `python benchmarks/ceiling.py [--laws rootpower,multipower] [--horizons 25,50] [--runs]`.
"""

from __future__ import annotations

import argparse
import shlex
import sys

import numpy as np
import schaipp
from reference_protocol import machine

from lrforecast import evaluate
from lrforecast.fitting import fit_law
from lrforecast.run import Run

ENDS = 5  # points of each decaying run kept by the ends-only fit


def runs_of(peak: str, horizon: int) -> tuple[list[Run], list]:
    """The constant run of a peak LR (a schaipp.PEAKS key) cut at `horizon` thousand steps, then
    every decaying run of that length."""
    prefix = schaipp.PEAKS[peak]
    const = f"{prefix}_50k_constant"
    names = sorted(k for k in schaipp.config() if k.startswith(f"{prefix}_{horizon}k_") and k != const)
    fitted = ((const, horizon * 1000), *((n, None) for n in names))
    return schaipp.Task(f"{peak} all-{horizon}k", peak, fitted, ()).inputs()


def end_errors(law: str, runs: list[Run], scheds: list, how: str) -> list[float]:
    """Forecast minus real final loss of every run, for a fit made `how` (priors, no priors, ends)."""
    def last(r: Run) -> Run:
        return r.subset(np.arange(r.steps.size) >= r.steps.size - ENDS)

    fitted_runs = runs if how != "ends" else [runs[0]] + [last(r) for r in runs[1:]]
    options = {} if how == "priors" else {"prior": 0.0}
    if how == "ends":
        options["from_step"] = 1000
    fitted = fit_law(fitted_runs, scheds, law=law, **options)
    pairs = zip(runs, scheds, strict=True)
    return [float(evaluate(fitted, r, s).predicted[-1] - r.loss[-1]) for r, s in pairs]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--laws", default="rootpower,multipower")
    ap.add_argument("--horizons", default="25,50")
    ap.add_argument("--runs", action="store_true", help="also print each run's error")
    args = ap.parse_args()
    print(machine())
    print("command: python benchmarks/ceiling.py " + shlex.join(sys.argv[1:]) + "\n")
    hows = ("priors", "no priors", "ends")
    print("| law | horizon | fit | " + " | ".join(f"MAE {p}" for p in schaipp.PEAKS) + " |")
    print("|---|---|---|" + "---:|" * len(schaipp.PEAKS))
    horizons = [int(h) for h in args.horizons.split(",")]
    data = {(h, peak): runs_of(peak, h) for h in horizons for peak in schaipp.PEAKS}
    for law in args.laws.split(","):
        for horizon in horizons:
            for how in hows:
                errs = {peak: end_errors(law, *data[horizon, peak], how) for peak in schaipp.PEAKS}
                print(f"| {law} | {horizon}k | {how} | "
                      + " | ".join(f"{np.mean(np.abs(e)):.4f}" for e in errs.values()) + " |", flush=True)
                if args.runs:
                    for peak, e in errs.items():
                        names = [r.name.split("_", 2)[-1] for r in data[horizon, peak][0]]
                        cells = ", ".join(f"{n} {x:+.4f}" for n, x in zip(names, e, strict=True))
                        print(f"|  | {peak} | {how} | {cells} |")


if __name__ == "__main__":
    main()
