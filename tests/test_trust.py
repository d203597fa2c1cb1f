"""Never a confident wrong answer: a forecast no loss can have is refused, a law its own fit doubts
fails every gate, a damaged law file is refused on load, an input is never written over."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from lrforecast import Law, predict
from lrforecast.errors import EXIT_EXPECTATION, EXIT_FIT, EXIT_INPUT, ForecastError
from lrforecast.laws import LAWS
from lrforecast.schedules import parse_schedule

PEAK, WARMUP, TOTAL = 3e-4, 500, 12000


def law_with(tmp_path, name: str = "momentum", mode: str = "real", **changes) -> tuple[Law, str]:
    """The law's example parameters with `changes`, as a law file. In warmup mode `peak` the
    momentum law's annealing term counts a decay from the peak, so a large C takes a loss down."""
    law = Law.given(name, {**LAWS[name].EXAMPLE, **changes}, peak_lr=PEAK, warmup=WARMUP, total=TOTAL,
                    warmup_mode=mode)
    path = tmp_path / "law.json"
    law.save(path)
    return law, str(path)


def test_a_forecast_below_zero_is_refused_saying_why(tmp_path, cli):
    law, path = law_with(tmp_path, mode="peak", C=1e4)  # an annealing term that takes the loss through zero
    with pytest.raises(ForecastError, match="at or below zero"):
        predict(law, parse_schedule("cosine:min=0", {"peak": PEAK, "warmup": WARMUP, "total": TOTAL}))
    r = cli("predict", path, "-s", "cosine:min=0", "--every", "1000")
    assert r.code == EXIT_FIT and r.out == "" and len(r.err.strip().splitlines()) == 1
    for command in (["compare", path, "--schedules", "cosine:min=0,constant"],
                    ["plan", path, "--target-loss", "2.6", "--schedules", "cosine:min=0"]):
        assert cli(*command).code == EXIT_FIT
    assert cli("predict", path, "-s", "constant", "--every", "1000").code == 0  # no decay: a loss


def test_a_forecast_below_the_floor_is_refused(tmp_path):
    law, _ = law_with(tmp_path, mode="peak", C=5.0)
    sched = parse_schedule("cosine:min=0", {"peak": PEAK, "warmup": WARMUP, "total": TOTAL})
    loss = law.predict_lr(sched.lr(), np.arange(WARMUP, TOTAL), WARMUP)
    assert loss.min() < law.floor and loss.min() > 0
    with pytest.raises(ForecastError, match="below the law's floor"):
        predict(law, sched)


def test_a_law_whose_floor_is_below_zero_fails_every_gate_unless_allowed(tmp_path, cli):
    _, path = law_with(tmp_path, L0=-0.5, A=3.5)  # a fine-tune's fit: the loss tending below zero
    d = json.loads(open(path).read())
    assert d["doubts"] == []  # a hand-edited file: the floor alone is reason enough
    gate = ["compare", path, "--schedules", "constant,cosine", "--expect-best", "constant"]
    r = cli(*gate)
    assert r.code == EXIT_EXPECTATION and "not to be trusted" in r.err and "--allow-untrusted" in r.err
    assert cli(*gate, "--allow-untrusted").code == 0
    r = cli(*gate, "--json")
    assert json.loads(r.out)["expectation"]["untrusted"] and r.code == EXIT_EXPECTATION


@pytest.mark.parametrize("field, value, words", [
    ("alpha", float("nan"), "alpha is nan"),
    ("alpha", -1.0, "outside the law's range"),
    ("A", -0.5, "negative"),
    ("C", float("inf"), "C is inf"),
    ("L0", 1e308, "L0 is 1e+308"),
])
def test_a_law_file_with_numbers_no_fit_gives_is_refused_on_load(tmp_path, cli, field, value, words):
    _, path = law_with(tmp_path)
    d = json.loads(open(path).read())
    d["params"][field] = value
    with open(path, "w") as f:
        f.write(json.dumps(d))  # NaN and Infinity as Python writes them
    r = cli("compare", path, "--schedules", "cosine,wsd", "--expect-best", "wsd")
    assert r.code == EXIT_INPUT and words in r.err and "refit it" in r.err and r.out == ""


def test_an_output_over_the_schedule_file_it_reads_is_refused(tmp_path, cli):
    _, path = law_with(tmp_path)
    lr = tmp_path / "lr.csv"
    lr.write_text("".join(f"{PEAK * min(1.0, (t + 1) / WARMUP)}\n" for t in range(TOTAL)))
    before = hashlib.sha256(lr.read_bytes()).hexdigest()
    r = cli("predict", path, "--schedule", f"file:{lr}", "-o", lr)
    assert r.code == EXIT_INPUT and "overwrite an input" in r.err
    assert hashlib.sha256(lr.read_bytes()).hexdigest() == before
