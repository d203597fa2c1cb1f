"""The reference protocol of the multi-power-law paper, through the public API.

Fit one law on the three train runs, predict the six test runs, and print per-run and mean
R2, MAE, RMSE, PredE, WorstE beside the published rows, with fit and predict wall time and the
machine. The ceiling row fits the law on all nine runs, the six test runs included: not a forecast,
but how close the law and its objective can come to those curves at all.
Run: `make bench` (or `python benchmarks/reference_protocol.py [--laws momentum,...]`).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import sys
import time
from pathlib import Path

from lrforecast import evaluate, fit
from lrforecast.laws import LAWS
from lrforecast.metrics import METRICS, mean_metrics
from lrforecast.reference import load_reference

SHARED = Path(os.environ.get("LRFORECAST_SHARED", Path(__file__).resolve().parents[2] / "shared"))
PUBLISHED = {  # Table 1 of Luo et al. (2025), and the authors' repository's updated MPL row
    "25m": {"momentum law (paper)": (0.9904, 0.0047, 0.0060, 0.0014, 0.0047),
            "multi-power law (paper)": (0.9975, 0.0039, 0.0046, 0.0012, 0.0040),
            "multi-power law (repo)": (0.9988, 0.00376, 0.00465, 0.00110, 0.00409)},
    "100m": {"momentum law (paper)": (0.9959, 0.0068, 0.0095, 0.0022, 0.0094),
             "multi-power law (paper)": (0.9982, 0.0038, 0.0051, 0.0013, 0.0058),
             "multi-power law (repo)": (0.9983, 0.00435, 0.00592, 0.00142, 0.00583)},
    "400m": {"momentum law (paper)": (0.9962, 0.0071, 0.0094, 0.0025, 0.0100),
             "multi-power law (paper)": (0.9971, 0.0053, 0.0070, 0.0019, 0.0070),
             "multi-power law (repo)": (0.9978, 0.00484, 0.00730, 0.00168, 0.00995)},
}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def run_protocol(size: str, law: str, ceiling: bool = False) -> dict:
    """Fit on the train runs (or, for the ceiling, on all nine) and score the six test runs."""
    runs, proto = load_reference(SHARED / "data" / "mpl" / size)
    train = [runs[n] for n in (list(runs) if ceiling else proto["train"])]
    t0 = time.perf_counter()
    fitted = fit([r for r, _ in train], [s for _, s in train], law=law)
    if law == "auto":
        law = f"auto ({fitted.name})"
    t1 = time.perf_counter()
    per_run = {n: evaluate(fitted, *runs[n]).metrics for n in proto["test"]}
    t2 = time.perf_counter()
    return {"name": law, "law": fitted, "per_run": per_run, "mean": mean_metrics(list(per_run.values())),
            "fit_s": t1 - t0, "predict_s": t2 - t1}


def sizes_present() -> list[str]:
    """The model-size folders of shared/data/mpl (25m, 100m, ...), smallest first."""
    folders = [d.name for d in (SHARED / "data" / "mpl").iterdir() if d.is_dir() and any(d.glob("*.csv"))]

    def params(name: str) -> float:  # "25m" -> 25, "1b" -> 1000; other names sort last
        m = re.fullmatch(r"(\d+(?:\.\d+)?)([mb])", name.lower())
        return float(m[1]) * (1000 if m[2] == "b" else 1) if m else float("inf")

    return sorted(folders, key=lambda n: (params(n), n))


def row(name: str, values, extra: str = "") -> str:
    cells = " | ".join(f"{v:.5f}" for v in values)
    return f"| {name} | {cells} |{extra}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--laws", default=",".join([*LAWS, "auto"]))
    ap.add_argument("--sizes", default=None, help="comma-separated, e.g. 25m,100m "
                    "(default: every size folder in shared/data/mpl)")
    ap.add_argument("--ceiling", default="multipower",
                    help="laws also fitted on all nine runs, test runs included ('' for none)")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    print(f"command: python benchmarks/{Path(__file__).name} {shlex.join(sys.argv[1:])}".rstrip())
    for size in args.sizes.split(",") if args.sizes else sizes_present():
        print(f"\n## {size.upper()}: mean over the six test runs\n")
        print("| law | " + " | ".join(METRICS) + " | fit s | predict s |")
        print("|---|" + "---|" * (len(METRICS) + 2))
        results = {law: run_protocol(size, law) for law in args.laws.split(",")}
        for r in results.values():
            print(row(f"lrforecast {r['name']}", [r["mean"][m] for m in METRICS],
                      f" {r['fit_s']:.2f} | {r['predict_s']:.2f} |"))
        for name, vals in PUBLISHED.get(size.lower(), {}).items():
            print(row(name, vals, " – | – |"))
        for law in filter(None, args.ceiling.split(",")):
            r = run_protocol(size, law, ceiling=True)
            print(row(f"ceiling: {law} fitted on all nine runs", [r["mean"][m] for m in METRICS],
                      f" {r['fit_s']:.2f} | {r['predict_s']:.2f} |"))
        for r in results.values():
            print(f"\n{size.upper()} {r['name']}: per test run; params "
                  + ", ".join(f"{k}={v:.5g}" for k, v in r["law"].params.items()))
            print("| run | " + " | ".join(METRICS) + " |")
            print("|---|" + "---|" * len(METRICS))
            for name, m in r["per_run"].items():
                print(row(name, [m[k] for k in METRICS]))


if __name__ == "__main__":
    main()
