"""The momentum law (Tissue, Wang & Wang 2024, "Scaling law with learning rate annealing").

    L(s) = L0 + A * S1(s)^(-alpha) - C * S2(s)

S1 is the forward area and S2 the annealing area with momentum decay lam (see areas.py).
L0, A, C are linear; alpha and lam are searched. lam is searched as log10 of the momentum's
memory 1/(1-lam) in steps, from about 3 to 10,000 steps.
"""

from __future__ import annotations

import numpy as np

from ..areas import annealing_area, forward_area
from .base import FLOOR, GAIN, SCALE, SHAPE, Curve, Param

name = "momentum"
PARAMS = (
    Param("L0", FLOOR),
    Param("A", SCALE),
    Param("C", GAIN),
    Param("alpha", SHAPE, grid=tuple(np.linspace(0.05, 1.5, 30)), bounds=(0.02, 2.0)),
    Param("lam", SHAPE, grid=tuple(np.linspace(0.75, 3.75, 13)), bounds=(0.5, 4.0), transform="memory",
          fix_range=(0.0, 1.0)),
)
EXAMPLE = {"L0": 2.5, "A": 0.6, "C": 0.9, "alpha": 0.45, "lam": 0.997}  # about a 25M model at peak 3e-4


def basis(curve: Curve, theta: dict[str, float], mode: str, cache: dict | None = None) -> np.ndarray:
    key = (id(curve), "s", theta["lam"])
    if cache is not None and key in cache:
        s1, s2 = cache[(id(curve), "s1")], cache[key]
    else:
        s1 = forward_area(curve.eta, curve.warmup, mode)[curve.steps]
        s2 = annealing_area(curve.eta, theta["lam"], curve.warmup, mode)[curve.steps]
        if cache is not None:
            cache[(id(curve), "s1")], cache[key] = s1, s2
    with np.errstate(divide="ignore"):
        power = np.where(s1 > 0, s1, np.nan) ** -theta["alpha"]
    return np.column_stack([np.ones_like(s1), power, -s2])
