"""The law contract: what a law module declares, and what fitting, selection and the CLI read from it.

A law module in `lrforecast/laws/` is found by its module attributes, with no registry to edit:

    name     the law's name (`--law NAME`, the `law` field of a law file)
    PARAMS   its parameters (`Param`), each with a role; the linear ones in basis-column order
    basis    basis(curve, theta, mode, cache) -> (len(curve.steps), number of linear parameters)
    EXAMPLE  typical values of every parameter at a peak LR of 3e-4 (the conformance test in
             tests/test_laws.py fits the law to curves it generates from them)

and optionally IN_AUTO = False (a law fitted only when named: `--law auto` leaves it out),
DECAY_FOLD = (name, values) (that shape parameter chosen among the values by decayfold.py),
PRIOR_WEIGHT (the pull of the shape parameters that have a `prior` towards it),
GAIN_PRIOR with GAIN_WEIGHT (a pull of the gain coefficient towards GAIN_PRIOR * median loss, in
the law's LR unit: the peak), and FROM_VERSION_1 (parameters of a version-1 law file, which kept
raw LRs, in the law's units). A prediction is `basis(curve, theta) @ coef`: the linear coefficients
(floor, scale, gain) are solved exactly for every candidate of the shape parameters theta, which are
searched (variable projection). Fitting, selection, plan and the CLI read roles, never positions or
names.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

FLOOR = "floor"  # linear, any sign: the loss with unlimited training (L0)
SCALE = "scale"  # linear, >= 0: the power law's scale; its column falls as the LR area grows (A)
GAIN = "gain"  # linear, >= 0: the annealing gain, what LR decays take off the loss (C, B)
SHAPE = "shape"  # nonlinear, searched within bounds from a coarse grid (alpha, lam, ...)
LINEAR = (FLOOR, SCALE, GAIN)

# How a shape parameter is searched: the optimiser moves z, the law sees value(z).
TRANSFORMS = {
    "identity": (lambda z: z, lambda v: v),
    "log10": (lambda z: 10.0 ** z, lambda v: np.log10(v)),
    # a decay factor lam searched as log10 of its memory 1/(1 - lam), in steps
    "memory": (lambda z: 1.0 - 10.0 ** (-z), lambda v: -np.log10(1.0 - v)),
}


@dataclass(frozen=True)
class Param:
    """One parameter of a law. For a shape parameter: its coarse grid and bounds in search
    coordinates (z, with value = transform(z)) and, optionally, the centre of its prior there."""

    name: str
    role: str
    grid: tuple[float, ...] = ()
    bounds: tuple[float, float] = (-np.inf, np.inf)
    transform: str = "identity"
    prior: float | None = None
    fix_range: tuple[float, float] | None = None  # a user may fix it to a value in [lo, hi) (`--lam`)

    @property
    def linear(self) -> bool:
        return self.role in LINEAR

    def value(self, z: float) -> float:
        return float(TRANSFORMS[self.transform][0](z))

    def search(self, value: float) -> float:
        return float(TRANSFORMS[self.transform][1](value))


@dataclass
class Curve:
    """A schedule evaluated per step, and the steps at which the law is wanted."""

    eta: np.ndarray  # LR at every step, index = step
    steps: np.ndarray  # int steps where the loss is wanted (all < eta.size)
    warmup: int = 0
    # The LR the law's parameters are measured in: the fitted peak (Law.peak_lr). A law whose
    # parameters or prior have units of the LR works with eta / unit, so that giving every LR in
    # other units (times 10, say) changes no forecast.
    unit: float = 1.0


def linear(form: ModuleType) -> list[Param]:
    """The linear parameters, in basis-column order."""
    return [p for p in form.PARAMS if p.linear]


def shapes(form: ModuleType) -> list[Param]:
    """The shape (nonlinear) parameters."""
    return [p for p in form.PARAMS if p.role == SHAPE]


def column(form: ModuleType, role: str) -> int | None:
    """The basis column of the linear parameter with `role` (the first, if several), or None."""
    return next((i for i, p in enumerate(linear(form)) if p.role == role), None)


def named(form: ModuleType, role: str) -> str | None:
    """The name of the (first) parameter with `role`, or None."""
    return next((p.name for p in form.PARAMS if p.role == role), None)


def free_shapes(form: ModuleType, fixed: dict[str, float]) -> list[Param]:
    """The shape parameters the fit searches: all but the fixed ones."""
    return [p for p in shapes(form) if p.name not in fixed]


def search_space(form: ModuleType, fixed: dict[str, float]
                 ) -> tuple[list[np.ndarray], list[tuple[float, float]]]:
    """Coarse grid and bounds per free search coordinate."""
    free = free_shapes(form, fixed)
    return [np.asarray(p.grid, dtype=float) for p in free], [tuple(p.bounds) for p in free]


def decode(form: ModuleType, z, fixed: dict[str, float]) -> dict[str, float]:
    """Search coordinates -> the named shape parameters (fixed ones as given)."""
    it = iter(z)
    return {p.name: float(fixed[p.name]) if p.name in fixed else p.value(next(it)) for p in shapes(form)}


def prior_centre(form: ModuleType, fixed: dict[str, float]) -> np.ndarray | None:
    """The prior's centre in search coordinates of the free shapes, or None if the law has none."""
    free = free_shapes(form, fixed)
    if not any(p.prior is not None for p in free):
        return None
    return np.array([np.nan if p.prior is None else p.prior for p in free])
