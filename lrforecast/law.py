"""Law: a fitted law's parameters and what it was fitted on; predicts the loss of any schedule."""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from . import __version__
from .atomic import replacing
from .errors import InputError
from .laws import get_form
from .laws.base import FLOOR, Curve, linear, named, shapes
from .readers.detect import TOOL

SCHEMA_VERSION = 1
@dataclass
class Law:
    """A fitted law. `params` holds every named parameter, linear and nonlinear."""

    name: str
    params: dict[str, float]
    warmup_mode: str
    peak_lr: float
    warmup: int
    horizon: int  # the longest fitted step: predictions far beyond it are extrapolations
    total: int  # the longest fitted schedule's length: the default number of steps to forecast
    options: dict = field(default_factory=dict)
    fit_window: dict = field(default_factory=dict)
    runs: list[dict] = field(default_factory=list)  # name, source, schedule, points, metrics
    metrics: dict = field(default_factory=dict)  # mean over fitted runs
    notes: list[str] = field(default_factory=list)
    refits: list[dict] = field(default_factory=list)  # params of the law refitted on parts of the data

    @property
    def form(self):
        return get_form(self.name)

    @property
    def floor_name(self) -> str | None:
        """The name of the law's floor parameter (L0): the loss it tends to with unlimited training."""
        return named(self.form, FLOOR)

    @property
    def floor(self) -> float | None:
        """The loss the law tends to with unlimited training (its floor parameter, L0)."""
        return None if self.floor_name is None else float(self.params[self.floor_name])

    def predict_lr(self, eta: np.ndarray, steps: np.ndarray, warmup: int = 0) -> np.ndarray:
        """Predicted loss at `steps` of the per-step LR `eta` (NaN where the law is undefined)."""
        form = self.form
        theta = {p.name: self.params[p.name] for p in shapes(form)}
        coef = np.array([self.params[p.name] for p in linear(form)])
        X = form.basis(Curve(eta, np.asarray(steps, dtype=np.int64), warmup), theta, self.warmup_mode)
        return X @ coef

    def with_params(self, params: dict[str, float]) -> Law:
        """The same law with other parameter values (a refit)."""
        return replace(self, params=dict(params), refits=[])

    def to_dict(self) -> dict:
        d = asdict(self)
        d = {"schema_version": SCHEMA_VERSION, "tool": TOOL, "tool_version": __version__,
             "law": d.pop("name"), **d}
        return d

    def save(self, path: str | Path) -> None:
        with replacing(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_dict(cls, d: dict, where: str = "law") -> Law:
        if not isinstance(d, dict) or d.get("tool") != TOOL:
            raise InputError(f"{where} is not an lrforecast law file; if it is a training log, fit it "
                             f"first: lrforecast fit {shlex.quote(where)} -o law.json")
        if d.get("schema_version") != SCHEMA_VERSION:
            raise InputError(
                f"{where} has schema_version {d.get('schema_version')}, this lrforecast reads "
                f"{SCHEMA_VERSION}; refit it with this version"
            )
        try:
            form = get_form(d["law"])
            params = {p.name: float(d["params"][p.name]) for p in form.PARAMS}
            return cls(name=d["law"], params=params, warmup_mode=d["warmup_mode"],
                       peak_lr=float(d["peak_lr"]), warmup=int(d["warmup"]), horizon=int(d["horizon"]),
                       total=int(d["total"]),
                       options=d.get("options", {}), fit_window=d.get("fit_window", {}),
                       runs=d.get("runs", []), metrics=d.get("metrics", {}), notes=d.get("notes", []),
                       refits=[{k: float(r[k]) for k in params} for r in d.get("refits", [])])
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"{where} is damaged or incomplete ({e}); refit it with 'lrforecast fit'"
                             ) from None

    @classmethod
    def load(cls, path: str | Path) -> Law:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"law file '{path}' not found")
        try:
            d = json.loads(p.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise InputError(f"{path} is not a law file (the JSON 'lrforecast fit -o' writes); if it is a "
                             "training log, fit it first: "
                             f"lrforecast fit {shlex.quote(str(path))} -o law.json") from None
        return cls.from_dict(d, str(path))
