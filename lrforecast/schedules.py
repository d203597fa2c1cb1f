"""Learning-rate schedules: the spec grammar `NAME(:KEY=VALUE)*` -> Schedule -> per-step LR array.

The array is indexed by step: `lr[t]` is the LR of step t, for t = 0 .. total-1. Linear warmup
goes from 0 at step 0 to `peak` at step `warmup` (Hugging Face's t/W convention).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError

SHAPES = {"linear": "linear", "cosine": "cosine", "exp": "exp", "1-sqrt": "1-sqrt",
          "sqrt": "1-sqrt", "minus_sqrt": "1-sqrt"}
# the names Hugging Face (lr_scheduler_type), Megatron (--lr-decay-style) and PyTorch use
ALIASES = {"warmup_stable_decay": "wsd", "constant_with_warmup": "constant", "cosine_with_min_lr": "cosine",
           "cosine_warmup_with_min_lr": "cosine", "inverse-square-root": "inverse_sqrt",
           "inverse_square_root": "inverse_sqrt", "multistep": "step", "cosineannealinglr": "cosine",
           "cosine_with_restarts": "restarts", "polynomiallr": "polynomial", "onecyclelr": "onecycle"}
# where a library's schedule of that name ends elsewhere than at our default 10% of peak
ALIAS_DEFAULTS = {"cosineannealinglr": {"min": 0.0}, "restarts": {"min": 0.0},
                  "polynomial": {"min": 1e-7}}  # HF's lr_end
KEY_ALIASES = {"lr": "peak", "max_lr": "peak", "min_lr": "min", "min_lr_rate": "min_ratio",
               "min_lr_ratio": "min_ratio", "warmup_steps": "warmup", "num_warmup_steps": "warmup",
               "total_steps": "total", "num_training_steps": "total", "decay_type": "shape",
               "t_max": "total", "eta_min": "min", "num_cycles": "cycles", "lr_end": "min"}
COMMON_KEYS = {"peak", "min", "min_ratio", "warmup", "warmup_ratio", "total"}
INTEGER_KEYS = ("total", "warmup", "decay_start", "decay_steps", "timescale")  # in steps
DECAY_KEYS = ("decay", "decay_start", "decay_steps")
KEYS = {
    "constant": COMMON_KEYS,
    "cosine": COMMON_KEYS,
    "linear": COMMON_KEYS,
    "polynomial": COMMON_KEYS | {"power"},
    "restarts": COMMON_KEYS | {"cycles"},
    "onecycle": {"peak", "total", "pct_start", "div_factor", "final_div_factor"},
    "wsd": COMMON_KEYS | {"decay_start", "decay", "decay_steps", "shape"},
    "step": COMMON_KEYS | {"at", "to"},
    "inverse_sqrt": COMMON_KEYS | {"timescale"},
    "file": {"total"},
    "log": {"total"},
}
BUILTIN = tuple(KEYS)
DEFAULT_MIN_RATIO = 0.1  # decaying schedules end at 10% of peak unless min/min_ratio says otherwise
DEFAULT_WSD_DECAY = 0.2
DEFAULT_WSD_SHAPE = "1-sqrt"
# The LR is an array of one value per step, and a forecast keeps a few such arrays: ten million
# steps take about 1.2 GB. Longer is refused rather than left to exhaust memory (3e9 steps, a typo,
# would need hundreds of GB); public LLM pretraining runs take up to about a million steps.
MAX_STEPS = 10_000_000
MAX_FACTOR = 10  # plan searches lengths up to 10x the longest fitted run by default


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule. `lr()` builds the per-step LR; `spec` is the canonical text."""

    name: str
    params: dict = field(default_factory=dict)
    label: str = ""  # how the user named it (a preset name or the spec they typed)
    values: np.ndarray | None = field(default=None, compare=False, repr=False)  # file: / log
    origin: str = field(default="", compare=False)  # how it was found, when not given (log)

    @classmethod
    def of_lr(cls, eta, label: str) -> Schedule:
        """A schedule given as its LR at every step (index = step), known as `label`."""
        return cls("file", {"path": label}, label, np.asarray(eta, dtype=np.float64))

    @property
    def spec(self) -> str:
        parts = [self.name]
        for k, v in self.params.items():
            if k == "path":
                parts[0] = f"file:{v}"
                continue
            parts.append(f"{k}={'/'.join(fmt_value(x) for x in v) if isinstance(v, list) else fmt_value(v)}")
        return ":".join(parts)

    @property
    def total(self) -> int | None:
        if self.values is not None:
            return int(self.params.get("total", self.values.size))
        t = self.params.get("total")
        return None if t is None else int(t)

    @property
    def peak(self) -> float:
        if self.values is not None:
            return float(np.max(self.values))
        return float(self.params["peak"])

    @property
    def warmup(self) -> int:
        if self.values is not None:  # first step that reaches 99.9% of the peak
            return int(np.argmax(self.values >= 0.999 * self.values.max()))
        if self.name == "onecycle":  # its rise ends at pct_start * total - 1
            return max(int(np.ceil(self.params.get("pct_start", 0.3) * (self.total or 0))) - 1, 0)
        return int(self.params.get("warmup", 0))

    def lr(self, total: int | None = None) -> np.ndarray:
        """Per-step LR for steps 0 .. total-1 (total defaults to the schedule's own)."""
        total = self.total if total is None else int(total)
        if total is None:
            raise InputError(f"schedule '{self.label or self.spec}' needs a length: "
                             "add :total=N or --steps N")
        if total < 1:
            raise InputError(f"schedule '{self.label or self.spec}': total must be >= 1")
        if total > MAX_STEPS:
            raise InputError(too_long(self.label or self.spec, total))
        if self.values is not None:
            v = self.values
            if total > v.size:
                raise InputError(
                    f"schedule '{self.label or self.spec}' gives the LR for {v.size} steps, "
                    f"{total} asked; shorten --steps"
                )
            return v[:total].copy()
        return _build(self.name, self.params, total)

    def lr_for(self, run) -> np.ndarray:
        """Per-step LR over the schedule's length, or up to the run's last step if it has none. A run
        whose last point is at step = total, the loss after the last update (nanoGPT, modded-nanogpt
        and llm.c log their final validation loss there), keeps it: the LR there is the last step's."""
        total = self.total if self.total is not None else int(run.steps[-1]) + 1
        eta = self.lr(total)
        if run.steps.size and int(run.steps[-1]) == total:
            eta = np.r_[eta, eta[-1]]
        return eta


def fmt_value(x) -> str:
    """A value as a spec writes it (3e-4, not 0.00030000000000000003)."""
    if isinstance(x, float):
        return f"{x:g}"
    return str(x)


def too_long(label: str, total: int) -> str:
    """The message refusing a schedule longer than MAX_STEPS."""
    return (f"schedule '{label}': {total:,} steps is more than lrforecast forecasts ({MAX_STEPS:,}; "
            "the LR is kept per step); check the length, or the step column if it came from a log")


def _build(name: str, p: dict, total: int) -> np.ndarray:
    peak = float(p["peak"])
    lo = float(p["min"]) if "min" in p else peak * float(p.get("min_ratio", DEFAULT_MIN_RATIO))
    warmup = int(p.get("warmup", 0))
    t = np.arange(total, dtype=np.float64)
    lr = np.full(total, peak)
    span = max(total - warmup, 1)
    after = t >= warmup
    if name == "cosine":
        q = (t - warmup) / span
        lr = np.where(after, lo + (peak - lo) * 0.5 * (1.0 + np.cos(np.pi * q)), lr)
    elif name == "linear":
        q = (t - warmup) / span
        lr = np.where(after, lo + (peak - lo) * (1.0 - q), lr)
    elif name == "wsd":
        start = _decay_start(p, total)
        q = np.clip((t - start) / max(total - start, 1), 0.0, 1.0)
        shape = p.get("shape", DEFAULT_WSD_SHAPE)
        if shape == "exp":
            decayed = peak * (lo / peak) ** q
        else:
            f = {"linear": 1.0 - q, "cosine": 0.5 * (1.0 + np.cos(np.pi * q)),
                 "1-sqrt": 1.0 - np.sqrt(q)}[shape]
            decayed = lo + (peak - lo) * f
        lr = np.where(t >= start, decayed, lr)
    elif name == "step":
        for at, to in zip(p["at"], p["to"], strict=True):
            lr = np.where(t >= at, float(to), lr)
    elif name == "inverse_sqrt":
        ts = float(p.get("timescale", warmup or 10_000))
        lr = np.where(after, peak / np.sqrt((t - warmup + ts) / ts), lr)
    elif name == "polynomial":  # Hugging Face's polynomial decay, torch's PolynomialLR
        q = np.clip((t - warmup) / span, 0.0, 1.0)
        lr = np.where(after, lo + (peak - lo) * (1.0 - q) ** float(p.get("power", 1.0)), lr)
    elif name == "restarts":  # Hugging Face's cosine_with_restarts: hard restarts to peak
        q = (t - warmup) / span
        cycle = (float(p.get("cycles", 1)) * q) % 1.0
        lr = np.where(after, lo + (peak - lo) * 0.5 * (1.0 + np.cos(np.pi * cycle)), lr)
    elif name == "onecycle":
        return _one_cycle(p, total)
    if warmup > 0:
        lr[:warmup] = peak * t[: min(warmup, total)] / warmup
    return lr


def _one_cycle(p: dict, total: int) -> np.ndarray:
    """PyTorch's OneCycleLR (cosine annealing, two phases): from peak/div_factor up to peak at
    pct_start * total - 1, then down to that start over final_div_factor at total - 1."""
    peak = float(p["peak"])
    start = peak / float(p.get("div_factor", 25.0))
    end = start / float(p.get("final_div_factor", 1e4))
    top = float(p.get("pct_start", 0.3)) * total - 1
    t = np.arange(total, dtype=np.float64)

    def anneal(a: float, b: float, frac: np.ndarray) -> np.ndarray:
        return b + (a - b) / 2.0 * (1.0 + np.cos(np.pi * frac))

    rise = anneal(start, peak, np.clip(t / max(top, 1e-12), 0.0, 1.0))
    fall = anneal(peak, end, np.clip((t - top) / max(total - 1 - top, 1e-12), 0.0, 1.0))
    return np.where(t <= top, rise, fall)


def _decay_start(p: dict, total: int) -> int:
    if "decay_start" in p:
        return int(p["decay_start"])
    if "decay_steps" in p:  # a cooldown of fixed length, whatever the run's
        return max(total - int(p["decay_steps"]), int(p.get("warmup", 0)))
    return int(round(total * (1.0 - float(p.get("decay", DEFAULT_WSD_DECAY)))))


# --- parsing -------------------------------------------------------------------------------------


def parse_number(text: str, key: str, spec: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise InputError(f"schedule '{spec}': {key}={text} is not a number") from None
    if not math.isfinite(x):
        raise InputError(f"schedule '{spec}': {key}={text} must be finite")
    return x


def _value(key: str, text: str, spec: str):
    if key == "shape":
        if text not in SHAPES:
            raise InputError(f"schedule '{spec}': shape={text} is unknown; use one of "
                             f"linear, cosine, exp, 1-sqrt")
        return SHAPES[text]
    if key in ("at", "to"):
        return [parse_number(x, key, spec) for x in text.split("/") if x != ""]
    x = parse_number(text, key, spec)
    if key in INTEGER_KEYS:
        if x != round(x) or x < 0:
            raise InputError(f"schedule '{spec}': {key}={text} must be a whole number >= 0")
        return int(round(x))
    return x


def split_specs(text: str) -> list[str]:
    """Split `a,b:k=v,c` into specs; commas separate schedules."""
    specs = [s.strip() for s in text.split(",") if s.strip()]
    if not specs:
        raise InputError("no schedule given: name one, e.g. --schedules cosine,wsd")
    return specs


def canonical_key(text: str) -> str:
    """A key as the grammar knows it (`min_lr` is `min`)."""
    return KEY_ALIASES.get(text.strip().lower(), text.strip().lower())


def parse_schedule(spec: str, defaults: dict | None = None) -> Schedule:
    """Parse one spec, filling peak, warmup, min and total from `defaults` where the spec is silent.

    Presets from `lrforecast schedules` may be used as names; keys after them override the preset.
    """
    spec = spec.strip()
    if not spec:
        raise InputError("empty schedule spec; name one, e.g. cosine:total=24000")
    head, _, rest = spec.partition(":")
    alias = head.lower()
    head = ALIASES.get(alias, alias)
    label = spec
    if head == "file":
        path, _, rest = rest.partition(":") if not Path(rest).exists() else (rest, "", "")
        return _parse_keys("file", {"path": path}, rest, spec, label, defaults)
    if head not in KEYS:
        presets = load_presets()
        if head in presets:
            base = presets[head]["spec"]
            name, _, base_rest = base.partition(":")
            merged = ":".join(x for x in (base_rest, rest) if x)
            return _parse_keys(ALIASES.get(name, name), {}, merged, spec, label, defaults)
        known = ", ".join(list(BUILTIN) + sorted(set(presets) - set(BUILTIN)))
        raise InputError(f"unknown schedule '{head}' in '{spec}'; known: {known}")
    return _parse_keys(head, {}, rest, spec, label, defaults, alias)


def _parse_keys(name: str, params: dict, rest: str, spec: str, label: str,
                defaults: dict | None, alias: str = "") -> Schedule:
    for token in filter(None, rest.split(":")):
        key, eq, text = token.partition("=")
        key = canonical_key(key)
        if not eq or not text:
            raise InputError(f"schedule '{spec}': '{token}' is not KEY=VALUE")
        if key not in KEYS[name]:
            raise InputError(
                f"schedule '{spec}': unknown key '{key}' for {name}; known: {', '.join(sorted(KEYS[name]))}"
            )
        if ".." in text:
            raise InputError(f"schedule '{spec}': {key}={text.strip()} sweeps values (A..B), which compare "
                             "and plan take; give one value here")
        if key in DECAY_KEYS:  # where the decay starts: the last given counts (a preset's, then yours)
            for other in DECAY_KEYS:
                params.pop(other, None)
        params[key] = _value(key, text.strip(), spec)
    for key, val in (defaults or {}).items() if name not in ("file", "log") else ():
        if val is not None and key in KEYS[name] and key not in params:
            if key == "min" and "min_ratio" in params:
                continue
            if key == "warmup" and "warmup_ratio" in params:
                continue
            params[key] = val
    if name in ("file", "log"):
        return Schedule(name, params, label)
    if "min" not in params and "min_ratio" not in params:
        params.update(ALIAS_DEFAULTS.get(alias, ALIAS_DEFAULTS.get(name, {})))
    if "warmup_ratio" in params:  # Hugging Face's: ceil(ratio * total) steps
        ratio = params.pop("warmup_ratio")
        if not 0 <= ratio < 1 or params.get("total") is None:
            raise InputError(f"schedule '{spec}': warmup_ratio needs a fraction in [0, 1) and a total "
                             "(add :total=N or --steps N)")
        params["warmup"] = int(np.ceil(ratio * params["total"]))

    _check(name, params, spec)
    return Schedule(name, params, label)


def _check(name: str, p: dict, spec: str) -> None:
    if "peak" not in p:
        raise InputError(f"schedule '{spec}' needs a peak LR: add :peak=3e-4 or --peak-lr 3e-4")
    peak = p["peak"]
    if not peak > 0 or not np.isfinite(peak):  # also refuses a NaN from --peak-lr
        raise InputError(f"schedule '{spec}': peak must be a number > 0 (got {peak:g})")
    for key in ("min", "min_ratio"):
        if key in p and not p[key] >= 0:
            raise InputError(f"schedule '{spec}': {key} must be a number >= 0 (a negative LR has no "
                             "meaning)")
    lo = p.get("min", peak * p.get("min_ratio", DEFAULT_MIN_RATIO))
    if lo > peak:
        raise InputError(f"schedule '{spec}': min ({lo:g}) is above peak ({peak:g})")
    total, warmup = p.get("total"), p.get("warmup", 0)
    if warmup < 0:
        raise InputError(f"schedule '{spec}': warmup must be a whole number >= 0 (got {warmup})")
    if total is not None and total < 1:
        raise InputError(f"schedule '{spec}': total must be >= 1 (got {total})")
    if total is not None and total > MAX_STEPS:
        raise InputError(too_long(spec, total))
    if total is not None and warmup >= total:
        raise InputError(f"schedule '{spec}': warmup ({warmup}) must be shorter than total ({total})")
    if name == "wsd":
        if "decay" in p and not 0 < p["decay"] <= 1:
            raise InputError(f"schedule '{spec}': decay is a fraction of total in (0, 1]")
        if p.get("shape") == "exp" and lo <= 0:
            raise InputError(f"schedule '{spec}': shape=exp needs min > 0 (geometric decay)")
        if total is not None and "decay_start" in p and not warmup <= p["decay_start"] <= total:
            raise InputError(f"schedule '{spec}': decay_start must lie between warmup and total")
        if "decay_steps" in p and not 0 < p["decay_steps"] <= (total or np.inf) - warmup:
            raise InputError(f"schedule '{spec}': decay_steps must be > 0 and fit after the warmup")
    if name == "inverse_sqrt" and "timescale" in p and not p["timescale"] > 0:
        raise InputError(f"schedule '{spec}': timescale must be a whole number of steps > 0")
    if name == "step":
        at, to = p.get("at"), p.get("to")
        if not at or not to or len(at) != len(to):
            raise InputError(f"schedule '{spec}': step needs at=S1/S2 and to=LR1/LR2 of equal length")
        if any(x < 0 for x in to):
            raise InputError(f"schedule '{spec}': to must be >= 0 (a negative LR has no meaning)")
        if any(b <= a for a, b in zip(at, at[1:], strict=False)):
            raise InputError(f"schedule '{spec}': the steps in at= must increase")
        if total is not None and at[-1] >= total:
            raise InputError(f"schedule '{spec}': at={at[-1]:g} is not before the last step (total={total}); "
                             "drop that step or lengthen the schedule")


# --- presets ---------------------------------------------------------------------------------------


def presets_dir() -> Path:
    """The packaged presets, or the repository's `schedules/` in a development checkout."""
    here = Path(__file__).parent
    packaged = here / "_presets"
    return packaged if packaged.is_dir() else here.parent / "schedules"


def load_presets() -> dict[str, dict]:
    """Named presets: {name: {"spec": ..., "description": ...}}, from TOML files."""
    out = {}
    folder = presets_dir()
    for f in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        data = tomllib.loads(f.read_text())
        out[f.stem] = {"spec": data["spec"], "description": data.get("description", "")}
    return out


LR_MISMATCH = 0.02  # a logged LR further than 2% of peak from its schedule does not follow it


def lr_alignment(logged_steps: np.ndarray, logged_lr: np.ndarray, eta: np.ndarray) -> dict | None:
    """How the logged LR lines up with a schedule: the best offset (-1, 0, +1 step) and mismatch.

    Frameworks log the LR of this step or of the next one, rounded or in float32; the offset with
    the smallest largest mismatch (relative to the peak) is reported.
    """
    ok = np.isfinite(logged_lr) & (logged_steps < eta.size)
    if ok.sum() < 2:
        return None
    s, v = logged_steps[ok], logged_lr[ok]
    peak = float(eta.max())
    best = None
    for offset in (0, -1, 1):
        idx = s + offset
        inside = (idx >= 0) & (idx < eta.size)
        worst = float(np.max(np.abs(v[inside] - eta[idx[inside]]))) / peak
        if best is None or worst < best["max_mismatch"] - 1e-12:
            best = {"offset": offset, "max_mismatch": worst, "points": int(inside.sum())}
    return best
