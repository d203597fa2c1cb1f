import numpy as np
import pytest

from lrforecast.errors import InputError
from lrforecast.readers import read_run
from lrforecast.resolve import resolve
from lrforecast.schedules import (
    BUILTIN,
    load_presets,
    parse_schedule,
    split_specs,
)

from .conftest import MPL


@pytest.mark.parametrize("size", ["25m", "100m"])
def test_every_reference_spec_reproduces_its_lr_column(size, mpl_runs):
    for name, spec in mpl_runs["runs"].items():
        run = read_run(MPL / size / f"{name}.csv")
        eta = parse_schedule(spec).lr()
        inside = run.steps < eta.size
        assert inside.sum() >= run.steps.size - 1, name
        np.testing.assert_allclose(eta[run.steps[inside]], run.lr[inside], rtol=1e-12, err_msg=name)


def test_warmup_is_linear_from_zero_to_peak():
    eta = parse_schedule("constant:peak=1e-3:warmup=10:total=20").lr()
    np.testing.assert_allclose(eta[:11], np.linspace(0, 1e-3, 11))
    assert np.all(eta[10:] == 1e-3)


def test_wsd_shapes_start_at_peak_and_end_near_min():
    for shape in ("linear", "cosine", "1-sqrt", "sqrt", "minus_sqrt", "exp"):
        eta = parse_schedule(f"wsd:peak=1:min=0.1:total=1000:decay=0.2:shape={shape}").lr()
        assert eta[799] == 1.0 and eta[800] == pytest.approx(1.0)
        assert np.all(np.diff(eta[800:]) <= 1e-12)
        assert eta[-1] == pytest.approx(0.1, abs=0.02)


def test_decay_start_and_decay_fraction_agree():
    a = parse_schedule("wsd:peak=1:total=1000:decay=0.25").lr()
    b = parse_schedule("warmup_stable_decay:peak=1:total=1000:decay_start=750").lr()
    np.testing.assert_array_equal(a, b)


def test_hugging_face_and_megatron_names_are_understood():
    hf = parse_schedule("cosine_with_min_lr:lr=3e-4:min_lr_rate=0.1:num_warmup_steps=100:"
                        "num_training_steps=1000")
    ours = parse_schedule("cosine:peak=3e-4:min_ratio=0.1:warmup=100:total=1000")
    np.testing.assert_array_equal(hf.lr(), ours.lr())
    assert hf.spec == ours.spec and hf.label.startswith("cosine_with_min_lr")
    wsd = parse_schedule("warmup_stable_decay:max_lr=1:min_lr=0.1:warmup_steps=10:total_steps=100:"
                         "decay_type=linear")
    assert wsd.spec == "wsd:peak=1:min=0.1:warmup=10:total=100:shape=linear"
    assert parse_schedule("inverse-square-root:peak=1:warmup=10:total=100").name == "inverse_sqrt"
    assert parse_schedule("multistep:peak=1:total=100:at=50:to=0.1").lr()[50] == 0.1


def test_step_schedule_drops_at_each_step():
    eta = parse_schedule("step:peak=3e-4:total=100:at=50/80:to=1e-4/1e-5").lr()
    assert eta[49] == 3e-4 and eta[50] == 1e-4 and eta[79] == 1e-4 and eta[80] == 1e-5


def test_defaults_fill_only_what_the_spec_leaves_out():
    s = parse_schedule("cosine:total=500", {"peak": 2e-4, "warmup": 50, "total": 900, "min": None})
    assert s.params == {"total": 500, "peak": 2e-4, "warmup": 50}
    assert s.lr()[-1] == pytest.approx(2e-5, rel=1e-2)  # 10% of peak by default


def test_presets_parse_and_are_listed():
    presets = load_presets()
    assert {"cosine-to-zero", "wsd-1sqrt-20", "constant-linear-decay"} <= set(presets)
    assert not set(presets) & set(BUILTIN)  # a built-in name always wins, so such a preset is dead
    eta = parse_schedule("wsd-1sqrt-20:total=1000", {"peak": 1.0}).lr()
    assert eta[799] == 1.0 and eta[-1] < 0.05


def test_file_schedule(tmp_path):
    f = tmp_path / "lr.txt"
    f.write_text("lr\n" + "\n".join(str(1e-3 * (1 - i / 100)) for i in range(100)))
    s = resolve(parse_schedule(f"file:{f}"))
    assert s.lr().size == 100 and s.peak == pytest.approx(1e-3)
    g = tmp_path / "lr.csv"
    g.write_text("step,lr\n0,1.0\n10,0.0\n")
    np.testing.assert_allclose(resolve(parse_schedule(f"file:{g}")).lr()[:3], [1.0, 0.9, 0.8])


@pytest.mark.parametrize("spec, words", [
    ("nosuch:total=10", "unknown schedule"),
    ("cosine:total", "not KEY=VALUE"),
    ("cosine:peak=abc:total=10", "not a number"),
    ("cosine:frobnicate=1:peak=1:total=10", "unknown key"),
    ("cosine:peak=-1:total=10", "peak must be a number > 0"),
    ("step:peak=1:total=10:at=20:to=0.1", "at=20 is not before the last step"),
    ("cosine:peak=1:total=0", "total must be >= 1"),
    ("step:peak=1:total=10:at=5:to=-1", "negative"),
    ("step:peak=1:total=10:at=5/6:to=0.1", "equal length"),
    ("wsd:peak=1:min=0:total=10:shape=exp", "min > 0"),
    ("wsd:peak=1:total=10:shape=square", "shape=square is unknown"),
    ("cosine:peak=1:warmup=20:total=10", "warmup"),
    ("wsd:peak=1:total=10:decay=0.1..0.3", "sweeps values .* which compare and plan take"),
])
def test_bad_specs_say_what_is_wrong(spec, words):
    with pytest.raises(InputError, match=words):
        parse_schedule(spec)


def test_option_defaults_are_checked_like_spec_values():
    for bad, words in (({"peak": float("nan")}, "peak must be a number > 0"),
                       ({"min": float("nan")}, "min must be a number >= 0"),
                       ({"warmup": -5}, "warmup must be a whole number >= 0"),
                       ({"total": -5}, "total must be >= 1")):
        with pytest.raises(InputError, match=words):  # as --peak-lr, --min-lr, --warmup, --steps give them
            parse_schedule("cosine", {"peak": 1e-3, "total": 100, **bad})


@pytest.mark.slow
def test_a_length_beyond_max_steps_is_refused_before_memory_runs_out(tmp_path):
    from lrforecast.schedules import MAX_STEPS
    assert parse_schedule(f"cosine:peak=1:total={MAX_STEPS}").lr().size == MAX_STEPS
    with pytest.raises(InputError, match="3,000,000,000 steps is more than lrforecast forecasts"):
        parse_schedule("cosine:peak=1:total=3000000000")  # a typo, as --steps gives it too
    log = tmp_path / "a.csv"
    log.write_text("step,loss\n10,3\n20,2.9\n30000000000,2.8\n")  # a step column gone wrong
    with pytest.raises(InputError, match="30,000,000,001 steps .* or the step column"):
        parse_schedule("cosine:peak=1").lr_for(read_run(log))


def test_missing_total_asks_for_one():
    with pytest.raises(InputError, match="total=N or --steps"):
        parse_schedule("cosine:peak=1").lr()


def test_split_specs():
    assert split_specs("cosine, wsd:decay=0.2,constant") == ["cosine", "wsd:decay=0.2", "constant"]
    with pytest.raises(InputError):
        split_specs(" , ")


@pytest.mark.parametrize("spec, every", [
    ("cosine:peak=3e-4:warmup=500:total=20000:min=0", 10),
    ("linear:peak=2e-4:warmup=0:total=3000:min=0", 25),
    ("constant:peak=1e-3:warmup=200:total=10001", 50),
    ("cosine:peak=6e-4:warmup=0:total=9000:min=0", 100),
    ("cosine:peak=6e-4:warmup=700:total=19000:min=6e-5", 100),  # nanoGPT, Megatron: a floor
    ("wsd:peak=3e-4:warmup=100:total=5001:decay_start=3501:shape=1-sqrt:min=0", 10),
    ("wsd:peak=3e-4:warmup=500:total=20000:decay_start=16000:shape=cosine:min=3e-05", 50),
    ("wsd:peak=1e-3:warmup=0:total=10000:decay_start=9000:shape=linear:min=0", 25),
])
def test_a_standard_schedule_logged_every_few_steps_is_recognised(spec, every):
    from lrforecast.recognise import recognise
    want = parse_schedule(spec)
    steps = np.arange(every, want.total, every)
    found, _, worst = recognise(steps, want.lr()[steps])
    assert found is not None and worst < 1e-3, (found, worst)
    assert (found.name, found.peak, found.warmup) == (want.name, want.peak, want.warmup)
    assert abs(found.total - want.total) <= 1
    for key in ("min", "decay_start", "shape"):
        assert found.params.get(key) == want.params.get(key), key


def _hf_factor(name: str, t: int, W: int, T: int, **kw) -> float:
    """Hugging Face transformers' schedule factors (optimization.py), step by step."""
    import math
    if t < W:
        return t / max(1, W)
    p = (t - W) / max(1, T - W)
    if name == "cosine_with_restarts":
        return 0.0 if p >= 1.0 else max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((kw["num_cycles"] * p) % 1.0))))
    if name == "polynomial":
        lr_end, init = kw["lr_end"], kw["lr"]
        if t > T:
            return lr_end / init
        return ((init - lr_end) * (1 - (t - W) / (T - W)) ** kw["power"] + lr_end) / init
    raise ValueError(name)


@pytest.mark.parametrize("spec, name, kw", [
    ("cosine_with_restarts:peak=2e-4:warmup=30:total=1000:num_cycles=3", "cosine_with_restarts",
     {"num_cycles": 3}),
    ("polynomial:peak=2e-4:warmup_ratio=0.03:total=1000:power=2", "polynomial",
     {"lr_end": 1e-7, "lr": 2e-4, "power": 2}),
])
def test_hugging_face_schedule_names_give_their_lr_at_every_step(spec, name, kw):
    s = parse_schedule(spec)
    assert s.warmup == 30  # warmup_ratio 0.03 of 1000 steps: ceil(30) as Hugging Face counts it
    want = [2e-4 * _hf_factor(name, t, 30, 1000, **kw) for t in range(1000)]
    np.testing.assert_allclose(s.lr(), want, rtol=1e-12, atol=1e-18)


def test_pytorch_one_cycle_and_cosine_annealing_give_their_lr_at_every_step():
    """OneCycleLR (cos, defaults pct_start 0.3, div_factor 25, final_div_factor 1e4) and
    CosineAnnealingLR (eta_min 0) by PyTorch's closed forms, step by step."""
    import math
    T, peak = 1000, 3e-3
    start, end = peak / 25, peak / 25 / 1e4
    top = 0.3 * T - 1

    def cos(a, b, pct):
        return b + (a - b) / 2 * (math.cos(math.pi * pct) + 1)

    want = [cos(start, peak, t / top) if t <= top else cos(peak, end, (t - top) / (T - 1 - top))
            for t in range(T)]
    one = parse_schedule(f"OneCycleLR:max_lr={peak}:total_steps={T}")
    np.testing.assert_allclose(one.lr(), want, rtol=1e-12)
    assert one.warmup == 299 and parse_schedule(one.spec).spec == one.spec
    annealing = parse_schedule(f"CosineAnnealingLR:lr={peak}:T_max={T}")
    np.testing.assert_allclose(annealing.lr(), [peak * (1 + math.cos(math.pi * t / T)) / 2 for t in range(T)],
                               rtol=1e-12, atol=1e-18)


def test_warmup_ratio_needs_a_total():
    with pytest.raises(InputError, match="warmup_ratio"):
        parse_schedule("cosine:peak=1e-3:warmup_ratio=0.1")


def test_a_cooldown_in_absolute_steps():
    """wsd:decay_steps=N decays over the last N steps whatever the length (a fraction undercools
    short runs); it overrides a preset's fraction, sweeps in whole steps, and plan moves it with the
    length it chooses."""
    from lrforecast.sweep import expand_sweeps
    s = parse_schedule("wsd:peak=1e-3:warmup=100:total=1000:decay_steps=300:shape=linear")
    eta = s.lr()
    assert eta[699] == 1e-3 and eta[700] == 1e-3 > eta[701]
    assert eta[-1] == pytest.approx(1e-4 + 9e-4 / 300)  # linear to min (10% of peak) at step 1000
    longer = parse_schedule("wsd:peak=1e-3:warmup=100:total=5000:decay_steps=300:shape=linear").lr()
    np.testing.assert_array_equal(longer[-300:], eta[-300:])  # the same cooldown at any length
    preset = parse_schedule("wsd-1sqrt-20:peak=1e-3:total=1000:decay_steps=300")
    assert "decay=" not in preset.spec and np.flatnonzero(np.diff(preset.lr()) < 0)[0] == 700
    assert expand_sweeps(["wsd:decay_steps=2000..20000/4"]) == [
        "wsd:decay_steps=2000", "wsd:decay_steps=8000", "wsd:decay_steps=14000", "wsd:decay_steps=20000"]
    with pytest.raises(InputError, match="decay_steps"):
        parse_schedule("wsd:peak=1e-3:warmup=100:total=1000:decay_steps=950")


def test_inverse_sqrt_needs_a_timescale_above_zero():
    with pytest.raises(InputError, match="timescale"):
        parse_schedule("inverse_sqrt:peak=3e-4:total=5000:timescale=0")
