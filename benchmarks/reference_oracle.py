"""A diagnostic, never a forecast: could the multi-power law meet the issue's targets at all?

Starting from the law fitted on the three train runs, its seven parameters are moved (Nelder-Mead)
to meet the target on every metric over the six *test* runs, then scored on the train runs. When
such parameters exist but fit the train runs clearly worse than the fit does, the train runs alone
cannot lead a fit there. About a minute per size.
Run: `python benchmarks/reference_oracle.py [25m 100m]`.
"""

from __future__ import annotations

import sys

import numpy as np
from reference_protocol import SHARED, machine
from scipy.optimize import minimize

from lrforecast import evaluate, fit
from lrforecast.metrics import METRICS, mean_metrics
from lrforecast.reference import load_reference

TARGETS = {"25m": (0.9988, 0.0037, 0.0046, 0.0011, 0.0040), "100m": (0.9983, 0.0038, 0.0051, 0.0013, 0.0058)}
NAMES = ("L0", "A", "alpha", "B", "beta", "gamma", "C")
LOGGED = {"A", "B", "C"}  # searched on a log scale


def scored(law, runs, names) -> dict:
    return mean_metrics([evaluate(law, *runs[n]).metrics for n in names])


def oracle(size: str) -> None:
    """Print the fitted law and the law moved to meet the targets, each on the test and train runs."""
    runs, proto = load_reference(SHARED / "data" / "mpl" / size)
    fitted = fit([runs[n][0] for n in proto["train"]], [runs[n][1] for n in proto["train"]],
                 law="multipower")
    target = np.array(TARGETS[size])

    def law_at(z):
        return fitted.with_params({n: float(np.exp(v) if n in LOGGED else v)
                                   for n, v in zip(NAMES, z, strict=True)})

    def excess(z) -> float:  # how far past the targets, in units of each target
        try:
            m = scored(law_at(z), runs, proto["test"])
        except (ValueError, FloatingPointError):
            return 1e3
        ratio = np.array([(1 - m["R2"]) / (1 - target[0])]
                         + [m[k] / t for k, t in zip(METRICS[1:], target[1:], strict=True)])
        return float(np.sum(np.maximum(0.0, ratio - 0.999)) + 1e-3 * np.sum(ratio))

    z0 = np.array([np.log(fitted.params[n]) if n in LOGGED else fitted.params[n] for n in NAMES])
    z = minimize(excess, z0, method="Nelder-Mead",
                 options={"maxfev": 1500, "xatol": 1e-6, "fatol": 1e-9, "adaptive": True}).x
    print(f"\n## {size}: targets {' / '.join(f'{t:g}' for t in target)} (R2 MAE RMSE PredE WorstE)")
    print("| parameters | on | " + " | ".join(METRICS) + " |\n|---|---|" + "---|" * len(METRICS))
    for label, law in (("fitted on the train runs", fitted), ("moved to meet the targets", law_at(z))):
        for on in ("test", "train"):
            m = scored(law, runs, proto[on])
            print(f"| {label} | {on} | " + " | ".join(f"{m[k]:.5f}" for k in METRICS) + " |")
    print("moved: " + ", ".join(f"{n}={v:.4g}" for n, v in law_at(z).params.items()))


def main(sizes: list[str]) -> None:
    print(f"machine: {machine()}")
    for size in sizes:
        oracle(size)


if __name__ == "__main__":
    main(sys.argv[1:] or ["25m"])
