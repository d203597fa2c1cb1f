import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrforecast.areas import annealing_area, forward_area, lr_decay, lr_drops
from lrforecast.schedules import parse_schedule


def loop_s2(eta, lam, before):
    """The momentum law's S2 written as the paper's recursion, one step at a time."""
    m, s2, prev, out = 0.0, 0.0, before, []
    for e in eta:
        m = lam * m + (prev - e)
        s2 += m
        prev = e
        out.append(s2)
    return np.array(out)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.floats(0, 1e-3), min_size=1, max_size=200), st.floats(0, 0.9999))
def test_s2_matches_the_recursion(values, lam):
    eta = np.array(values)
    np.testing.assert_allclose(annealing_area(eta, lam, 0, "real"), loop_s2(eta, lam, 0.0),
                               rtol=1e-9, atol=1e-12)


def test_s2_closed_form_and_limits():
    eta = parse_schedule("cosine:peak=3e-4:warmup=100:total=3000").lr()
    lam = 0.995
    s2 = annealing_area(eta, lam, 100, "real")
    m = np.diff(np.r_[0.0, s2])
    # S2(s) = ((eta_before - eta_s) - lam * m_s) / (1 - lam), with eta_before = 0 in "real" mode
    np.testing.assert_allclose(s2, ((0.0 - eta) - lam * m) / (1 - lam), rtol=1e-9, atol=1e-12)
    # lam = 0: S2 is the total drop so far
    np.testing.assert_allclose(annealing_area(eta, 0.0, 100, "real"), -eta, atol=1e-15)


def test_warmup_modes():
    eta = parse_schedule("step:peak=1:warmup=10:total=40:at=20:to=0.5").lr()
    assert forward_area(eta, 10, "peak")[9] == 10.0
    assert forward_area(eta, 10, "real")[9] == sum(i / 10 for i in range(10))
    d = lr_drops(eta, 10, "real-s1")
    assert d[:11].sum() == 0 and d[20] == 0.5 and d.sum() == 0.5
    assert lr_drops(eta, 10, "peak").sum() == 0.5
    assert lr_drops(eta, 10, "real").sum() == pytest.approx(-0.5)  # the warmup rise: negative drops


def test_lr_decay_is_the_fall_below_peak_after_the_peak():
    wsd = parse_schedule("wsd:peak=1e-3:min=1e-4:warmup=100:total=1000:decay=0.2").lr()
    assert lr_decay(wsd) == pytest.approx(0.9, abs=0.01)  # towards min = 10% of peak, at step total
    assert lr_decay(wsd, stop=799) == 0.0  # the warmup's rise is not a decay; the cooldown starts at 800
    assert 0.0 < lr_decay(wsd, stop=850) < 0.9
    assert lr_decay(parse_schedule("constant:peak=1e-3:warmup=100:total=1000").lr()) == 0.0
    assert lr_decay(wsd, stop=50) == 0.0  # half-way up the warmup: nothing has decayed yet


@pytest.mark.parametrize("lam", [0.0, 0.3, 0.9, 0.995, 0.9999, 0.999999])
def test_the_decayed_sum_is_what_scipys_lfilter_gives(lam):
    from scipy.signal import lfilter

    from lrforecast.areas import decayed_sum
    x = np.random.default_rng(1).normal(size=300_007) * 1e-4  # blocks of every length, a ragged end
    want = lfilter([1.0], [1.0, -lam], x)
    np.testing.assert_allclose(decayed_sum(x, lam), want, rtol=1e-9, atol=1e-12 * np.max(np.abs(want)))
