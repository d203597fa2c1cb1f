"""Every law in lrforecast/laws/ meets the contract of laws/base.py; a new law is one file there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lrforecast import LAWS, Law, fit_law, parse_schedule
from lrforecast.laws.base import FLOOR, GAIN, LINEAR, SCALE, SHAPE, linear, shapes
from lrforecast.run import Run

PEAK, WARMUP, TOTAL = 3e-4, 500, 12000
FITTED = (f"cosine:peak={PEAK}:warmup={WARMUP}:total={TOTAL}:min=3e-5",
          f"step:peak={PEAK}:warmup={WARMUP}:total={TOTAL}:at=6000:to=6e-5",
          f"constant:peak={PEAK}:warmup={WARMUP}:total={TOTAL}")
UNSEEN = f"wsd:peak={PEAK}:warmup={WARMUP}:total={TOTAL}:decay=0.3:min=0:shape=linear"


def curves(truth: Law, scale: float = 1.0) -> tuple[list[Run], list]:
    """The truth's losses every 50 steps of the fitted schedules, their LRs times `scale`."""
    runs, scheds = [], []
    for i, spec in enumerate(FITTED):
        s = parse_schedule(spec)
        steps = np.arange(WARMUP, TOTAL, 50)
        runs.append(Run.from_points(f"r{i}", steps, truth.predict_lr(s.lr(), steps, WARMUP)))
        scheds.append(parse_schedule(spec.replace(f"peak={PEAK}", f"peak={PEAK * scale}").replace(
            "min=3e-5", f"min={3e-5 * scale}").replace("to=6e-5", f"to={6e-5 * scale}")))
    return runs, scheds


def unseen(law: Law, scale: float = 1.0) -> np.ndarray:
    s = parse_schedule(UNSEEN.replace(f"peak={PEAK}", f"peak={PEAK * scale}"))
    return law.predict_lr(s.lr(), np.arange(WARMUP + 100, TOTAL, 37), WARMUP)


@pytest.mark.parametrize("name", sorted(LAWS))
def test_a_law_declares_its_parameters_by_role(name):
    form = LAWS[name]
    roles = [p.role for p in form.PARAMS]
    assert set(roles) <= {*LINEAR, SHAPE} and roles.count(FLOOR) == 1 and roles.count(SCALE) == 1
    assert GAIN in roles and set(form.EXAMPLE) == {p.name for p in form.PARAMS}
    for p in shapes(form):
        lo, hi = p.bounds
        assert len(p.grid) >= 1 and all(lo <= g <= hi for g in p.grid), p.name
        assert lo <= p.search(form.EXAMPLE[p.name]) <= hi, p.name  # the example lies in the search
    X = form.basis(__import__("lrforecast.laws.base", fromlist=["Curve"]).Curve(
        parse_schedule(FITTED[0]).lr(), np.arange(WARMUP, TOTAL, 500), WARMUP),
        {p.name: form.EXAMPLE[p.name] for p in shapes(form)}, "real")
    assert X.shape == (len(range(WARMUP, TOTAL, 500)), len(linear(form))) and np.isfinite(X).all()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LAWS))
def test_a_law_recovers_the_curves_it_generated(name):
    truth = Law.given(name, LAWS[name].EXAMPLE, peak_lr=PEAK, warmup=WARMUP, total=TOTAL)
    runs, scheds = curves(truth)
    law = fit_law(runs, scheds, law=name, prior=0, gain_prior=0, robust=False)
    assert max(r.metrics["WorstE"] for r in law.runs) < 1e-4
    assert np.max(np.abs(unseen(law) / unseen(truth) - 1)) < 2e-3  # and forecasts a schedule it never saw


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LAWS))
def test_a_law_forecasts_the_same_whatever_the_units_of_the_lr(name):
    """Every LR times 10 (the fitted runs' and the forecast's) changes no forecast: with the options a
    user gets by default, priors included."""
    truth = Law.given(name, LAWS[name].EXAMPLE, peak_lr=PEAK, warmup=WARMUP, total=TOTAL)
    a = fit_law(*curves(truth), law=name)
    b = fit_law(*curves(truth, scale=10.0), law=name)
    np.testing.assert_allclose(unseen(b, scale=10.0), unseen(a), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(LAWS))
def test_a_law_saved_and_loaded_forecasts_the_same(name, tmp_path):
    truth = Law.given(name, LAWS[name].EXAMPLE, peak_lr=PEAK, warmup=WARMUP, total=TOTAL)
    truth.save(tmp_path / "law.json")
    np.testing.assert_array_equal(unseen(Law.load(tmp_path / "law.json")), unseen(truth))


COPY = "aaa_momentum_copy"  # sorts before every law, so auto lists it first


@pytest.mark.slow
def test_a_law_added_as_one_file_is_fitted_chosen_by_auto_and_predicted_through_the_cli(tmp_path):
    """A copy of the momentum law under another name, dropped into lrforecast/laws/ and nothing else
    touched: `lrforecast fit` (auto) fits and cross-validates it with the others and, on curves of the
    momentum law, keeps it; `predict` forecasts with it."""
    laws_dir = Path(LAWS["momentum"].__file__).parent
    source = (laws_dir / "momentum.py").read_text().replace('name = "momentum"', f'name = "{COPY}"')
    added = laws_dir / f"{COPY}.py"
    truth = Law.given("momentum", LAWS["momentum"].EXAMPLE, peak_lr=PEAK, warmup=WARMUP, total=TOTAL)
    runs, scheds = curves(truth)
    args = []
    for r, s in zip(runs, scheds, strict=True):
        path = tmp_path / f"{r.name}.csv"
        rows = "".join(f"{st},{float(y)!r}\n" for st, y in zip(r.steps, r.loss, strict=True))
        path.write_text("step,loss\n" + rows)
        args += [str(path), "--schedule", s.spec]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    cli = [sys.executable, "-m", "lrforecast"]
    try:
        added.write_text(source)
        done = subprocess.run(cli + ["fit", *args, "-o", str(tmp_path / "law.json")], capture_output=True,
                              text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stderr
        law = json.loads((tmp_path / "law.json").read_text())
        assert COPY in law["selection"]["cv"] and law["law"] == COPY, law["selection"]["rule"]
        shown = subprocess.run(cli + ["predict", str(tmp_path / "law.json"), "-s", UNSEEN, "--every", "1000"],
                               capture_output=True, text=True, env=env, timeout=600)
        assert shown.returncode == 0, shown.stderr
        rows = [line.split(",") for line in shown.stdout.splitlines()[1:]]
        got = np.array([float(r[2]) for r in rows])
        want = truth.predict_lr(parse_schedule(UNSEEN).lr(), np.array([int(r[0]) for r in rows]), WARMUP)
        np.testing.assert_allclose(got, want, rtol=1e-3)
    finally:
        added.unlink(missing_ok=True)
    assert subprocess.run(cli + ["predict", str(tmp_path / "law.json"), "-s", UNSEEN], capture_output=True,
                          text=True, env=env, timeout=600).returncode == 2  # gone: the law is unknown again
