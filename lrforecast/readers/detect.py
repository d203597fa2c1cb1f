"""Which fields hold the step, the loss and the LR: ranked lists of the names frameworks use; and
whether a file is one of ours (a law file), which no reader takes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from ..errors import InputError

STEP_KEYS = ("train/global_step", "step", "global_step", "current_steps", "iteration", "iter",
             "trainer/global_step", "Step", "steps", "_step", "num_updates", "time/batch", "completed step")
LOSS_KEYS = ("loss", "train/loss", "train_loss", "lm loss", "Metrics/loss", "trl", "train_loss_step",
             "loss_metrics/global_avg_loss", "training_loss", "train/lm_loss", "val_loss", "eval/loss",
             "eval_loss", "validation_loss", "Loss", "lm_loss", "train/CE loss", "loss/train/total",
             "train loss", "loss train")
LR_KEYS = ("lr", "learning_rate", "train/learning_rate", "learning-rate", "lr-AdamW", "lr/AdamW",
           "learning rate", "train/lr", "lr-Adam", "lr/Adam", "LearningRate", "lr_0", "optim/LR (group 0)",
           "lr-DecoupledAdamW/group0")
TOOL = "lrforecast"  # the `tool` field of a law file (law.py writes it)


def is_law_file(head: bytes) -> bool:
    """Whether a file's first bytes are those of a law file (what `lrforecast fit -o` writes)."""
    return f'"tool": "{TOOL}"'.encode() in head[:200]


def is_law_path(path: str | Path) -> bool:
    """Whether `path` is a law file."""
    p = Path(path)
    if not p.is_file():
        return False
    with p.open("rb") as f:
        return is_law_file(f.read(200))


# An LR monitor's name for any optimizer: Lightning's `lr-AdamW` (`lr-AdamW/pg1` for the first of
# several param groups; `lr-SGD-momentum` is not an LR), Composer's `lr-DecoupledLionW/group0`.
LR_PATTERN = re.compile(r"lr-[A-Za-z0-9_.]+(/(pg1|group0))?", re.IGNORECASE)


def pick(kind: str, available: Iterable[str], preferred: str | None, candidates: tuple[str, ...],
         where: str, required: bool = True, pattern: re.Pattern | None = None) -> str | None:
    """The first candidate present in `available` (or the user's choice), else the only field that
    ends in "/" + a candidate, else the first (by name) that matches `pattern`; exit 2 listing what
    is there."""
    names = list(available)
    if preferred is not None:
        if preferred not in names:
            raise InputError(f"{where}: no field '{preferred}' for the {kind}; it holds: {_listing(names)}")
        return preferred
    lower = {n.lower(): n for n in names}
    for c in candidates:
        if c in names:
            return c
        if c.lower() in lower:
            return lower[c.lower()]
    for c in candidates:  # under a namespace of the logger's own (metrics/train/loss): one match only
        inside = [n for n in names if n.lower().endswith("/" + c.lower())]
        if len(inside) == 1:
            return inside[0]
    if pattern is not None and (matches := sorted(n for n in names if pattern.fullmatch(n))):
        return matches[0]
    if required and not names:
        raise InputError(f"{where}: nothing is logged in it; give a run that has logged its {kind}")
    if required:
        raise InputError(f"{where}: no {kind} field found; it holds: {_listing(names)}; "
                         f"name one with --{kind}-key")
    return None


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:25])
    return shown + (f", ... ({len(names)} in all)" if len(names) > 25 else "") if names else "nothing"
