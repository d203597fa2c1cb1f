import pytest

from lrforecast.errors import InputError
from lrforecast.schedules import parse_schedule
from lrforecast.sweep import MAX_CANDIDATES, SWEEP_VALUES, expand_sweeps, sweeps


def test_a_swept_key_gives_one_candidate_per_value():
    assert expand_sweeps(["wsd:decay=0.1..0.3/3:shape=linear", "cosine"]) == [
        "wsd:decay=0.1:shape=linear", "wsd:decay=0.2:shape=linear", "wsd:decay=0.3:shape=linear", "cosine"]
    tenths = expand_sweeps(["wsd:decay=0.05..0.5"])
    assert len(tenths) == SWEEP_VALUES and tenths[1] == "wsd:decay=0.1" and tenths[-1] == "wsd:decay=0.5"
    for spec in tenths:  # each parses, and its cooldown is that fraction of the run
        sched = parse_schedule(spec, {"peak": 1e-3, "total": 1000})
        assert sched.params["decay"] == pytest.approx(float(spec.split("=")[1]))
    # whole-number keys are rounded (and repeats dropped); aliases sweep as their key
    assert expand_sweeps(["cosine:num_training_steps=1000..1002/5"]) == [
        "cosine:num_training_steps=1000", "cosine:num_training_steps=1001", "cosine:num_training_steps=1002"]
    grid = expand_sweeps(["wsd:total=1000..2000/2:decay=0.1..0.2/2"])  # two sweeps: every combination
    assert grid == ["wsd:total=1000:decay=0.1", "wsd:total=1000:decay=0.2",
                    "wsd:total=2000:decay=0.1", "wsd:total=2000:decay=0.2"]
    assert expand_sweeps(["file:../lr.csv"]) == ["file:../lr.csv"]  # a path's '..' sweeps nothing
    grid = "wsd:total=1000..2000/2:decay=0.1..0.2/2"
    (one,) = sweeps(["wsd:decay=0.1..0.3/3:shape=linear", "cosine", grid])
    assert one.key == "decay" and one.values == pytest.approx((0.1, 0.2, 0.3))
    assert one.specs == tuple(expand_sweeps([one.spec]))
    assert sweeps(["wsd:min_lr=0..1e-5/2"])[0].key == "min"
    for bad, words in (("wsd:decay=0.1..x", "decay=x is not a number"),
                       ("wsd:decay=..0.3", "not a number"),
                       ("wsd:decay=0.1..0.3/1", "count after / must be a whole number from 2"),
                       ("wsd:decay=0.1..0.3/2.5", "whole number"),
                       ("wsd:decay=0..1/60:total=1..2/2", f"make 120 candidates, more than {MAX_CANDIDATES}"),
                       ("wsd:decay=0..1/100:min=0..1/100:warmup=0..9/10", "make 100,000 candidates")):
        with pytest.raises(InputError, match=words):
            expand_sweeps([bad])
