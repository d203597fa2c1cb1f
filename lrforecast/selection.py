"""Fitting a law and choosing one by how well it predicts what it was not fitted on (`fit`).

Folds, on the runs at hand only:
- leave one run out (two or more runs): fit on the others, predict the left-out run;
- horizon: fit on the first third of every run's steps, predict the whole runs. Forecasts are
  usually asked for longer than the fitted runs, which leaving a run out does not test.
With a single run only the horizon fold exists (a held-out tail of the run).
The score is the mean TrendE of the two kinds (the leave-one-out folds averaged first), so new
shapes and longer horizons weigh the same however many runs there are. TrendE is PredE against
the run's trend (metrics.trend_error): for a clean log the same, for a noisy per-batch loss the
error of the forecast rather than the scatter of single points around it.

A few runs give few folds, and their scores scatter more than the laws differ: at 100M the
multi-power law's mean is lower with the momentum law lower on two of four folds. So the lower
mean alone would pick a law by chance. The default law (PREFERRED) is kept unless another law is
lower on every fold that can judge how a law forecasts an LR decay, which is what ranking
schedules needs: a fold counts only when its fit saw a decay and what it forecasts has one (leaving
out a constant-LR run tests the power law alone, and the first third of a WSD run has no decay).
Among the laws lower on all of them, the one with the lowest mean there is kept. It takes two
such folds at least (MIN_JUDGING): a constant run and one cosine give one (the cosine's first
third), and on the transfer tasks of that kind the momentum law won it in 3 of 8 and then
forecast the other runs worse than the default in all three (final-loss MAE 0.0118 against
0.0053 at 1e-4, 50k; regret 0.0052 against 0 at 2e-3, 15k).
The default is the root-power law: on the schedule-transfer tasks of ../shared/data/schaipp124m it
picks the cooldown far better than the multi-power law (mean regret 0.0004 against 0.0023 at peak
5e-4, 0.0006 against 0.0057 at 2e-3), whose folds there cannot tell them apart; on the multi-power
law's own runs (../shared/data/mpl) the multi-power law is lower on every judging fold and is kept.

A law with a decay fold (decayfold.py: the root-power law's p) has that shape chosen first, in the
fit on all the runs and, where that choice was trusted, again in each fold on the fold's own runs.

The fold laws are kept as the law's `refits` (leave-one-out ones, or the horizon one for a single
run; of those, the folds for_the_range keeps): how much a forecast moves between them is how sure
it can be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from . import decayfold
from .areas import DECAY_SEEN, lr_decay
from .backtest import evaluate
from .envelope import with_gain_envelope
from .errors import FitError, InputError
from .fitting import fit_law, resolved
from .law import HeldOut, Law, Selection
from .laws import LAWS
from .laws.base import shapes
from .metrics import METRICS, mean_metrics
from .parallel import Call, Outcome, run_all, value
from .progress import Progress, counter
from .ranges import BLIND_TO_DECAY
from .run import Run
from .schedules import Schedule

HORIZON_FRACTION = 1 / 3
SCORE = "TrendE"
SCORED = (*METRICS, SCORE)
HOW = "cross-validated mean TrendE (PredE against each run's trend)"
PREFERRED = "rootpower"
MAX_LORO_FOLDS = 4  # with many runs, leave out at most this many (evenly spread) in turn
MIN_JUDGING = 2  # fewer folds that judge a decay cannot move auto off the default (module doc)


def head(run: Run, fraction: float) -> Run:
    """The first `fraction` of a run's steps."""
    return run.subset(run.steps <= run.steps[0] + fraction * (run.steps[-1] - run.steps[0]))


def left_out(n_runs: int) -> list[int]:
    """Which runs the leave-one-out folds leave out: all, or MAX_LORO_FOLDS spread evenly."""
    if n_runs < 2:
        return []
    return [int(i) for i in np.unique(np.linspace(0, n_runs - 1, min(n_runs, MAX_LORO_FOLDS)).astype(int))]


def leave_one_out(runs: Sequence[Run], schedules: Sequence[Schedule], law: str, on_fit=None,
                  **options) -> tuple[dict[str, dict], list[dict]]:
    """For each run in left_out, the law fitted on the others: its metrics on the left-out run
    ({"leave out NAME": metrics}) and its parameters (the refits)."""
    folds = [f for f in fold_plan(runs, schedules) if f.held is not None]
    outcomes = run_all([fold_call(f, law, options) for f in folds], on_fit)
    return _leave_one_out_scores(runs, schedules, folds, outcomes)


@dataclass(frozen=True)
class Fold:
    """One fold of the cross-validation: the runs it fits, and the run it leaves out (None: the
    horizon fold, scored on every run)."""

    name: str
    runs: list[Run]
    schedules: list[Schedule]
    held: int | None


def fold_plan(runs: Sequence[Run], schedules: Sequence[Schedule]) -> list[Fold]:
    """The folds of the module doc: each run of left_out left out in turn, then the horizon."""
    out = []
    for i in left_out(len(runs)):
        others = [j for j in range(len(runs)) if j != i]
        out.append(Fold(f"leave out {runs[i].name}", [runs[j] for j in others],
                        [schedules[j] for j in others], i))
    out.append(Fold("horizon", [head(r, HORIZON_FRACTION) for r in runs], list(schedules), None))
    return out


def fold_call(fold: Fold, law: str, options: dict) -> Call:
    return fit_law, (fold.runs, fold.schedules), {"law": law, **options}


def _leave_one_out_scores(runs: Sequence[Run], schedules: Sequence[Schedule], folds: list[Fold],
                          outcomes: list[Outcome]) -> tuple[dict[str, dict], list[dict]]:
    scores: dict[str, dict] = {}
    refits: list[dict] = []
    for fold, outcome in zip(folds, outcomes, strict=True):
        fitted, i = value(outcome), fold.held
        scores[fold.name] = {**evaluate(fitted, runs[i], schedules[i]).metrics,
                             "fit_lr_decay": fitted.fit_window.lr_decay,
                             "held_lr_decay": run_lr_decay(runs[i], schedules[i])}
        refits.append(dict(fitted.params))
    return scores, refits


def run_lr_decay(run: Run, schedule: Schedule) -> float:
    """How far the LR of a run falls below its peak up to the run's last point."""
    return lr_decay(schedule.lr(), int(run.steps[-1]))


def saw_decay(fold: dict) -> bool:
    """Whether a fold's fit saw an LR decay (folds of law files from before this was kept did)."""
    return fold.get("fit_lr_decay", 1.0) >= DECAY_SEEN


def judges_decay(fold: dict) -> bool:
    """Whether a fold can judge how a law forecasts an LR decay: its fit saw one, and what it
    forecasts has one (folds of law files from before this was kept count as both)."""
    return saw_decay(fold) and fold.get("held_lr_decay", 1.0) >= DECAY_SEEN


@dataclass(frozen=True)
class CrossValidation:
    """One law's cross-validation: each fold's metrics (with `fit_lr_decay`, how far the LR of the
    fold's fitted runs fell), their mean over the kinds of fold (None: no fold could be scored),
    the laws fitted in the folds (refits) and the largest error at a held-out run's end."""

    folds: dict[str, dict]
    mean: dict[str, float] | None
    refits: list[dict]
    end: float | None

    def summary(self) -> dict:
        """What auto keeps of it for every law: all but the refits."""
        return {"folds": self.folds, "mean": self.mean, "end": self.end}


def cross_validate(runs: Sequence[Run], schedules: Sequence[Schedule], law: str, on_fit=None,
                   **options) -> CrossValidation:
    """Mean metrics of each fold and over folds (see module doc)."""
    folds = fold_plan(runs, schedules)
    return scored(runs, schedules, folds, run_all([fold_call(f, law, options) for f in folds], on_fit))


def scored(runs: Sequence[Run], schedules: Sequence[Schedule], folds: list[Fold],
           outcomes: list[Outcome]) -> CrossValidation:
    """The CrossValidation of the folds' fits (a fit that failed raises its error, but for the
    horizon fold's "too few points": then there is no horizon fold)."""
    loo = [(f, o) for f, o in zip(folds, outcomes, strict=True) if f.held is not None]
    folds_, params = _leave_one_out_scores(runs, schedules, [f for f, _ in loo], [o for _, o in loo])
    refits = [(f.name, p) for (f, _), p in zip(loo, params, strict=True)]  # (fold, the law fitted in it)
    kinds = [mean_metrics(list(folds_.values()), SCORED)] if folds_ else []
    horizon = next(o for f, o in zip(folds, outcomes, strict=True) if f.held is None)
    ok, fitted = horizon
    if not ok and isinstance(fitted, InputError):  # too few points in the first third to fit
        fitted = None
    elif not ok:
        raise fitted
    if fitted is not None:
        per_run = [evaluate(fitted, r, s).metrics for r, s in zip(runs, schedules, strict=True)]
        folds_["horizon"] = {**mean_metrics(per_run, SCORED), "EndE": max(m["EndE"] for m in per_run),
                             "fit_lr_decay": fitted.fit_window.lr_decay,
                             "held_lr_decay": max(map(run_lr_decay, runs, schedules))}
        kinds.append(folds_["horizon"])
        refits = refits or [("horizon", dict(fitted.params))]
    ranging = for_the_range(folds_)
    kept = [p for f, p in refits if f in ranging] or [p for _, p in refits]
    return CrossValidation(folds_, mean_metrics(kinds, SCORED) if kinds else None, kept,
                           max((folds_[f]["EndE"] for f in ranging), default=None))


def for_the_range(folds: dict[str, dict]) -> list[str]:
    """The folds whose refits and end errors make the forecast range: those whose fit saw an LR
    decay, when any did; else all. A fold fitted without the decay the law was fitted on forecasts a
    decay from the gain prior alone, a harder task than the law's own, and widens the range by far
    more than the law errs. On the transfer tasks (benchmarks/transfer.py):
    - fitted on a constant run and a cosine, leaving out the cosine missed its end by 0.6-5.4%,
      where the law's final losses are off by 0.1-0.7%;
    - fitted on a constant run and a 20% cooldown, no fold judges a decay (judges_decay), and
      leaving out the cooldown missed its end by 0.2-5.3%. When those folds were kept there too,
      the range was 8-17% wide at peak LR 5e-4 and 2e-3 and held every final loss; without them it
      is 0.3-0.8% wide and holds 79% of them (all tasks: 90%)."""
    return [f for f, m in folds.items() if saw_decay(m)] or list(folds)


def fit(runs: Sequence[Run], schedules: Sequence[Schedule], *, law: str = "auto", validate: bool = False,
        **options) -> Law:
    """Fit a law jointly on `runs`, each with its schedule (`log` means the run's logged LR).

    law="auto" fits every law and keeps the one with the smallest cross-validated error
    (below); any other name fits that law (fit_law, which lists the options), and with
    validate=True cross-validates it as auto does, so that it keeps its refits and held-out error
    (what a forecast's range is made of; `lrforecast fit` always does).
    """
    schedules = resolved(runs, schedules)
    if law == "auto":
        return fit_auto(runs, schedules, **options)
    if validate:
        return fit_validated(runs, schedules, law=law, **options)
    chosen, note = decayfold.choose_shape(runs, schedules, law, options)
    fitted = fit_law(runs, schedules, law=law, **options, shapes=chosen)
    return fitted if note is None else fitted.noted(note)


def judging_folds(runs: Sequence[Run], schedules: Sequence[Schedule]) -> int:
    """How many of cross_validate's folds will judge a decay (judges_decay), from the schedules
    alone: with fewer than MIN_JUDGING, `choose` keeps the default law whatever the others score."""
    decay = [run_lr_decay(r, s) for r, s in zip(runs, schedules, strict=True)]
    n = 0
    for i in left_out(len(runs)):
        fitted = max((d for j, d in enumerate(decay) if j != i), default=0.0)
        n += min(fitted, decay[i]) >= DECAY_SEEN
    head_decay = max(run_lr_decay(head(r, HORIZON_FRACTION), s) for r, s in zip(runs, schedules, strict=True))
    return n + (min(head_decay, max(decay)) >= DECAY_SEEN)


def fit_auto(runs: Sequence[Run], schedules: Sequence[Schedule], *, progress: Progress | None = None,
             **options) -> Law:
    """Fit every law, cross-validate each, keep one by `choose` and say why and by how much. When
    fewer than MIN_JUDGING folds can judge a decay, `choose` would keep the default law whatever the
    others score, so only it is fitted (the others too if it fails)."""
    names = [n for n, form in LAWS.items() if getattr(form, "IN_AUTO", True) and fixes_apply(n, options)]
    judging = judging_folds(runs, schedules)
    alone = PREFERRED in names and judging < MIN_JUDGING
    scores, laws, failures = _fit_all(runs, schedules, [PREFERRED] if alone else names, progress, options)
    if alone and not laws:
        alone = False
        more = _fit_all(runs, schedules, [n for n in names if n != PREFERRED], progress, options)
        for have, extra in zip((scores, laws, failures), more, strict=True):
            have.update(extra)
    if not laws:
        by_message: dict[str, list[str]] = {}
        for n, m in failures.items():
            by_message.setdefault(m, []).append(n)
        raise FitError("; ".join(f"{' and '.join(ns)}: {m}" for m, ns in by_message.items()))
    if alone and not scores[PREFERRED].mean:
        chosen, why = PREFERRED, "too few points to hold any out and fit the rest, so the default"
    elif alone:
        chosen, why = PREFERRED, f"{too_few_to_judge(judging)}, the other laws not fitted"
    else:
        chosen, why = choose(scores)
    best = laws[chosen]
    scored = sorted((n for n in scores if scores[n].mean), key=lambda n: scores[n].mean[SCORE])
    selection = Selection(chosen, HOW, why, {n: scores[n].summary()
                                             for n in scored + [n for n in scores if n not in scored]},
                          failures)
    if len(scored) > 1:
        other = scored[1] if chosen == scored[0] else scored[0]
        a, b = (scores[n].mean[SCORE] for n in (chosen, other))
        best = best.noted(f"law auto: {chosen} chosen ({why}); held-out error (cross-validated, against "
                          "the runs' trend) "
                          f"{100 * a:.3g}% of the loss against {100 * b:.3g}% for {other}")
    elif not scored:
        best = best.noted(f"law auto: {chosen} chosen ({why}); its error on unseen steps is unknown")
    elif alone:
        best = best.noted(f"law auto: {chosen} chosen ({why})")
    return with_gain_envelope(with_validation(replace(best, selection=selection), scores[chosen]), runs,
                              schedules, options)


def _fit_all(runs: Sequence[Run], schedules: Sequence[Schedule], names: list[str], progress: Progress | None,
             options: dict) -> tuple[dict, dict, dict]:
    """Each named law fitted and cross-validated: their CrossValidations, laws and fit failures."""
    folds = fold_plan(runs, schedules)
    fits = _fit_with_folds(runs, schedules, folds, names, options, progress)
    scores, laws, failures = {}, {}, {}
    for name in names:
        outcomes, note = fits[name]
        try:
            law = value(outcomes[0])
            scores[name] = scored(runs, schedules, folds, outcomes[1:])
            laws[name] = law if note is None else law.noted(note)
        except FitError as e:  # bad input is not the law's fault: it propagates as it is
            failures[name] = str(e)
    return scores, laws, failures


def _fit_with_folds(runs: Sequence[Run], schedules: Sequence[Schedule], folds: list[Fold], names: list[str],
                    options: dict, progress: Progress | None) -> dict[str, tuple[list[Outcome], str | None]]:
    """For each law, the outcomes of its fit on every run and of its fit in each fold, and the note
    of its decay fold's choice. A law with a decay fold (decayfold.py) has its shape chosen first, by
    each fit on the runs that fit sees only, so that the folds judge the choice too. All the fits go
    to run_all (the machine's cores)."""
    sets = [(list(runs), list(schedules))] + [(f.runs, f.schedules) for f in folds]
    chosen: dict[tuple[str, int], tuple[dict, str | None]] = {}
    tick = counter(progress, len(names) * len(sets))
    # first the decay fold on every run; on the folds' runs only where that one was trusted (where it
    # cannot tell on all the runs, the folds' fits search the shape as the fit on all the runs does)
    for stage in ([0], range(1, len(sets))):
        calls = {(name, i): decayfold.decay_fold_calls(*sets[i], name, options) for name in names
                 for i in stage if i == 0 or chosen[name, 0][0]}
        tick.total += sum(map(len, calls.values()))
        done = iter(run_all([c for cs in calls.values() for c in cs], tick))
        chosen |= {key: decayfold.choose(*sets[key[1]], key[0], [next(done) for _ in cs])
                   for key, cs in calls.items()}
    chosen = {(name, i): chosen.get((name, i), ({}, None)) for name in names for i in range(len(sets))}
    calls = [(fit_law, sets[i], {"law": name, **options, "shapes": chosen[name, i][0]})
             for name in names for i in range(len(sets))]
    outcomes = run_all(calls, tick)
    return {name: (outcomes[k * len(sets):(k + 1) * len(sets)], chosen[name, 0][1])
            for k, name in enumerate(names)}


def fit_validated(runs: Sequence[Run], schedules: Sequence[Schedule], *, law: str,
                  progress: Progress | None = None, **options) -> Law:
    """One named law, cross-validated as auto cross-validates each law, so that it keeps its refits
    and held-out error. A cross-validation that fails leaves the law as fitted, with a note."""
    folds = fold_plan(runs, schedules)
    outcomes, note = _fit_with_folds(runs, schedules, folds, [law], options, progress)[law]
    fitted = value(outcomes[0])
    if note is not None:
        fitted = fitted.noted(note)
    try:
        score = scored(runs, schedules, folds, outcomes[1:])
    except FitError as e:
        return fitted.noted(f"its held-out error is unknown: fitting it without one run failed ({e})")
    fitted = with_gain_envelope(with_validation(fitted, score), runs, schedules, options)
    if score.mean:
        fitted = fitted.noted(f"held-out error: {100 * score.mean[SCORE]:.3g}% of the loss, the {HOW}")
    return fitted


def fixes_apply(law: str, options: dict) -> bool:
    """Whether every shape parameter fixed in `options` (lam=0.999, say) is one of `law`'s: auto
    fits only the laws it applies to."""
    fixable = {p.name for form in LAWS.values() for p in shapes(form) if p.fix_range is not None}
    own = {p.name for p in shapes(LAWS[law])}
    return all(options.get(k) is None or k in own for k in fixable)


def with_validation(law: Law, score: CrossValidation, how: str = HOW) -> Law:
    """The law with its cross-validation kept: its refits and, when any fold could be scored, its
    held-out error, with the caveat when no fold's fit saw an LR decay."""
    law = replace(law, refits=score.refits)
    if not score.mean:
        return law
    law = replace(law, held_out=held_out_summary(score.mean, how, score.end, score.folds))
    return law if law.held_out.decay_seen else law.noted(f"the held-out error was {BLIND_TO_DECAY}")


def held_out_summary(mean: dict[str, float], how: str, end: float | None, folds: dict[str, dict]) -> HeldOut:
    """What a law keeps of its cross-validation: the held-out error (TrendE), raw PredE, the largest
    error at a held-out run's end (EndE, for plan's range), how, and whether any fold was fitted on
    an LR decay (if none was, the error says nothing of how the law forecasts one)."""
    return HeldOut(mean[SCORE], mean["PredE"], end, how, any(map(saw_decay, folds.values())))


def too_few_to_judge(n: int) -> str:
    """Why the default law is kept when only `n` (< MIN_JUDGING) folds judge a decay."""
    return (f"{'no' if n == 0 else f'only {n}'} fold was fitted on an LR decay and forecasts one, too few "
            f"to judge the laws by; the default {PREFERRED}")


def choose(scores: dict[str, CrossValidation]) -> tuple[str, str]:
    """The law to keep, given each law's cross-validation (module doc), and why in a few words."""
    if len(scores) == 1:
        return next(iter(scores)), "the only law that fitted"
    if not any(s.mean for s in scores.values()):
        return (PREFERRED if PREFERRED in scores else next(iter(scores)),
                "too few points to hold any out and fit the rest, so the default")
    ranked = sorted((n for n in scores if scores[n].mean), key=lambda n: scores[n].mean[SCORE])
    if PREFERRED not in scores or not scores[PREFERRED].mean:
        return ranked[0], "lowest mean"
    own = scores[PREFERRED].folds
    folds = [f for f, m in own.items() if judges_decay(m)]
    if len(folds) < MIN_JUDGING:  # the same folds for every law
        return PREFERRED, too_few_to_judge(len(folds))

    def lower(name: str) -> int:
        theirs = scores[name].folds
        return sum(f in theirs and theirs[f][SCORE] < own[f][SCORE] for f in folds)

    better = [n for n in ranked if n != PREFERRED and lower(n) == len(folds)]
    if better:
        best = min(better, key=lambda n: float(np.mean([scores[n].folds[f][SCORE] for f in folds])))
        return best, f"lower on all {len(folds)} folds that judge a decay"
    if ranked[0] == PREFERRED:
        return PREFERRED, "lowest mean"
    return PREFERRED, (f"{ranked[0]} lower on only {lower(ranked[0])} of {len(folds)} folds that judge a "
                       f"decay: too close to call, so the default {PREFERRED}")
