"""The schedule-transfer task of ../shared/data/schaipp124m that a user faces: a constant run and one
cosine run at a peak LR are all there is; which cooldown ends lowest?"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np
import pytest

from lrforecast import fit, predict

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import schaipp  # noqa: E402  (the runs, their exact schedules and the tasks, shared with the benchmark)

SCHAIPP = schaipp.DATA


@functools.cache
def auto_fit(name: str):
    """Law auto fitted on the runs of the task `name`, once per session: several tests ask for it."""
    return fit(*schaipp.task(name).inputs())


@pytest.mark.slow
@pytest.mark.parametrize("peak", ["5e-4", "2e-3"])
def test_the_default_law_fitted_on_a_constant_and_a_cosine_run_picks_the_best_cooldown(peak):
    """Fit on the constant run (cut at 25k steps) and the 25k cos10 run, forecast the final loss of
    every 25k cooldown from its schedule alone: the one forecast lowest really ends within 0.001 of
    the best. (The best cooldown moves with the peak LR: 40% at 5e-4, 60% at 2e-3.)"""
    assert SCHAIPP.is_dir()
    task = schaipp.task(f"{peak} choice-25k")
    law = auto_fit(task.name)
    cooldowns = [n for n in task.forecast if "_wsd-" in n]
    assert len(cooldowns) >= 5
    forecast = {n: predict(law, schaipp.schedule(n)).final_loss for n in cooldowns}
    real = {n: float(schaipp.read(n).loss[-1]) for n in cooldowns}
    picked = min(forecast, key=forecast.get)
    assert real[picked] - min(real.values()) <= 0.001, (picked, min(real, key=real.get))
    # and not by luck of a flat forecast: the forecasts order the cooldowns as they really end
    names = sorted(cooldowns)
    a, b = (np.argsort(np.argsort([d[n] for n in names])) for d in (forecast, real))
    assert np.corrcoef(a, b)[0, 1] >= 0.6


@pytest.mark.slow
def test_the_last_iterate_law_fitted_at_the_low_peak_lr_picks_the_best_cooldown_and_its_level():
    """At peak 1e-4 (where the default law, ranking at the last logged point, picks a 1-sqrt
    cooldown 0.003 worse than the best; at the schedules' last step it ranks the best first, 0.0004
    ahead of that one, inside its held-out error) the last-iterate law, fitted on the constant run
    cut at 25k and the 25k cos10 run, picks a schedule within 0.001 of the best and forecasts every
    25k run's final loss within 0.008."""
    task = schaipp.task("1e-4 choice-25k")
    law = fit(*task.inputs(), law="bound")
    real = {n: float(schaipp.read(n).loss[-1]) for n in task.forecast}
    last = {n: int(schaipp.read(n).steps[-1]) for n in task.forecast}  # 24800: the last logged point
    forecast = {}
    for n in task.forecast:
        p = predict(law, schaipp.schedule(n), band=False)
        forecast[n] = float(p.loss[p.steps == last[n]][0])
    assert real[min(forecast, key=forecast.get)] - min(real.values()) <= 0.001
    assert max(abs(forecast[n] - real[n]) for n in real) <= 0.008


@pytest.mark.slow
def test_auto_leaves_out_a_law_that_says_it_is_fitted_only_when_named():
    """(On runs whose folds can judge a decay: two decaying runs, so that auto fits every law.)"""
    task = schaipp.task("5e-4 horizon-25k-50k")
    law = auto_fit(task.name)
    assert "bound" not in law.selection.cv and {"rootpower", "multipower"} <= set(law.selection.cv)


def test_when_no_fold_can_judge_a_decay_auto_fits_only_the_default_law():
    """A constant run and one cooldown: leaving either out fits or forecasts no decay, and the first
    third of the cooldown run has none, so `choose` would keep the default whatever the others
    score. Auto fits it alone, with its cross-validation (refits and held-out error) as before."""
    from lrforecast.selection import MIN_JUDGING, PREFERRED, judging_folds

    task = schaipp.task("5e-4 wsd-15k")
    runs, schedules = task.inputs()
    assert judging_folds(runs, schedules) == 0
    law = auto_fit(task.name)
    assert law.name == PREFERRED and set(law.selection.cv) == {PREFERRED}
    assert law.held_out is not None and law.refits
    alone = fit(runs, schedules, law=PREFERRED, validate=True)
    assert law.params == alone.params and law.held_out.TrendE == alone.held_out.TrendE
    # two cooldowns: leaving one out fits the other and forecasts a decay, so every law is fitted
    horizon = schaipp.task("5e-4 horizon-25k-50k")
    assert judging_folds(*horizon.inputs()) >= MIN_JUDGING


def test_one_fold_that_judges_a_decay_is_too_few_to_leave_the_default_law():
    """A constant run and one cosine: only the horizon fold (the cosine's first third) judges a
    decay, and one fold's score picks a law by chance, so auto fits the default alone and says so."""
    from lrforecast.selection import MIN_JUDGING, PREFERRED, judging_folds

    task = schaipp.task("2e-3 choice-15k")
    runs, schedules = task.inputs()
    assert 0 < judging_folds(runs, schedules) < MIN_JUDGING
    law = auto_fit(task.name)
    assert law.name == PREFERRED and set(law.selection.cv) == {PREFERRED}
    assert law.selection.rule.startswith("only 1 fold")


@pytest.mark.slow
def test_where_compare_picks_the_wrong_schedule_it_says_it_cannot_tell():
    """On every transfer task, compare's first candidate is the one that really ends lowest, or the
    real best lies within the law's held-out error of it (the close-call warning names it) and the
    paired probability that the pick ends lower stays below 0.9, so `--confidence 0.9` would not
    pass it: a wrong pick is never a confident one."""
    from lrforecast import compare

    wrong = 0
    for task in schaipp.tasks():
        cmp = compare(auto_fit(task.name), [schaipp.schedule(n) for n in task.forecast])
        real = {n: float(schaipp.read(n).loss[-1]) for n in task.forecast}
        best, pick = min(real, key=real.get), cmp.best
        if pick.name == best:
            continue
        wrong += 1
        truth = next(p for p in cmp.predictions if p.name == best)
        assert cmp.cannot_tell(cmp.key(pick), cmp.key(truth)), task.name
        assert any(best in w and "cannot tell" in w for w in cmp.warnings), task.name
        assert cmp.p_lower(pick, truth) < 0.9, task.name
    assert 0 < wrong < len(schaipp.tasks())  # some picks are wrong, so the check is not vacuous


@pytest.mark.slow
def test_the_range_comes_from_the_folds_that_saw_a_decay_and_holds_every_run():
    """Fitted on a constant run and a cosine, the fold fitted on the constant run alone forecasts
    the cosine from the gain prior (3% off at its end) where the law itself errs 0.1-0.7%: it is
    left out of the range, which narrows to a few percent and still holds every run's final loss."""
    from lrforecast import evaluate
    from lrforecast.ranges import held_out_end_error
    from lrforecast.selection import for_the_range

    task = schaipp.task("5e-4 choice-25k")
    law = auto_fit(task.name)
    folds = law.selection.cv[law.name]["folds"]
    kept = for_the_range(folds)
    assert "leave out lr0.0005_25k_cos10" not in kept and "horizon" in kept
    assert held_out_end_error(law) == max(folds[f]["EndE"] for f in kept)
    assert held_out_end_error(law) < 0.5 * max(m["EndE"] for m in folds.values())
    for name in task.forecast:
        r = evaluate(law, schaipp.read(name), schaipp.schedule(name)).range
        low, high = r["end_range"]
        assert r["end_held"] and (high - low) / r["end"] < 0.04, name


@pytest.mark.slow
def test_without_a_fold_that_judges_a_decay_the_range_still_leaves_out_the_folds_that_saw_none():
    """Fitted on a constant run and a 20% cooldown, no fold judges a decay; the fold fitted on the
    constant run alone (2% off at the cooldown's end) is left out of the range all the same, which
    narrows from about 10% of the loss to under 1.5% and holds most runs' final losses."""
    from lrforecast import evaluate
    from lrforecast.ranges import held_out_end_error
    from lrforecast.selection import for_the_range, judges_decay

    task = schaipp.task("5e-4 wsd-15k")
    law = auto_fit(task.name)
    folds = law.selection.cv[law.name]["folds"]
    assert not any(judges_decay(m) for m in folds.values())
    kept = for_the_range(folds)
    assert kept == ["leave out lr0.0005_50k_constant"]
    assert held_out_end_error(law) == folds[kept[0]]["EndE"]
    assert folds["leave out lr0.0005_15k_wsd-lin0.2"]["EndE"] > 10 * held_out_end_error(law)
    held = []
    for name in task.forecast:
        r = evaluate(law, schaipp.read(name), schaipp.schedule(name)).range
        low, high = r["end_range"]
        assert (high - low) / r["end"] < 0.015, name
        held.append(r["end_held"])
    assert np.mean(held) >= 0.6


def test_a_cooldown_to_zero_is_flagged_when_the_fitted_runs_stop_at_ten_percent():
    """Fitted on a constant run and a cosine to 10% of the peak, the law extrapolates what a fall to
    zero gains; every such forecast says so, and the fitted cosine's own schedule does not."""
    from lrforecast.validity import below_fitted

    task = schaipp.task("2e-3 choice-25k")
    law = auto_fit(task.name)
    assert abs(law.fit_window.lr_decay - 0.9) < 0.01
    for name in task.forecast:
        schedule = schaipp.schedule(name)
        flagged = [w for w in predict(law, schedule, band=False).warnings if "below the 10%" in w]
        assert below_fitted(law, schedule.lr()) and len(flagged) == 1, name
    cosine = schaipp.schedule("lr0.002_25k_cos10")
    assert not below_fitted(law, cosine.lr())
    assert not any("below the" in w for w in predict(law, cosine, band=False).warnings)


def _final_mae(law, task) -> float:
    """Mean absolute error of the forecast final loss over the task's forecast runs."""
    return float(np.mean([abs(predict(law, schaipp.schedule(n), band=False).final_loss
                              - float(schaipp.read(n).loss[-1])) for n in task.forecast]))


@pytest.mark.slow
@pytest.mark.parametrize("peak", ["1e-4", "5e-4"])
def test_the_decay_fold_chooses_p_from_the_cosine_run_and_the_levels_come_closer(peak):
    """The root-power law's p, left to its prior (0.5), over-credits the end of a decay to zero at
    the lower peak LRs: every cooldown is forecast too low. The decay fold (decayfold.py) fits the
    constant run and the cos10 run cut half way down its decay, keeps the p that forecasts the rest of
    that decay best, and the final losses of the task's other runs come closer than at the prior."""
    from lrforecast.fitting import fit_law

    task = schaipp.task(f"{peak} choice-25k")
    runs, scheds = task.inputs()
    folded = fit(runs, scheds, law="rootpower")
    assert any("chosen by the decay fold" in n for n in folded.notes)
    assert 0.5 < folded.params["p"] <= 1.0
    prior = fit_law(runs, scheds, law="rootpower")
    assert abs(prior.params["p"] - 0.5) < 0.05
    assert _final_mae(folded, task) < 0.75 * _final_mae(prior, task)


@pytest.mark.slow
def test_the_decay_fold_is_not_trusted_where_the_law_misses_the_cooldown():
    """At peak 2e-3 fitted on a 20% cooldown, every p misses the second half of the cooldown by more
    than decayfold.TRUST (the loss lags the LR there), so p is searched as before, and the note says
    why."""
    from lrforecast import decayfold

    task = schaipp.task("2e-3 wsd-25k")
    law = fit(*task.inputs(), law="rootpower")
    assert any("decay fold cannot tell" in n for n in law.notes)
    assert not any("chosen by the decay fold" in n for n in law.notes)
    assert decayfold.TRUST < 0.01


@pytest.mark.slow
def test_a_log_that_starts_part_way_down_its_decay_fits_with_the_decay_fold(tmp_path):
    """The 124M per-batch logs of a 20% and a 60% cooldown start at their branch (steps 20050 and
    10050), with their logged LRs: in the horizon fold the 60% one is cut before its first point
    would be, and the decay fold must leave it whole rather than fit an empty run (exit 4 once)."""
    from lrforecast import parse_schedule, read_runs

    lines = (SCHAIPP / "lr0.0005_50k_constant.train.csv").read_text().splitlines()
    constant = tmp_path / "constant.csv"
    kept = [r for r in lines[1:] if float(r.split(",")[0]) < 25000]
    constant.write_text("\n".join([lines[0], *kept]) + "\n")
    paths = [constant] + [SCHAIPP / f"lr0.0005_25k_wsd-lin{c}.train.csv" for c in ("0.2", "0.6")]
    runs = read_runs(paths)
    assert int(runs[2].steps[0]) > 10000
    law = fit(runs, [parse_schedule("log")] * 3)
    assert law.held_out is not None and np.isfinite(law.params["L0"])
