"""What every law provides: a basis whose columns are linear in the law's linear parameters.

A law's prediction is `basis(curve, theta) @ coef`: L0, A, C (or B) are the linear coefficients
and theta the nonlinear ones. Fitting searches theta and solves coef exactly (variable projection).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass
class Curve:
    """A schedule evaluated per step, and the steps at which the law is wanted."""

    eta: np.ndarray  # LR at every step, index = step
    steps: np.ndarray  # int steps where the loss is wanted (all < eta.size)
    warmup: int = 0


class LawForm(Protocol):
    """The interface of one law. Search coordinates `z` are what the optimiser moves.

    Optional: PRIOR (a point in search coordinates) and PRIOR_WEIGHT; the fit then adds
    PRIOR_WEIGHT * |z - PRIOR|^2 to its objective. GAIN_PRIOR and GAIN_WEIGHT: a pull of the
    annealing coefficient (the last linear one) towards GAIN_PRIOR * median loss / peak LR.
    """

    name: str
    linear: tuple[str, ...]  # coefficient names in basis-column order
    nonlinear: tuple[str, ...]  # nonlinear parameter names (decoded)

    def search_space(self, fixed: dict) -> tuple[list[np.ndarray], list[tuple[float, float]]]:
        """Coarse grid and bounds per free search coordinate."""

    def decode(self, z: np.ndarray, fixed: dict) -> dict[str, float]:
        """Search coordinates -> named nonlinear parameters."""

    def basis(self, curve: Curve, theta: dict[str, float], mode: str, cache: dict | None = None
              ) -> np.ndarray:
        """(len(curve.steps), len(linear)) matrix; prediction = basis @ coef."""
