"""`watch`: a run's forecast as its log grows, on the llm.c GPT-2 124M log written while it runs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lrforecast.metrics import noise_level, trend_window
from lrforecast.readers import read_run
from lrforecast.schedules import parse_schedule
from lrforecast.watching import follow

from .conftest import REAL

LOG = "llmc-gpt2-124m-fineweb10b-main.log"
SCHEDULE = "cosine:peak=6e-4:warmup=700:min=0:total=19552"  # llm.c's: 700 warmup steps, cosine to 0


def _final_loss() -> float:
    """The run's real final loss as `evaluate` measures a noisy log's end: the mean of its last k
    per-batch losses, k enough to average their scatter down to 0.1% of the loss (120 here)."""
    loss = read_run(REAL / LOG).loss
    return float(np.mean(loss[-trend_window(loss, noise_level(loss)):]))


def _lines(share: float) -> bytes:
    lines = (REAL / LOG).read_bytes().splitlines(keepends=True)
    return b"".join(lines[: int(len(lines) * share)])


@pytest.mark.slow
def test_watch_follows_a_log_written_while_it_runs(tmp_path):
    """The log grows from 40% to 60% to all of it between reads: one forecast per growth, each
    later than the last, ending at the run's last step; the final forecast, fitted on the whole
    run, holds the run's real final loss (the mean of its last 100 per-batch losses) in its range."""
    path = tmp_path / "main.log"
    path.write_bytes(_lines(0.4))
    growth = iter([0.4, 0.6, 0.6, 1.0])  # a read with nothing new in between: no refit

    def grow(_seconds: float) -> None:
        path.write_bytes(_lines(next(growth)))

    updates = [u for _, _, _, u in follow(path, parse_schedule(SCHEDULE), interval=0.0, sleep=grow,
                                       target=3.4)]
    assert [u.done for u in updates] == [False, False, True]
    assert np.all(np.diff([u.step for u in updates]) > 0)
    real = _final_loss()
    last = updates[-1]
    assert last.final_range[0] <= real <= last.final_range[1] and abs(last.final_loss - real) < 0.01
    assert all(u.target_step is not None and u.target_steps[0] <= u.target_step for u in updates)


@pytest.mark.slow
def test_watch_once_json_gives_one_forecast_of_a_run_in_progress(cli, tmp_path):
    path = tmp_path / "main.log"
    path.write_bytes(_lines(0.4))
    r = cli("watch", path, "--schedule", SCHEDULE, "--once", "--json", "--target-loss", "3.4")
    assert r.code == 0, r.err
    (update,) = [json.loads(line) for line in r.out.splitlines()]
    assert update["step"] == read_run(path).steps[-1] and update["done"] is False
    low, high = update["final_range"]
    assert low < update["final_loss"] < high and update["final_step"] == 19551
    short = tmp_path / "short.log"
    short.write_bytes(_lines(0.0001))
    assert cli("watch", short, "--schedule", SCHEDULE, "--once").code == 2
    assert cli("watch", path, "--schedule", "cosine:peak=6e-4").code == 2  # no total


@pytest.mark.slow
def test_watch_once_on_a_growing_cosine_gives_ranges_that_hold_where_the_run_ends(cli, tmp_path):
    """The log grows from its first 40% to 60%: there the fit has seen a third, then two thirds of
    the decay, and the law credits the rest with too little (the forecast ends 1.5% too high each
    time): the range must say so. Its gain envelope and its error per unit of unseen decay
    (envelope.py, ranges.range_error) make each update's range hold the real final loss."""
    path = tmp_path / "main.log"
    real = _final_loss()
    for share in (0.4, 0.6):
        path.write_bytes(_lines(share))
        r = cli("watch", path, "--schedule", SCHEDULE, "--once", "--json")
        assert r.code == 0, r.err
        (update,) = [json.loads(line) for line in r.out.splitlines()]
        low, high = update["final_range"]
        assert low <= real <= high, share
        assert update["final_loss"] > real  # what the range is for: the forecast alone misses
