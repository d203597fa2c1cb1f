import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrforecast import fit
from lrforecast.areas import area_lr, lr_drops
from lrforecast.law import Law
from lrforecast.laws.base import Curve
from lrforecast.laws.multipower import (
    basis,
    eval_steps,
    in_peak_units,
    ld_error_bound,
    ld_from_blocks,
    make_blocks,
)
from lrforecast.run import Run
from lrforecast.schedules import parse_schedule


def loop_ld(eta, steps, beta, gamma, C, before=0.0):
    """LD(t) = sum_{k<=t} (eta_{k-1} - eta_k) G(eta_k^-gamma S_k(t)), one term at a time."""
    out = []
    for t in steps:
        total = 0.0
        for k in range(t + 1):
            prev = before if k == 0 else eta[k - 1]
            d = prev - eta[k]
            if d == 0:
                continue
            s = sum(eta[k:t + 1])
            x = C * eta[k] ** -gamma * s if eta[k] > 0 else (np.inf if s > 0 else 0.0)
            total += d * (1 - (x + 1) ** -beta)
        out.append(total)
    return np.array(out)


def blocked_ld(eta, steps, beta, gamma, C, max_block=64):
    d = lr_drops(eta, 0, "real")
    blocks = make_blocks(eta, d, steps, max_block)
    return ld_from_blocks(blocks, np.cumsum(eta)[steps], steps, beta, gamma, C), blocks


SMALL = ["cosine:peak=1e-3:min=1e-4:warmup=20:total=300", "wsd:peak=1e-3:min=0:total=300:decay=0.3",
         "step:peak=1e-3:warmup=10:total=300:at=100/200:to=5e-4/1e-4", "linear:peak=1e-3:min=0:total=250",
         "wsd:peak=1e-3:min=1e-4:warmup=30:total=280:decay=0.5:shape=exp"]


@pytest.mark.parametrize("spec", SMALL)
@pytest.mark.parametrize("params", [(0.58, 0.64, 2.07), (0.2, 0.9, 0.05), (0.9, 0.3, 30.0)])
def test_ld_matches_the_double_loop(spec, params):
    eta = parse_schedule(spec).lr()
    steps = np.unique(np.r_[np.arange(5, eta.size, 17), eta.size - 1])
    ref = loop_ld(eta, steps, *params)
    exact, _ = blocked_ld(eta, steps, *params, max_block=1)
    np.testing.assert_allclose(exact, ref, rtol=1e-10, atol=1e-15)
    approx, blocks = blocked_ld(eta, steps, *params)
    bound = ld_error_bound(blocks, *params)
    assert np.max(np.abs(approx - ref)) <= bound + 1e-15
    assert ld_error_bound(make_blocks(eta, lr_drops(eta, 0, "real"), steps, 1), *params) == 0.0


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 1e-3)), min_size=3, max_size=60),
       st.floats(0.05, 0.95),
       st.floats(0.05, 0.95), st.floats(1e-3, 1e2))
def test_ld_any_schedule(values, beta, gamma, C):
    eta = np.array(values)
    steps = np.arange(1, eta.size, 3)
    if steps.size == 0:
        return
    ref = loop_ld(eta, steps, beta, gamma, C)
    got, blocks = blocked_ld(eta, steps, beta, gamma, C, max_block=8)
    rounding = 1e-7 * np.abs(ref).max() + 1e-18
    assert np.max(np.abs(got - ref)) <= ld_error_bound(blocks, beta, gamma, C) + rounding


@pytest.mark.parametrize("spec", [
    "cosine:peak=3e-4:min=3e-5:warmup=2160:total=72000",
    "wsd:peak=3e-4:min=3e-5:warmup=2160:total=24000:decay_start=20000:shape=exp",
    "step:peak=3e-4:warmup=2160:total=16000:at=8000:to=3e-5"])
def test_compression_on_reference_schedules_is_small_and_bounded(spec):
    eta = parse_schedule(spec).lr()
    steps = np.arange(2160, eta.size, 128)
    d = lr_drops(eta, 2160, "real")
    params = (0.58, 0.64, 2.07)
    exact = ld_from_blocks(make_blocks(eta, d, steps, 1), np.cumsum(eta)[steps], steps, *params)
    blocks = make_blocks(eta, d, steps)
    approx = ld_from_blocks(blocks, np.cumsum(eta)[steps], steps, *params)
    err = np.max(np.abs(approx - exact))
    assert err <= ld_error_bound(blocks, *params)
    assert err <= 1e-3 * np.max(np.abs(exact))  # in loss units: B (~400) * err < 2e-4
    assert blocks.drop.size < 0.15 * np.count_nonzero(d)


@pytest.mark.parametrize("spec, first", [
    ("step:peak=3e-4:warmup=2160:total=30000:at=20000:to=3e-5", 2160),
    ("step:peak=3e-4:warmup=2160:total=300000:at=200000/250000:to=1e-4/3e-5", 1),  # from inside warmup
    ("wsd:peak=3e-4:warmup=2160:total=300000", 1),
    ("constant:peak=3e-4:total=300000", 1),  # no warmup: the LR jumps from 0 at step 0
])
def test_dense_prediction_interpolates_ld_closely(spec, first):
    eta = parse_schedule(spec).lr()
    warmup = parse_schedule(spec).warmup
    steps = np.arange(first, eta.size)
    theta = {"alpha": 0.5, "beta": 0.58, "gamma": 0.64, "C": 2.07}
    dense = basis(Curve(eta, steps, warmup), theta, "real")[:, 2]
    at = np.r_[np.arange(0, 400, 7), np.arange(0, steps.size, 997)]  # the first steps bend fastest
    direct = basis(Curve(eta, steps[at], warmup), theta, "real")[:, 2]
    assert eval_steps(eta, steps).size <= 1500
    err, size = np.abs(dense[at] - direct), np.max(np.abs(direct))
    # in loss units B (~400) * LD: below 1.2e-4 after warmup, 5e-4 within it (0.02% of a loss of 3)
    assert np.all(err[steps[at] >= warmup] <= 1e-3 * size) and np.all(err <= 4e-3 * size)


@pytest.mark.slow
def test_fit_recovers_a_known_multipower_law():
    specs = ["cosine:peak=3e-4:min=3e-5:warmup=500:total=12000",
             "step:peak=3e-4:warmup=500:total=12000:at=7000:to=6e-5",
             "constant:peak=3e-4:warmup=500:total=12000"]
    sched = [parse_schedule(s) for s in specs]
    raw = {"L0": 2.6, "A": 0.6, "B": 450.0, "alpha": 0.45, "beta": 0.6, "gamma": 0.65, "C": 2.0}
    truth = Law.given("multipower", in_peak_units(raw, 3e-4), peak_lr=3e-4, warmup=500, total=12000)
    runs = []
    for i, s in enumerate(sched):
        steps = np.arange(500, 12000, 64)
        runs.append(Run.from_points(f"r{i}", steps, truth.predict_lr(s.lr(), steps, 500)))
    law = fit(runs, sched, law="multipower", prior=0, robust=False)
    for r in law.runs:
        assert r.metrics["WorstE"] < 1e-4
    test = parse_schedule("wsd:peak=3e-4:min=0:warmup=500:total=12000:decay=0.3")
    steps = np.arange(600, 12000, 50)
    np.testing.assert_allclose(law.predict_lr(test.lr(), steps, 500),
                               truth.predict_lr(test.lr(), steps, 500), rtol=2e-4)


def test_no_drops_means_no_annealing_term():
    eta = parse_schedule("constant:peak=3e-4:total=5000").lr()
    d = lr_drops(area_lr(eta, 0, "real-s1"), 0, "real-s1")
    blocks = make_blocks(eta, d, np.arange(100, 5000, 100))
    assert blocks.drop.size == 0
    assert np.all(ld_from_blocks(blocks, np.cumsum(eta)[100::100], np.arange(100, 5000, 100),
                                 0.5, 0.5, 1.0) == 0)


# The authors' fitted parameters and their per-run test metrics (R2, MAE, RMSE, PredE, WorstE) as
# their reference code prints them (shared/research/mpl-reference.md, sections 3.1 and 3.2).
AUTHORS = {
    "25m": ((3.040454, 0.524687, 0.507868, 363.7887, 2.065612, 0.582791, 0.641423), {
        "constant_72000": (0.99976, 0.00158, 0.00188, 0.00047, 0.00202),
        "cosine_72000": (0.99662, 0.00744, 0.00801, 0.00224, 0.00706),
        "wsd_20000_24000": (0.99922, 0.00341, 0.00430, 0.00100, 0.00298),
        "wsdld_20000_24000": (0.99936, 0.00314, 0.00383, 0.00092, 0.00311),
        "wsdcon_3": (0.99825, 0.00449, 0.00678, 0.00129, 0.00642),
        "wsdcon_18": (0.99961, 0.00250, 0.00311, 0.00071, 0.00298)}),
    "100m": ((2.651448, 0.601152, 0.452958, 437.9464, 2.132456, 0.597852, 0.655236), {
        "constant_72000": (0.99796, 0.00478, 0.00567, 0.00158, 0.00664),
        "cosine_72000": (0.99699, 0.00727, 0.00821, 0.00245, 0.00455),
        "wsd_20000_24000": (0.99867, 0.00375, 0.00592, 0.00123, 0.00523),
        "wsdld_20000_24000": (0.99904, 0.00325, 0.00492, 0.00106, 0.00572),
        "wsdcon_3": (0.99728, 0.00567, 0.00890, 0.00181, 0.01034),
        "wsdcon_18": (0.99987, 0.00138, 0.00190, 0.00043, 0.00251)}),
}


@pytest.mark.parametrize("size", sorted(AUTHORS))
def test_the_authors_parameters_give_their_published_test_metrics(size, mpl_runs):
    from lrforecast.metrics import METRICS, curve_metrics
    from lrforecast.readers import read_run

    from .conftest import MPL

    (L0, A, alpha, B, C, beta, gamma), published = AUTHORS[size]
    raw = dict(L0=L0, A=A, B=B, alpha=alpha, beta=beta, gamma=gamma, C=C)  # for the LR as it is
    law = Law.given("multipower", in_peak_units(raw, 3e-4), peak_lr=3e-4, warmup=2160, total=24000)
    for name, expected in published.items():
        run = read_run(MPL / size / f"{name}.csv")
        sched = parse_schedule(mpl_runs["runs"][name])
        eta = sched.lr(sched.total)
        eta[:2160] = np.linspace(0.0, 3e-4, 2160)  # their warmup reaches the peak at step 2159
        got = curve_metrics(run.loss, law.predict_lr(eta, run.steps, 2160))
        for metric, want in zip(METRICS, expected, strict=True):
            assert got[metric] == pytest.approx(want, abs=1.5e-5), (name, metric)


@pytest.mark.slow
def test_the_gain_prior_lets_a_pilot_forecast_the_rest_of_its_decay():
    from lrforecast import evaluate
    from lrforecast.fitting import fit_law
    from lrforecast.laws.multipower import GAIN_PRIOR
    from lrforecast.readers import read_run
    from lrforecast.run import Run
    from lrforecast.selection import head

    from .conftest import REAL
    run = read_run(REAL / "llmc-gpt2-124m-fineweb10b-stdout.log")  # GPT-2 124M, llm.c, cosine to 0
    sched = parse_schedule("cosine:peak=6e-4:warmup=700:min=0:total=19560")
    pilot = head(run, 1 / 3)  # the LR has fallen 22% by its end
    rest = run.steps > pilot.steps[-1]
    unseen = Run("rest", run.steps[rest], run.loss[rest])
    end = {}
    for gain in (0.0, None):  # None: the default weight
        law = fit_law([pilot], [sched], law="multipower", gain_prior=gain)
        end[gain] = evaluate(law, unseen, sched).metrics["EndE"]
        b_share = law.params["B"] / np.median(pilot.loss[pilot.steps >= 700])  # B: per unit of the peak
        assert (b_share < 0.01) if gain == 0.0 else (0.5 * GAIN_PRIOR < b_share < GAIN_PRIOR)
    assert end[0.0] > 0.02 and end[None] < 0.01  # 2.96% and 0.61% off at the run's end


@pytest.mark.parametrize("spec", ["wsd:peak=1:min=0:warmup=100:total=20000:decay=0.2",
                                  "cosine:peak=1:min=0.1:warmup=100:total=20000",
                                  "step:peak=1:warmup=100:total=20000:at=10000/16000:to=0.3/0.09"])
def test_the_last_iterate_laws_noise_sum_matches_its_double_sum(spec):
    """laws/bound.py's blocked sum of eta_k^2 / (LR area from k to t) against the plain double sum."""
    from lrforecast.laws.bound import noise_sum

    u = parse_schedule(spec).lr()
    steps = np.unique(np.r_[np.arange(150, 20000, 173), 19999])
    cs = np.r_[0.0, np.cumsum(u)]
    exact = np.array([np.sum(u[: t + 1] ** 2 / (cs[t + 1] - cs[: t + 1])) for t in steps])
    assert np.max(np.abs(noise_sum(u, steps) / exact - 1)) < 5e-4
