"""Run: one observed loss curve (sorted unique steps, loss, optional logged LR) and where it came from."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from .errors import InputError

DUPLICATE_POLICIES = ("last", "first", "mean", "error")
MAX_GAP = 4  # the longest hole in a per-step LR log that is still "logged at every step"
GLITCH = 1000  # a loss this many times the median is a glitched record, not training (no run spans 1000x)
NEIGHBOURS = 5  # ... if it is also this many times its NEIGHBOURS nearest steps' median on each side


def _glitches(steps: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Which losses are glitched records: over GLITCH times the median of the run and of their
    neighbours (by step). A fine-tune's real first loss can be 1000 times its final ones, but the
    points after it fall from it gradually; an fp16 overflow (65504) stands alone."""
    glitch = loss > GLITCH * np.median(loss)
    if not glitch.any():
        return glitch
    order = np.argsort(steps, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    by_step = np.r_[loss[order], np.nan]  # index -1 (and past the end) reads nan
    cand = np.flatnonzero(glitch)
    offsets = np.r_[-NEIGHBOURS:0, 1:NEIGHBOURS + 1]
    near = rank[cand][:, None] + offsets[None, :]
    near = np.where((near >= 0) & (near < order.size), near, -1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a run of one point has no neighbours
        local = np.nanmedian(by_step[near], axis=1)
    glitch[cand] = ~(loss[cand] <= GLITCH * local)  # no neighbour (nan): a glitch by the median alone
    return glitch


ALL_RUNS = "all"  # --run all: every run of a multi-run source


@dataclass
class Run:
    """An observed curve. Build it with `Run.from_points`, which cleans and validates."""

    name: str
    steps: np.ndarray  # int64, strictly increasing
    loss: np.ndarray  # float64, finite
    lr: np.ndarray | None = None  # float64 aligned with steps, NaN where not logged
    source: str = ""
    format: str = ""
    notes: list[str] = field(default_factory=list)  # what reading and cleaning did, for the summary
    fields: dict[str, str | None] = field(default_factory=dict)  # the log's step, loss and lr fields

    @classmethod
    def from_points(
        cls,
        name: str,
        steps,
        loss,
        lr=None,
        *,
        source: str = "",
        format: str = "",
        duplicates: str = "last",
        notes: list[str] | None = None,
        fields: dict[str, str | None] | None = None,
    ) -> Run:
        """Sort by step, resolve repeated steps, drop non-finite losses, losses <= 0 and glitches
        (over GLITCH times the median); refuse what cannot be mended."""
        notes = list(notes or [])
        where = source or name
        if duplicates not in DUPLICATE_POLICIES:
            raise InputError(f"--duplicates must be one of {', '.join(DUPLICATE_POLICIES)}")
        steps = np.asarray(steps, dtype=np.float64)
        loss = np.asarray(loss, dtype=np.float64)
        lr = None if lr is None else np.asarray(lr, dtype=np.float64)
        if steps.size == 0:
            raise InputError(f"{where}: no loss values found; is this the right file?")
        if not np.all(np.isfinite(steps)) or np.any(steps != np.round(steps)) or np.any(steps < 0):
            raise InputError(f"{where}: steps must be whole numbers >= 0; check the step column")
        finite = np.isfinite(loss)
        if not finite.any():
            raise InputError(
                f"{where}: every loss value is NaN or infinite (a diverged run?); nothing to fit"
            )
        if not finite.all():
            notes.append(f"dropped {int((~finite).sum())} non-finite losses")
            steps, loss = steps[finite], loss[finite]
            lr = None if lr is None else lr[finite]
        positive = loss > 0
        if not positive.any():
            raise InputError(f"{where}: every loss value is <= 0, where the laws model a positive loss "
                             "(cross-entropy); is this the loss? Name the field with --loss-key")
        if not positive.all():
            n_bad = int((~positive).sum())
            notes.append(f"dropped {n_bad} losses <= 0 (no cross-entropy gets there; a rounded or "
                         "glitched record)" + ("; they are most of the values: is this the loss? "
                                               "(--loss-key)" if n_bad > positive.sum() else ""))
            steps, loss = steps[positive], loss[positive]
            lr = None if lr is None else lr[positive]
        glitch = _glitches(steps, loss)
        if glitch.any():
            notes.append(f"dropped {int(glitch.sum())} losses over {GLITCH}x the median "
                         f"({np.median(loss):.3g}): a glitched record (fp16 overflow logs 65504)")
            steps, loss = steps[~glitch], loss[~glitch]
            lr = None if lr is None else lr[~glitch]
        if np.any(np.diff(steps) < 0):
            notes.append("sorted steps")
        order = np.argsort(steps, kind="stable")
        steps, loss = steps[order].astype(np.int64), loss[order]
        lr = None if lr is None else lr[order]
        uniq, first, counts = np.unique(steps, return_index=True, return_counts=True)
        if uniq.size < steps.size:
            n_rep = int(steps.size - uniq.size)
            if duplicates == "error":
                raise InputError(
                    f"{where}: {n_rep} repeated steps (first at step {uniq[counts > 1][0]}); "
                    "pass --duplicates last|first|mean to resolve them"
                )
            if duplicates == "first":
                pick = first
            elif duplicates == "last":
                pick = first + counts - 1
            else:
                pick = first
                group = np.repeat(np.arange(uniq.size), counts)
                loss_mean = np.bincount(group, weights=loss) / counts
            new_loss = loss_mean if duplicates == "mean" else loss[pick]
            lr = None if lr is None else lr[pick]
            steps, loss = uniq, new_loss
            notes.append(f"{n_rep} repeated steps resolved ({duplicates})")
        if lr is not None and np.any(lr[np.isfinite(lr)] < 0):
            raise InputError(f"{where}: the logged learning rate is negative at some steps")
        if lr is not None and not np.isfinite(lr).any():
            lr = None
        return cls(name=name, steps=steps, loss=loss, lr=lr, source=source, format=format, notes=notes,
                   fields=dict(fields or {}))

    def subset(self, keep: np.ndarray) -> Run:
        """The run's points where `keep` is True, its name, provenance and notes as they are."""
        return replace(self, steps=self.steps[keep], loss=self.loss[keep],
                       lr=None if self.lr is None else self.lr[keep], notes=list(self.notes))

    def logged_lr_every_step(self) -> np.ndarray | None:
        """The logged LR as a per-step array (index = step) if it is logged at every step, else None.

        A few lone gaps (at most 1% of the steps, none longer than MAX_GAP) are interpolated, as when
        another process's output broke a line of a text log. Before the first logged step the LR
        holds the first logged value.
        """
        if self.lr is None or self.steps.size < 2:
            return None
        ok = np.isfinite(self.lr)
        steps, lr = self.steps[ok], self.lr[ok]
        span = int(self.steps[-1] - steps[0] + 1) if steps.size else 0
        if steps.size < 2 or span - steps.size > 0.01 * span or np.max(np.diff(steps)) > MAX_GAP:
            return None
        grid = np.arange(self.steps[-1] + 1)
        return np.interp(grid, steps, lr)
