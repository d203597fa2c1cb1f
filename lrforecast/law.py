"""Law: a fitted law's parameters and what it was fitted on; predicts the loss of any schedule.

A Law is frozen: fitting builds it once, cross-validation and auto's choice give a new one with
`dataclasses.replace`. Its file is JSON, `schema_version` 2; files of version 1 are read too.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType, ModuleType

import numpy as np

from . import __version__
from .atomic import replacing
from .errors import InputError
from .laws import get_form
from .laws.base import FLOOR, Curve, linear, named, shapes
from .readers.detect import TOOL

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class FitConfig:
    """How a law was fitted. Each option has one name: the keyword of `fit` and `fit_law`, the
    command-line flag (`--warmup-mode`, `--lam`, `--from-step`, `--robust/--squares`, `--prior`,
    `--gain-prior`) and the key in the law file."""

    warmup_mode: str = "real"
    lam: float | None = None  # the momentum decay, when fixed instead of fitted
    from_step: int | None = None  # the first step fitted, when given instead of the default
    robust: bool = True  # Huber loss (delta 1e-3) of the relative residuals, else their squares
    prior: float = 0.0  # weight of the pull of the shape parameters towards the law's prior
    gain_prior: float = 0.0  # weight of the pull of the gain towards the law's GAIN_PRIOR

    @property
    def objective(self) -> str:
        return "huber-relative" if self.robust else "least-squares-relative"


@dataclass(frozen=True)
class FitWindow:
    """The fitted steps, and how far the fitted runs' LR falls below its peak within them."""

    from_step: int
    to_step: int
    lr_decay: float


@dataclass(frozen=True)
class RunFit:
    """How the law fits one of the runs it was fitted on."""

    name: str
    source: str
    schedule: str
    points: int
    metrics: dict[str, float]
    noise: float  # the log's own point-to-point scatter (metrics.noise_level)


@dataclass(frozen=True)
class HeldOut:
    """The law's error on what it was not fitted on (its cross-validation): the mean TrendE and
    PredE, the largest error at a held-out run's end (EndE), how it was measured, and whether any
    fold was fitted on an LR decay (if none was, it says nothing of how the law forecasts one)."""

    TrendE: float
    PredE: float
    EndE: float | None
    how: str
    decay_seen: bool = True


@dataclass(frozen=True)
class Selection:
    """How law auto chose: the chosen law, its score and rule, each law's cross-validation, and the
    laws that failed to fit (with why)."""

    chosen: str
    score: str
    rule: str
    cv: dict
    failed: dict


@dataclass(frozen=True)
class Law:
    """A fitted law. `params` holds every named parameter, linear and shape."""

    name: str
    params: MappingProxyType
    config: FitConfig
    peak_lr: float
    warmup: int
    horizon: int  # the longest fitted step: predictions far beyond it are extrapolations
    total: int  # the longest fitted schedule's length: the default number of steps to forecast
    fit_window: FitWindow
    runs: tuple[RunFit, ...] = ()
    metrics: dict = field(default_factory=dict)  # mean over fitted runs
    notes: tuple[str, ...] = ()
    refits: tuple[MappingProxyType, ...] = ()  # params of the law refitted on parts of the data
    held_out: HeldOut | None = None
    selection: Selection | None = None
    doubts: tuple[str, ...] = ()  # what the fit itself found wrong (a floor below zero, a rising loss)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "refits", tuple(MappingProxyType(dict(p)) for p in self.refits))
        object.__setattr__(self, "runs", tuple(self.runs))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "doubts", tuple(self.doubts))

    def __reduce__(self):
        """Pickled with plain dicts, which __post_init__ wraps again (a mappingproxy cannot be
        pickled): fits run in worker processes (parallel.py) send their laws back this way."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["params"], values["refits"] = dict(self.params), tuple(dict(p) for p in self.refits)
        return self.__class__, tuple(values.values())

    @classmethod
    def given(cls, name: str, params, *, peak_lr: float, warmup: int, total: int,
              warmup_mode: str = "real") -> Law:
        """A law with given parameters, not fitted (published ones, or a known truth to test a fit
        against): fitted on nothing, with its forecasts' default length `total`."""
        return cls(name, params, FitConfig(warmup_mode=warmup_mode), peak_lr, warmup, total - 1, total,
                   FitWindow(0, total - 1, 1.0))

    @property
    def form(self) -> ModuleType:
        return get_form(self.name)

    @property
    def warmup_mode(self) -> str:
        return self.config.warmup_mode

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
        X = form.basis(Curve(eta, np.asarray(steps, dtype=np.int64), warmup, self.peak_lr), theta,
                       self.warmup_mode)
        return X @ coef

    def with_params(self, params) -> Law:
        """The same law with other parameter values (a refit)."""
        return replace(self, params=params, refits=())

    def noted(self, *notes: str) -> Law:
        """The same law with more notes."""
        return replace(self, notes=(*self.notes, *notes))

    def to_dict(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, "tool": TOOL, "tool_version": __version__,
                "law": self.name, "params": dict(self.params), "config": asdict(self.config),
                "peak_lr": self.peak_lr, "warmup": self.warmup, "horizon": self.horizon,
                "total": self.total, "fit_window": asdict(self.fit_window),
                "runs": [asdict(r) for r in self.runs], "metrics": self.metrics, "notes": list(self.notes),
                "refits": [dict(p) for p in self.refits],
                "held_out": None if self.held_out is None else asdict(self.held_out),
                "selection": None if self.selection is None else asdict(self.selection),
                "doubts": list(self.doubts)}

    def save(self, path: str | Path) -> None:
        with replacing(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_dict(cls, d: dict, where: str = "law") -> Law:
        if not isinstance(d, dict) or d.get("tool") != TOOL:
            raise InputError(f"{where} is not an lrforecast law file; if it is a training log, fit it "
                             f"first: lrforecast fit {shlex.quote(where)} -o law.json")
        version = d.get("schema_version")
        if version not in (1, SCHEMA_VERSION):
            raise InputError(f"{where} has schema_version {version}, this lrforecast reads 1 and "
                             f"{SCHEMA_VERSION}; refit it with this version")
        try:
            if version == 1:
                d = _from_version_1(d)
            form = get_form(d["law"])
            params = {p.name: float(d["params"][p.name]) for p in form.PARAMS}
            refits = [{k: float(r[k]) for k in params} for r in d.get("refits", [])]
            convert = getattr(form, "FROM_VERSION_1", None) if version == 1 else None
            if convert is not None:
                params = convert(params, float(d["peak_lr"]))
                refits = [convert(r, float(d["peak_lr"])) for r in refits]
            held = d.get("held_out")
            sel = d.get("selection")
            law = cls(
                name=d["law"], params=params, config=_known(FitConfig, d.get("config", {})),
                peak_lr=float(d["peak_lr"]), warmup=int(d["warmup"]), horizon=int(d["horizon"]),
                total=int(d["total"]), fit_window=_known(FitWindow, d["fit_window"]),
                runs=tuple(_known(RunFit, r) for r in d.get("runs", [])), metrics=d.get("metrics", {}),
                notes=tuple(d.get("notes", [])),
                refits=tuple(refits),
                held_out=None if held is None else _known(HeldOut, held),
                selection=None if sel is None else _known(Selection, sel),
                doubts=tuple(str(x) for x in d.get("doubts", [])))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise InputError(f"{where} is damaged or incomplete ({e}); refit it with 'lrforecast fit'"
                             ) from None
        _validate(law, where)
        return law

    @classmethod
    def load(cls, path: str | Path) -> Law:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"law file '{path}' not found")
        try:
            d = json.loads(p.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise InputError(f"{path} is not a law file (the JSON 'lrforecast fit -o' writes); if it is a "
                             "training log, fit it first: "
                             f"lrforecast fit {shlex.quote(str(path))} -o law.json") from None
        return cls.from_dict(d, str(path))


def _validate(law: Law, where: str) -> None:
    """Refuse a law file whose numbers no fit gives: non-finite, a shape parameter outside the
    law's search range, a negative scale or gain, a peak LR or length that is not one."""
    def bad(what: str) -> InputError:
        return InputError(f"{where}: {what}; the file is damaged or was edited by hand, refit it with "
                          "'lrforecast fit'")

    for params in (law.params, *law.refits):
        for p in law.form.PARAMS:
            v = params[p.name]
            if not np.isfinite(v) or abs(v) > 1e12:
                raise bad(f"parameter {p.name} is {v}")
            if p.linear and p.role != FLOOR and v < 0:
                raise bad(f"parameter {p.name} = {v:g} is negative, which the law does not allow")
            if not p.linear:
                lo, hi = p.bounds
                z = p.search(v) if v > 0 or p.transform == "identity" else np.nan
                span = 1e-6 * (hi - lo)
                if not lo - span <= z <= hi + span:
                    raise bad(f"parameter {p.name} = {v:g} lies outside the law's range")
    if not (np.isfinite(law.peak_lr) and law.peak_lr > 0):
        raise bad(f"peak_lr is {law.peak_lr}")
    if law.warmup < 0 or law.total < 1 or law.horizon < 0:
        raise bad(f"warmup {law.warmup}, total {law.total}, horizon {law.horizon} are not steps")
    held = law.held_out
    if held is not None and not all(x is None or (np.isfinite(x) and x >= 0)
                                    for x in (held.TrendE, held.PredE, held.EndE)):
        raise bad("its held-out error is not a number >= 0")


def _known(kind: type, d: dict):
    """A record of `kind` from the keys of `d` it knows (a newer file may hold more)."""
    names = {f.name for f in fields(kind)}
    return kind(**{k: v for k, v in d.items() if k in names})


def _from_version_1(d: dict) -> dict:
    """A version-1 law file in version 2's layout: its `options` split into the fit configuration,
    the held-out error and auto's selection, and `warmup_mode` moved into the configuration."""
    options = d.get("options", {})
    held = options.get("held_out")
    if held is not None and "TrendE" not in held:  # files before TrendE kept only PredE
        held = {**held, "TrendE": held.get("PredE")}
    if held is not None and "PredE" not in held:
        held = {**held, "PredE": held["TrendE"]}
    if held is not None:
        held = {"EndE": None, "how": "cross-validated", **held}
    window = {"from_step": 0, "to_step": d.get("horizon", 0), "lr_decay": 1.0, **d.get("fit_window", {})}
    return {**d, "config": {"warmup_mode": d["warmup_mode"], "lam": options.get("lambda_fixed"),
                            "robust": options.get("robust", True), "prior": options.get("prior") or 0.0,
                            "gain_prior": options.get("gain_prior") or 0.0},
            "fit_window": window, "held_out": held, "selection": options.get("selection")}
