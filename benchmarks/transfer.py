"""Right decisions on other people's runs: the schedule-transfer tasks of ../shared/data/schaipp124m
(124M models, three peak LRs, four horizons) through the public API, and the MPL protocol scored
only where a test run has left every fitted run's schedule.

Transfer: for each task (its README), fit a law on the constant run cut at the horizon and one
decaying run, forecast the other runs from their schedules alone, and score the final losses (MAE,
bias and Spearman of the order, at each run's last logged step, where its real final loss is;
regret: the real final loss of the schedule `compare` ranks first, at the schedules' last step as a
user gets it, minus the real best's), PredE over each run's points after its branch step (and step
1000), how often the true final loss lies in `predict`'s range, and the fit time. Beside each law
and auto: the rule of thumb "always wsd linear 0.6" (regret only) and a level-only baseline (every
run's final loss is the fitted decaying run's).
Run: `make bench` or `python benchmarks/transfer.py [--laws auto,momentum] [--tasks 2e-3] [--no-mpl]`.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import schaipp
from reference_protocol import SHARED, machine, sizes_present
from scipy.stats import spearmanr

from lrforecast import LAWS, compare, evaluate, fit
from lrforecast.metrics import METRICS, curve_metrics, mean_metrics
from lrforecast.reference import load_reference

FIGURES = ("MAE", "bias", "Spearman", "regret", "PredE", "in range", "width", "fit s")
RULE = "wsd-lin0.6"


def score(task: schaipp.Task, final: dict[str, float], prede: dict[str, float] | None = None,
          held: dict[str, bool] | None = None, seconds: float = float("nan"),
          widths: dict[str, float] | None = None, pick: str | None = None) -> dict:
    """A task's figures from the forecast loss of each forecast run at its last logged step (width:
    of the range there, a share of its real loss). The regret is of `pick`, compare's choice (the
    candidates ranked at their schedules' last step, as a user gets them), where given; else of the
    lowest of `final`."""
    names = list(task.forecast)
    real = np.array([schaipp.read(n).loss[-1] for n in names])
    pred = np.array([final[n] for n in names])
    err = pred - real
    ties = np.ptp(pred) == 0
    chosen = names.index(pick) if pick is not None else int(np.argmin(pred))
    return {"MAE": float(np.mean(np.abs(err))), "bias": float(np.mean(err)),
            "Spearman": float("nan") if ties else float(spearmanr(pred, real).statistic),
            "regret": float("nan") if ties else float(real[chosen] - real.min()),
            "PredE": float(np.mean(list(prede.values()))) if prede else float("nan"),
            "in range": float(np.mean(list(held.values()))) if held else float("nan"),
            "width": float(np.mean(list(widths.values()))) if widths else float("nan"), "fit s": seconds,
            "pick": names[chosen].split("_")[-1],
            "best": names[int(np.argmin(real))].split("_")[-1]}


def run_law(task: schaipp.Task, law: str) -> dict:
    runs, schedules = task.inputs()
    t = time.perf_counter()
    fitted = fit(runs, schedules, law=law, validate=True)
    seconds = time.perf_counter() - t
    final, prede, held, widths = {}, {}, {}, {}
    for name in task.forecast:
        run, sched = schaipp.read(name), schaipp.schedule(name)
        result = evaluate(fitted, run, sched, from_step=task.scored_from(name))
        final[name] = float(result.predicted[-1])
        prede[name] = result.metrics["PredE"]
        if result.range is not None:
            held[name] = result.range["end_held"]
            low, high = result.range["end_range"]
            widths[name] = (high - low) / result.range["end"]
    cmp = compare(fitted, [schaipp.schedule(n) for n in task.forecast])
    return {**score(task, final, prede, held, seconds, widths, cmp.best.name), "law": fitted.name,
            "pairs": pairs(task, cmp)}


def pairs(task: schaipp.Task, cmp) -> list[tuple[float, bool]]:
    """Every pair of forecast runs: the probability compare gives the order it thinks likelier,
    and whether the runs really end in that order."""
    by_name = {p.name: p for p in cmp.predictions}
    real = {n: schaipp.read(n).loss[-1] for n in task.forecast}
    out = []
    for i, a in enumerate(task.forecast):
        for b in task.forecast[i + 1:]:
            p = cmp.p_lower(by_name[a], by_name[b])
            if p is not None:
                out.append((max(p, 1 - p), bool((real[a] < real[b]) == (p >= 0.5))))
    return out


CALIBRATION_BINS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.99, 1.0001)
BINS = list(zip(CALIBRATION_BINS[:-1], CALIBRATION_BINS[1:], strict=True))


def calibration(results: dict[str, list[tuple[schaipp.Task, dict]]]) -> None:
    """Of the pairs compare gives a probability in each bin, how many really end in that order."""
    print("\n### compare's pairwise probability: of the pairs given P, the share that really end in "
          "that order\n")
    heads = [f"{lo:.2f}-{min(hi, 1):.2f}" for lo, hi in BINS]
    print("| law | " + " | ".join(heads) + " |")
    print("|---|" + "---:|" * len(heads))
    for law, rows in results.items():
        got = [pair for _, r in rows for pair in r.get("pairs", [])]
        if not got:
            continue
        cells = []
        for lo, hi in BINS:
            inside = [right for p, right in got if lo <= p < hi]
            cells.append(f"{100 * np.mean(inside):.0f}% of {len(inside)}" if inside else "–")
        print(f"| {law} | " + " | ".join(cells) + " |")


def baselines(task: schaipp.Task) -> dict[str, dict]:
    """The rule of thumb's regret, and the level-only baseline's MAE and bias."""
    decayed = schaipp.read(task.fitted[1][0]).loss[-1]
    level = score(task, {n: float(decayed) for n in task.forecast})
    real = {n: schaipp.read(n).loss[-1] for n in task.forecast}
    rule = next((n for n in task.forecast if n.endswith(RULE)), None)
    regret = float("nan") if rule is None else float(real[rule] - min(real.values()))
    nan = float("nan")
    return {f"always {RULE}": {"MAE": nan, "bias": nan, "Spearman": nan, "regret": regret, "PredE": nan,
                               "in range": nan, "width": nan, "fit s": nan, "pick": RULE,
                               "best": level["best"]},
            "level only": {**level, "Spearman": nan, "regret": nan}}


def cell(x: float, figure: str) -> str:
    if np.isnan(x):
        return "–"
    return {"MAE": f"{x:.4f}", "bias": f"{x:+.4f}", "Spearman": f"{x:+.2f}", "regret": f"{x:.4f}",
            "PredE": f"{100 * x:.3f}%", "in range": f"{100 * x:.0f}%", "width": f"{100 * x:.1f}%",
            "fit s": f"{x:.1f}"}[figure]


def means(rows: list[dict]) -> dict[str, float]:
    return {f: float(np.nanmean([r[f] for r in rows])) if any(not np.isnan(r[f]) for r in rows)
            else float("nan") for f in FIGURES}


def transfer(laws: list[str], only: str) -> None:
    chosen = [t for t in schaipp.tasks() if only in t.name]
    results: dict[str, list[tuple[schaipp.Task, dict]]] = {}
    for law in laws:
        results[law] = [(t, run_law(t, law)) for t in chosen]
    for t in chosen:
        for name, row in baselines(t).items():
            results.setdefault(name, []).append((t, row))
    for law, rows in results.items():
        print(f"\n### {law}: per task\n")
        fitted = law in laws
        print("| task | " + " | ".join(FIGURES) + " | forecast best | real best |" + (" law |" * fitted))
        print("|---|" + "---:|" * len(FIGURES) + "---|---|" + ("---|" * fitted))
        for t, r in rows:
            cells = " | ".join(cell(r[f], f) for f in FIGURES)
            law_cell = f" {r['law']} |" if fitted else ""
            print(f"| {t.name} | {cells} | {r['pick']} | {r['best']} |{law_cell}", flush=True)
    print("\n### Means over the tasks, per peak LR and in all\n")
    print("| law | peak LR | " + " | ".join(FIGURES) + " | worst regret |")
    print("|---|---|" + "---:|" * (len(FIGURES) + 1))
    for law, rows in results.items():
        for peak in [*schaipp.PEAKS, "all"]:
            sub = [r for t, r in rows if peak in ("all", t.peak)]
            if not sub:
                continue
            m = means(sub)
            regrets = [r["regret"] for r in sub if not np.isnan(r["regret"])]
            worst = max(regrets) if regrets else np.nan
            cells = " | ".join(cell(m[f], f) for f in FIGURES)
            print(f"| {law} | {peak} | {cells} | {cell(worst, 'regret')} |")
    calibration(results)


def divergence(test, fitted) -> int:
    """The first step from which a test run's schedule differs from every fitted run's (a fitted
    run's schedule ends at its total): before it, the test run repeats a fitted run's points."""
    eta = test.lr()
    out = 0
    for f in fitted:
        other = f.lr()
        n = min(eta.size, other.size)
        differs = np.flatnonzero(np.abs(eta[:n] - other[:n]) > 1e-12 * eta.max())
        out = max(out, int(differs[0]) if differs.size else n)
    return out


def mpl_after_divergence(laws: list[str]) -> None:
    """The MPL protocol's six test runs, on every point and on the points after divergence."""
    for size in sizes_present():
        runs, proto = load_reference(SHARED / "data" / "mpl" / size)
        train = [runs[n] for n in proto["train"]]
        print(f"\n### MPL protocol, {size.upper()}: mean over the six test runs, all points | after "
              "divergence\n")
        print("| law | " + " | ".join(METRICS) + " | " + " | ".join(f"{m} after" for m in METRICS) + " |")
        print("|---|" + "---:|" * (2 * len(METRICS)))
        for law in laws:
            fitted = fit([r for r, _ in train], [s for _, s in train], law=law)
            every, after = [], []
            for name in proto["test"]:
                run, sched = runs[name]
                result = evaluate(fitted, run, sched)
                every.append(result.metrics)
                keep = result.steps >= divergence(sched, [s for _, s in train])
                after.append(curve_metrics(result.observed[keep], result.predicted[keep]))
            a, b = mean_metrics(every), mean_metrics(after)
            label = f"auto ({fitted.name})" if law == "auto" else law
            print(f"| {label} | " + " | ".join(f"{a[m]:.5f}" for m in METRICS) + " | "
                  + " | ".join(f"{b[m]:.5f}" for m in METRICS) + " |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--laws", default=",".join([*LAWS, "auto"]))
    ap.add_argument("--tasks", default="", help="only the tasks whose name holds this, e.g. '2e-3' or 'wsd'")
    ap.add_argument("--no-mpl", action="store_true", help="leave out the MPL protocol after divergence")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    print(f"command: python benchmarks/{Path(__file__).name} {shlex.join(sys.argv[1:])}".rstrip())
    laws = args.laws.split(",")
    transfer(laws, args.tasks)
    if not args.no_mpl:
        mpl_after_divergence(laws)


if __name__ == "__main__":
    main()
