import json

import pytest

from lrforecast.errors import InputError
from lrforecast.forecast import compare
from lrforecast.planning import curves, plan
from lrforecast.reference import default_law


@pytest.fixture(scope="module")
def law():
    return default_law()


@pytest.mark.slow
def test_a_schedule_needs_the_length_at_which_the_law_gives_it_the_target(law):
    cosine_72k = compare(law, ["cosine"]).best.final_loss  # the bundled law's cosine over 72,000 steps
    reaches = {r.name: r for r in plan(law, ["wsd", "cosine", "cosine-to-zero"], cosine_72k)}
    assert reaches["cosine"].steps == pytest.approx(72000, rel=2e-3)
    assert reaches["cosine"].final_loss <= cosine_72k
    assert reaches["cosine"].spec.endswith(f"total={reaches['cosine'].steps}")
    # WSD is the law's better schedule at 72k (make demo), so it gets there in fewer steps
    assert reaches["wsd"].steps < reaches["cosine-to-zero"].steps < reaches["cosine"].steps
    assert reaches["cosine"].steps / reaches["wsd"].steps > 1.3
    lo, hi = reaches["wsd"].steps_range  # the target moved by the largest held-out end error, under
    # the law and its refits
    assert lo < reaches["wsd"].steps < hi
    end = law.held_out.EndE
    assert end > law.held_out.TrendE  # one run's end, not the mean over all points
    own = [plan(law, ["wsd"], cosine_72k * (1 + s * end))[0].steps for s in (1, -1)]
    assert lo <= own[0] < own[1] <= hi  # and widened to where the law's refits need as many steps
    refits = [law.with_params(p) for p in law.refits]
    assert lo == min(plan(m, ["wsd"], cosine_72k * (1 + end))[0].steps for m in [law, *refits])
    assert hi == max(plan(m, ["wsd"], cosine_72k * (1 - end))[0].steps for m in [law, *refits])
    for curve in curves(law, list(reaches.values())):  # drawn to the length found, ending at the target
        assert curve.steps[-1] == reaches[curve.name].steps - 1 and curve.final_loss <= cosine_72k
    harder = {r.name: r.steps for r in plan(law, ["wsd", "cosine"], cosine_72k - 0.01)}
    assert harder["wsd"] > reaches["wsd"].steps and harder["cosine"] > reaches["cosine"].steps


def test_a_target_out_of_reach_and_schedules_without_a_free_length(law):
    (far,) = plan(law, ["cosine"], 2.0, max_steps=100_000)
    assert far.steps is None and far.final_loss > 2.0 and far.spec.endswith("total=100000")
    assert 2.0 < law.params["L0"] and any("below the law's floor (L0 = " in w for w in far.warnings)
    (short,) = plan(law, ["cosine"], law.params["L0"] + 0.1, max_steps=30_000)
    assert short.steps is None and any(f"within 30,000 steps (its loss there: {short.final_loss:.4f})" in w
                                       for w in short.warnings)
    for spec, words in [("cosine:total=24000", "fixes its length"), ("file:x.csv", "one length"),
                        ("wsd:decay_start=20000", "decay=FRACTION")]:
        with pytest.raises(InputError, match=words):
            plan(law, [spec], 3.2)


@pytest.mark.slow
def test_plan_command_ranks_by_steps_and_gates_ci(cli):
    r = cli("plan", "--target-loss", "3.2", "--schedules", "cosine,wsd", "--json", "--expect-best", "wsd")
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert d["best"] == "wsd" and [s["name"] for s in d["schedules"]] == ["wsd", "cosine"]
    assert d["schedules"][1]["more_steps"] > 0.3 and "expectation passed" in r.err
    r = cli("plan", "--target-loss", "3.2", "--schedules", "cosine,wsd", "--expect-best", "cosine")
    assert r.code == 1 and "'wsd' does" in r.err and "more steps" in r.out
    assert "---  target 3.2\n1  wsd\n2  cosine" in r.out  # the chart: each curve to its length
    assert "target 3.2" not in cli("plan", "--target-loss", "3.2", "--no-chart").out
    r = cli("plan", "--target-loss", "2", "--schedules", "cosine", "--max-steps", "100000")
    assert r.code == 0 and "none" in r.out
    assert cli("plan", "--target-loss", "-1").code == 2
    assert cli("plan", "--target-loss", "3.2", "--schedules", "cosine:total=9").code == 2


@pytest.mark.slow
def test_plan_sweeps_a_cooldown(law, cli):
    reaches = plan(law, ["wsd:decay=0.1..0.4/4"], 3.2)
    one = {r.name: r.steps for r in plan(law, ["wsd:decay=0.2", "wsd:decay=0.4"], 3.2)}
    steps = {r.name: r.steps for r in reaches}
    assert sorted(steps) == ["wsd:decay=0.1", "wsd:decay=0.2", "wsd:decay=0.3", "wsd:decay=0.4"]
    assert steps["wsd:decay=0.2"] == one["wsd:decay=0.2"] and steps["wsd:decay=0.4"] == one["wsd:decay=0.4"]
    r = cli("plan", "--target-loss", "3.2", "--schedules", "wsd:decay=0.1..0.4/4,cosine")
    assert r.code == 0, r.err
    fewest = min(steps, key=steps.get)
    assert f"lowest at decay={fewest.split('=')[1]} ({fewest}): {steps[fewest]:,} steps" in r.out
    assert "1  cosine" in r.out and "target 3.2" not in r.out  # the sweep's chart, not the curves
    (sweep,) = json.loads(cli("plan", "--target-loss", "3.2", "--schedules", "wsd:decay=0.1..0.4/4,cosine",
                              "--json").out)["sweeps"]
    assert sweep["values"] == [0.1, 0.2, 0.3, 0.4] and sweep["best_name"] == fewest
    assert sweep["steps"] == [steps[f"wsd:decay={v:g}"] for v in sweep["values"]]


@pytest.mark.slow
def test_plan_writes_a_markdown_report_for_ci(cli, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    r = cli("plan", "--target-loss", "3.2", "--schedules", "cosine,wsd,constant", "--expect-best", "wsd",
            "--markdown", summary)
    assert r.code == 0, r.err
    text = summary.read_text()
    assert text.startswith("earlier step\n### lrforecast plan: steps to reach a loss of 3.2: passed")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0] == "| # | schedule | steps | more steps | range | final loss |"
    assert rows[2].startswith("| 1 | wsd | ") and rows[4].startswith("| 3 | constant | ")
    assert "> warning: constant:" in text and "far extrapolation" in text
