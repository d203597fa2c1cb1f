import io
import json
import subprocess
import sys

import numpy as np
import pytest

from lrforecast.readers import read_run
from lrforecast.selection import PREFERRED

from .conftest import MPL, REAL


def specs(mpl_runs, names):
    out = []
    for n in names:
        out += ["--schedule", mpl_runs["runs"][n]]
    return out


@pytest.mark.slow
@pytest.mark.parametrize("size, limit", [("25m", 0.0014), ("100m", 0.0022)])
def test_reference_protocol_through_the_cli(size, limit, mpl_runs, cli, tmp_path):
    train, test = mpl_runs["protocol"]["train"], mpl_runs["protocol"]["test"]
    law = tmp_path / "law.json"
    r = cli("fit", *[MPL / size / f"{n}.csv" for n in train], *specs(mpl_runs, train), "-o", law,
            "--law", "momentum")
    assert r.code == 0, r.err
    assert "R2" in r.out and "alpha" in r.out
    prede = []
    for n in test:
        r = cli("evaluate", law, MPL / size / f"{n}.csv", "--schedule", mpl_runs["runs"][n], "--json")
        assert r.code == 0, r.err
        prede.append(json.loads(r.out)["metrics"]["PredE"])
    assert sum(prede) / len(prede) <= limit


def test_fit_json_and_law_file(cli, tmp_path, mpl_runs):
    law = tmp_path / "law.json"
    r = cli("fit", MPL / "25m" / "cosine_24000.csv", "--schedule", mpl_runs["runs"]["cosine_24000"],
            "-o", law, "--json", "--law", "momentum")
    assert r.code == 0
    d = json.loads(r.out)
    assert d == json.loads(law.read_text())
    assert d["schema_version"] == 2 and d["law"] == "momentum" and d["tool"] == "lrforecast"
    assert set(d["params"]) == {"L0", "A", "C", "alpha", "lam"}
    assert set(d["runs"][0]["metrics"]) == {"R2", "MAE", "RMSE", "PredE", "WorstE"}


def test_compare_default_law_ranks_wsd_first_and_gates(cli):
    r = cli("compare", "--schedules", "cosine,wsd", "--json")
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert d["best"] == "wsd" and [s["name"] for s in d["schedules"]] == ["wsd", "cosine"]
    assert {"name", "spec", "final_loss", "rank"} <= set(d["schedules"][0])
    assert "bundled" in r.err
    wsd, cosine = d["schedules"]
    assert wsd["refits"]["of"] == 4 and wsd["refits"]["first_in"] == 4 and cosine["refits"]["first_in"] == 0
    lo, hi = wsd["refits"]["range"]
    assert lo <= wsd["final_loss"] <= hi < cosine["refits"]["range"][0]
    assert cli("compare", "--schedules", "cosine,wsd", "--expect-best", "constant").code == 2
    r = cli("compare", "--schedules", "cosine,wsd,constant", "--expect-best", "constant", "--json")
    assert r.code == 1 and json.loads(r.out)["expectation"]["passed"] is False
    assert cli("compare", "--schedules", "cosine,wsd", "--expect-best", "wsd").code == 0
    gap = json.loads(r.out)["schedules"][1]["gap"]  # cosine's gap to wsd
    assert cli("compare", "--schedules", "cosine,wsd", "--expect-best", "cosine",
               "--max-gap", str(gap * 1.5)).code == 0
    assert cli("compare", "--schedules", "cosine,wsd", "--expect-best", "cosine",
               "--max-gap", str(gap / 2)).code == 1


def test_compare_table_chart_and_at(cli):
    r = cli("compare", "--schedules", "cosine,wsd-1sqrt-20", "--at", "40000", "--steps", "48000")
    assert r.code == 0, r.err
    assert "loss @ 40000" in r.out and "(48000 steps)" in r.out
    # without colour (captured output) the curves are told apart by their numbers on the chart
    lines = r.out.rstrip().splitlines()
    assert [line[:3] for line in lines[-2:]] == ["1  ", "2  "]
    assert {line[3:] for line in lines[-2:]} == {"cosine", "wsd-1sqrt-20"}
    plot = [line.split(" | ", 1)[1] for line in lines if " | " in line and line.strip()[0].isdigit()]
    assert all(sum(line.count(m) for line in plot) >= 2 for m in "12")


@pytest.mark.slow
def test_predict_writes_every_kth_step(cli, tmp_path, mpl_runs):
    import pyarrow.parquet as pq

    from lrforecast import fit
    from lrforecast.reference import load_reference
    law = tmp_path / "law.json"
    r = cli("fit", MPL / "25m" / "constant_24000.csv", "--schedule", mpl_runs["runs"]["constant_24000"],
            "-o", law, "--law", "momentum")
    # a law fitted by name is cross-validated too (a single run: on its first third), so it has a range
    assert r.code == 0 and "held-out error: " in r.err and "of the loss, the cross-validated" in r.err
    assert len(json.loads(law.read_text())["refits"]) == 1
    r = cli("predict", law, "--schedule", "cosine", "--every", "1000")
    assert r.code == 0, r.err
    lines = r.out.strip().splitlines()
    assert lines[0] == "step,lr,predicted_loss,low,high,refit_low,refit_high"
    assert lines[1].startswith("2160,") and lines[-1].startswith("23999,")
    bare = tmp_path / "bare.json"  # fitted in Python without validate=True: no refits, no range
    run, sched = load_reference(MPL / "25m")[0]["constant_24000"]
    fit([run], [sched], law="momentum").save(bare)
    assert cli("predict", bare, "--schedule", "cosine", "--every", "1000").out.startswith(
        "step,lr,predicted_loss\n")
    out = tmp_path / "pred.parquet"
    assert cli("predict", law, "--schedule", "wsd", "-o", out).code == 0
    t = pq.read_table(out)
    assert t.column_names[:3] == ["step", "lr", "predicted_loss"] and t.num_rows == 24000 - 2160
    png = tmp_path / "pred.png"  # no range, no refits: the curve alone
    r = cli("predict", bare, "--schedule", "wsd", "-o", out, "--plot", png)
    assert r.code == 0 and f"chart written to {png}" in r.err and png.read_bytes()[:4] == b"\x89PNG"
    r = cli("predict", law, "--schedule", "cosine", "--every", "1000", "--json")
    d = json.loads(r.out)  # the same forecast as the CSV above, as columns
    assert d["schedule"].startswith("cosine:") and d["curve"]["step"][0] == 2160
    assert [f"{v:.6f}" for v in d["curve"]["predicted_loss"]] == [ln.split(",")[2] for ln in lines[1:]]
    assert d["final_loss"] == d["curve"]["predicted_loss"][-1] and d["law"]["name"] == "momentum"


def test_schedules_lists_presets(cli):
    r = cli("schedules")
    assert r.code == 0 and "cosine-to-zero" in r.out and "wsd-1sqrt-20" in r.out
    assert "cosine_with_min_lr (cosine)" in r.out and "num_training_steps (total)" in r.out


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


BAD_INPUTS = [
    ("missing loss column", "a.csv", "step,lr,acc\n1,0.1,0.5\n2,0.1,0.6\n",
     ["-s", "constant:peak=0.1:total=5"], "no loss field"),
    ("NaN losses", "a.csv", "step,loss\n1,nan\n2,nan\n3,nan\n", ["-s", "constant:peak=0.1:total=5"],
     "NaN"),
    ("unsorted and repeated steps", "a.csv", "step,loss\n3,2.0\n1,3.0\n3,2.1\n2,2.5\n",
     ["-s", "constant:peak=0.1:total=5", "--duplicates", "error"], "repeated steps"),
    ("empty file", "a.csv", "", ["-s", "constant:peak=0.1:total=5"], "empty"),
    ("header only", "a.csv", "step,loss\n", ["-s", "constant:peak=0.1:total=5"], "no rows"),
    ("unknown schedule name", "a.csv", "step,loss\n1,3\n2,2.9\n3,2.8\n", ["-s", "cosinus:peak=1:total=5"],
     "unknown schedule"),
    ("malformed spec", "a.csv", "step,loss\n1,3\n2,2.9\n3,2.8\n", ["-s", "cosine:peak"], "KEY=VALUE"),
    ("negative LR", "a.csv", "step,loss\n1,3\n2,2.9\n3,2.8\n", ["-s", "step:peak=1:total=5:at=2:to=-1"],
     "negative"),
    ("negative logged LR", "a.csv", "step,lr,loss\n1,-0.1,3\n2,0.1,2.9\n3,0.1,2.8\n", [], "negative"),
    ("LR not logged at every step", "a.csv", "step,loss\n1,3\n2,2.9\n3,2.8\n", [],
     "not logged at every step"),
    ("text in the loss column", "a.csv", "step,loss\n1,abc\n2,def\n", ["-s", "constant:peak=1:total=5"],
     "text"),
    ("steps outside the schedule", "a.csv", "step,loss\n100,3\n200,2.9\n300,2.8\n",
     ["-s", "constant:peak=1:total=50"], "schedule"),
    ("more schedules than runs", "a.csv", "step,loss\n1,3\n2,2.9\n3,2.8\n",
     ["-s", "constant:peak=1:total=5", "-s", "constant:peak=1:total=5"], "one per run"),
    ("unknown option", "a.csv", "step,loss\n1,3\n", ["--frobnicate"], "No such option"),
    ("output over the input", "a.csv", "step,loss\n1,3\n2,2.9\n3,2.8\n", ["-o", "SELF"], "overwrite"),
    ("output in a missing folder", "a.csv", "step,loss\n1,3\n2,2.9\n3,2.8\n",
     ["-o", "DIR/no/such/law.json"], "does not exist"),
    ("output is a folder", "a.csv", "step,loss\n1,3\n2,2.9\n3,2.8\n", ["-o", "DIR"], "directory"),
    ("negative prior weight", "a.csv", "step,loss\n1,3\n2,2.9\n3,2.8\n",
     ["-s", "constant:peak=1:total=5", "--prior", "-1"], "--prior must be"),
    ("negative gain prior weight", "a.csv", "step,loss\n1,3\n2,2.9\n3,2.8\n",
     ["-s", "constant:peak=1:total=5", "--gain-prior", "-1"], "--gain-prior must be"),
    ("negative first step", "a.csv", "step,loss\n1,3\n2,2.9\n3,2.8\n",
     ["-s", "constant:peak=1:total=5", "--from-step", "-1"], "--from-step must be"),
    ("one point", "a.csv", "step,loss\n1,3\n", ["-s", "constant:peak=1:total=5"], "at least 3"),
    ("no loss above zero", "a.csv", "step,loss\n1,-3\n2,-2.9\n3,-2.8\n", ["-s", "constant:peak=1:total=5"],
     "<= 0"),
    ("JSON that opens with null", "a.json", 'null\n{"step": 1, "loss": 3}\n',  # pyarrow 26 crashes on it
     ["-s", "constant:peak=1:total=5"], "at least 3"),
    ("binary data", "a.csv", "\x19\x8acN\x00\xda\x88sI\xf9\x00\xd6\x85a\x16\r\\\n\x00\x00",
     ["-s", "constant:peak=1:total=5"], "binary"),
]


@pytest.mark.parametrize("case, name, text, args, words", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_gives_exit_2_and_one_line(case, name, text, args, words, cli, tmp_path):
    path = write(tmp_path, name, text)
    before = path.read_bytes()
    args = [str(path) if a == "SELF" else a.replace("DIR", str(tmp_path)) for a in args]
    r = cli("fit", path, "--law", "momentum", *args)
    assert r.code == 2, (case, r.err)
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), r.err
    assert words.lower() in lines[0].lower()
    assert "Traceback" not in r.err and r.out == ""
    assert path.read_bytes() == before


def test_inspect_charts_a_log_of_one_point(cli, tmp_path):
    r = cli("inspect", write(tmp_path, "a.csv", "step,loss\n7,3.5\n"))
    assert r.code == 0 and "1 points, steps 7-7" in r.err and "a.csv" in r.out


def test_bad_law_files_and_steps(cli, tmp_path):
    other = write(tmp_path, "other.json", json.dumps({"model": "chinchilla", "E": 1.7}))
    for args in (["predict", other, "-s", "cosine"], ["compare", other], ["evaluate", other, other]):
        r = cli(*args)
        assert r.code == 2 and "not an lrforecast law" in r.err and len(r.err.strip().splitlines()) == 1
    notjson = write(tmp_path, "law.json", "{oops")
    assert cli("predict", notjson, "-s", "cosine").code == 2
    missing = cli("predict", tmp_path / "nope.json", "-s", "cosine")
    assert missing.code == 2 and "not found" in missing.err
    r = cli("compare", "--schedules", "cosine,wsd", "--at", "999999")
    assert r.code == 2 and "outside" in r.err
    r = cli("compare", "--schedules", "cosine,cosine")
    assert r.code == 2 and "same name" in r.err


def test_a_log_and_a_law_given_in_each_others_place(cli, tmp_path, mpl_runs):
    log = MPL / "25m" / "cosine_24000.csv"
    r = cli("compare", log, "--schedules", "cosine,wsd")
    assert r.code == 2 and "not a law file" in r.err and f"fit it first: lrforecast fit {log} -o" in r.err
    law = tmp_path / "law.json"
    assert cli("fit", log, "--law", "momentum", "-o", law).code == 0
    r = cli("fit", law)
    assert r.code == 2 and "is an lrforecast law file, not a training log" in r.err
    r = cli("inspect", law)  # inspect describes a law file instead
    held = json.loads(law.read_text())["held_out"]
    assert r.code == 0 and "momentum law fitted on 1 run(s) (cosine_24000) from step" in r.err
    assert f"held-out error: {100 * held['TrendE']:.3g}% of the loss on average" in r.err and "lam" in r.out
    assert json.loads(cli("inspect", law, "--json").out) == json.loads(law.read_text())
    bare = tmp_path / "bare.json"
    d = json.loads(law.read_text())
    d["held_out"] = None
    bare.write_text(json.dumps(d))
    assert "no held-out error: the law was not cross-validated" in cli("inspect", bare).err
    short = cli("compare", law, "--schedules", "cosine", "--steps", "500")
    assert short.code == 0 and "before the first fitted step (1196)" in short.err


@pytest.mark.slow
def test_fit_auto_says_which_law_won(cli, tmp_path, mpl_runs):
    train = mpl_runs["protocol"]["train"]
    r = cli("fit", *[MPL / "100m" / f"{n}.csv" for n in train], *specs(mpl_runs, train), "--json")
    assert r.code == 0, r.err
    d = json.loads(r.out)
    sel = d["selection"]
    assert d["law"] == sel["chosen"] and set(sel["cv"]) == {"momentum", "multipower", "rootpower"}
    assert any(n.startswith("law auto:") for n in d["notes"])
    assert len(d["refits"]) == 3 and set(d["refits"][0]) == set(d["params"])
    scores = {k: v["mean"]["TrendE"] for k, v in sel["cv"].items()}
    assert scores[d["law"]] == d["held_out"]["TrendE"]
    # validation losses scatter by 0.03%: against the trend is against the points
    assert sel["cv"][d["law"]]["mean"]["PredE"] == pytest.approx(scores[d["law"]], rel=1e-12)
    folds = {k: {f: m["TrendE"] for f, m in v["folds"].items()} for k, v in sel["cv"].items()}
    if d["law"] != PREFERRED:  # another law is kept only when lower on every fold that judges a decay
        judging = [f for f, m in sel["cv"][PREFERRED]["folds"].items()
                   if m["fit_lr_decay"] >= 0.1 and m["held_lr_decay"] >= 0.1]
        assert judging and "constant_24000" not in " ".join(judging)  # a constant run judges no decay
        assert all(folds[d["law"]][f] < folds[PREFERRED][f] for f in judging)
    assert set(sel["cv"]["momentum"]["folds"]) == {f"leave out {n}" for n in train} | {"horizon"}


def test_compare_draws_png_and_svg(cli, tmp_path):
    png, svg = tmp_path / "c.png", tmp_path / "c.svg"
    assert cli("compare", "--schedules", "cosine,wsd", "--plot", png, "--no-chart").code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert cli("compare", "--schedules", "cosine,wsd", "--plot", svg, "--json").code == 0
    assert "<svg" in svg.read_text()[:500]
    r = cli("compare", "--schedules", "cosine,wsd", "--plot", tmp_path / "c.jpg")
    assert r.code == 2 and ".png or .svg" in r.err
    sweep = tmp_path / "sweep.svg"  # a sweep draws the loss against the swept value
    r = cli("compare", "--schedules", "wsd:decay=0.1..0.3/3,cosine", "--plot", sweep, "--no-chart")
    assert r.code == 0, r.err
    text = sweep.read_text()
    assert "wsd:decay=0.1..0.3/3" in text and "cosine  3." in text
    assert "lowest to highest over the refits" in text


def test_compare_markdown_report_for_ci(cli, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    r = cli("compare", "--schedules", "cosine,wsd", "--expect-best", "cosine", "--markdown", summary,
            "--no-chart")
    assert r.code == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n### lrforecast compare: FAILED (expected 'cosine' first)")
    assert "| 1 | wsd (`wsd:" in text and "| 2 | cosine (`cosine:" in text
    other = tmp_path / "report.md"
    assert cli("compare", "--schedules", "cosine,wsd", "--markdown", other, "--json").code == 0
    assert other.read_text().startswith("### lrforecast compare\n")


def test_evaluate_charts_the_error_by_step_and_keeps_json_small(cli, tmp_path, mpl_runs):
    law = tmp_path / "law.json"
    assert cli("fit", MPL / "25m" / "cosine_24000.csv", "--schedule", mpl_runs["runs"]["cosine_24000"],
               "-o", law, "--law", "momentum").code == 0
    args = ("evaluate", law, MPL / "25m" / "cosine_72000.csv", "-s", mpl_runs["runs"]["cosine_72000"])
    r = cli(*args)
    assert r.code == 0, r.err
    assert "observed - predicted, % of observed" in r.out and "(error %)" in r.out
    end = json.loads(cli(*args, "--json").out)["metrics"]["EndE"]
    assert f"at the run's end (step 71920) the forecast is off by {100 * end:.3g}%" in r.err
    assert "error %" not in cli(*args, "--no-chart").out
    d = json.loads(cli(*args, "--json").out)
    assert "curve" not in d and d["points"] == 546


@pytest.mark.slow
def test_fit_and_evaluate_draw_observed_and_fitted(cli, tmp_path, mpl_runs):
    law, png, svg = tmp_path / "law.json", tmp_path / "fit.png", tmp_path / "backtest.svg"
    train = MPL / "25m" / "cosine_24000.csv"
    spec = ("--schedule", mpl_runs["runs"]["cosine_24000"])
    r = cli("fit", train, *spec, "-o", law, "--law", "momentum", "--plot", png)
    assert r.code == 0 and f"chart written to {png}" in r.err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    test = MPL / "25m" / "cosine_72000.csv"
    r = cli("evaluate", law, test, "-s", mpl_runs["runs"]["cosine_72000"], "--plot", svg, "--json")
    assert r.code == 0 and json.loads(r.out)["points"] == 546 and "<svg" in svg.read_text()[:500]
    for bad in (tmp_path / "fit.jpg", train):  # refused before any fitting
        r = cli("fit", train, *spec, "--plot", bad)
        assert r.code == 2 and f"--plot {bad}" in r.err


@pytest.mark.slow
def test_the_refit_columns_say_how_the_refits_were_made(cli, tmp_path, mpl_runs):
    law, md = tmp_path / "law.json", tmp_path / "report.md"
    assert cli("fit", MPL / "25m" / "cosine_24000.csv", *specs(mpl_runs, ["cosine_24000"]),
               "-o", law).code == 0
    assert len(json.loads(law.read_text())["refits"]) == 1  # a single run: the horizon fold's law
    r = cli("compare", law, "--schedules", "cosine,wsd", "--markdown", md, "--no-chart")
    assert r.code == 0, r.err
    assert "fitted again on the first third of its run" in md.read_text()
    assert cli("compare", "--schedules", "cosine,wsd", "--markdown", md, "--no-chart").code == 0
    assert "fitted 4 more times, leaving out one run each time" in md.read_text()


@pytest.mark.slow
def test_predict_gives_the_range_and_refit_band_of_a_law_with_refits(cli, tmp_path, mpl_runs):
    import pyarrow.parquet as pq
    train = mpl_runs["protocol"]["train"]
    law = tmp_path / "law.json"
    assert cli("fit", *[MPL / "25m" / f"{n}.csv" for n in train], *specs(mpl_runs, train),
               "-o", law).code == 0  # auto: keeps its leave-one-out refits and its held-out error
    out = tmp_path / "pred.parquet"
    assert cli("predict", law, "-s", "cosine:total=72000", "-o", out).code == 0
    t = pq.read_table(out).to_pydict()
    low, mid, high = (np.array(t[k]) for k in ("refit_low", "predicted_loss", "refit_high"))
    assert np.all(low <= mid) and np.all(mid <= high) and np.all(high - low < 0.05)
    assert np.mean(high - low) > 1e-4  # the refits do differ
    end_error = json.loads(law.read_text())["held_out"]["EndE"]
    assert np.allclose(t["low"], low * (1 - end_error)) and np.allclose(t["high"], high * (1 + end_error))
    svg = tmp_path / "pred.svg"
    assert cli("predict", law, "-s", "cosine:total=72000", "--plot", svg, "-o", out).code == 0
    assert "<svg" in svg.read_text()[:500] and svg.stat().st_size > 20_000
    text = cli("predict", law, "-s", "cosine:total=72000", "--every", "7000").out.splitlines()
    assert text[0] == "step,lr,predicted_loss,low,high,refit_low,refit_high" and len(text) == 1 + 11
    # a test run the law never saw: its real loss lies in the range at the steps after its decay
    run = np.genfromtxt(MPL / "25m" / "wsd_20000_24000.csv", delimiter=",", names=True)
    assert cli("predict", law, "-s", mpl_runs["runs"]["wsd_20000_24000"], "-o", out).code == 0
    t = pq.read_table(out).to_pydict()
    at = np.searchsorted(t["step"], run["step"][run["step"] >= 20000])
    assert np.array_equal(np.array(t["step"])[at], run["step"][run["step"] >= 20000])
    real = run["loss"][run["step"] >= 20000]
    assert np.all(np.array(t["low"])[at] <= real) and np.all(real <= np.array(t["high"])[at])
    refits = (np.array(t["refit_low"])[at] <= real) & (real <= np.array(t["refit_high"])[at])
    assert not refits.all()  # the refits' spread alone understates the error
    # evaluate says how much of a run lies in the range: here every point is the trend (k = 1)
    r = cli("evaluate", law, MPL / "25m" / "wsd_20000_24000.csv", "-s", mpl_runs["runs"]["wsd_20000_24000"],
            "--json")
    every = np.searchsorted(t["step"], run["step"])
    inside = (np.array(t["low"])[every] <= run["loss"]) & (run["loss"] <= np.array(t["high"])[every])
    held = json.loads(r.out)["range"]
    assert held["held"] == pytest.approx(inside.mean()) and held["end_held"] == bool(inside[-1])
    assert held["end"] == run["loss"][-1] and held["end_range"] == pytest.approx(
        [t["low"][every[-1]], t["high"][every[-1]]])
    # a CI gate on a run in progress: is its latest loss still in the range?
    sched = mpl_runs["runs"]["wsd_20000_24000"]
    r = cli("evaluate", law, MPL / "25m" / "wsd_20000_24000.csv", "-s", sched, "--expect-in-range")
    last = f"latest loss {run['loss'][-1]:.4f} (step {int(run['step'][-1])}) lies inside"
    assert r.code == 0 and last in r.err
    behind = tmp_path / "behind.csv"  # the same run 2% worse from step 12,000: it has fallen behind
    loss = np.where(run["step"] >= 12000, 1.02 * run["loss"], run["loss"])
    np.savetxt(behind, np.c_[run["step"], run["lr"], loss], delimiter=",", header="step,lr,loss", comments="")
    r = cli("evaluate", law, behind, "-s", sched, "--expect-in-range", "--json")
    assert r.code == 1 and "expectation FAILED" in r.err and "above (behind the forecast)" in r.err
    assert json.loads(r.out)["expectation"]["passed"] is False
    bare = tmp_path / "bare.json"  # a law without a held-out error has no range to gate on
    d = json.loads(law.read_text())
    d["held_out"] = None
    bare.write_text(json.dumps(d))
    r = cli("evaluate", bare, behind, "-s", sched, "--expect-in-range")
    assert r.code == 2 and "has no forecast range" in r.err


def test_compare_states_the_held_out_error_and_flags_a_close_call(cli, mpl_runs):
    d = json.loads(cli("compare", "--schedules", "cosine,wsd", "--json").out)
    err = d["held_out"]["TrendE"]
    assert 0 < err < 0.01 and d["held_out"]["how"] == "leave one run out"
    gap = d["schedules"][1]["final_loss"] - d["schedules"][0]["final_loss"]
    assert gap > err * d["schedules"][0]["final_loss"]  # wsd vs cosine: a clear call, no warning
    assert not any("cannot tell them apart" in w for w in d["warnings"])
    for row in d["schedules"]:  # the range: law and refits, moved by the held-out end error
        low, high = row["refits"]["range"]
        end = d["held_out"]["EndE"]
        assert row["range"] == pytest.approx([low * (1 - end), high * (1 + end)])
    r = cli("compare", "--schedules", "cosine,cosine:min=2.9e-5", "--json")
    assert any("cannot tell them apart" in w for w in json.loads(r.out)["warnings"])
    assert "cannot tell them apart" in r.err


def test_compare_sweeps_a_cooldown_and_draws_the_loss_against_it(cli, tmp_path):
    r = cli("compare", "--schedules", "wsd:decay=0.05..0.5,cosine", "--steps", "72000", "--json")
    assert r.code == 0, r.err
    d = json.loads(r.out)
    rows = {row["name"]: row["final_loss"] for row in d["schedules"]}
    assert len(rows) == 11 and "cosine" in rows
    (sweep,) = d["sweeps"]
    assert sweep["key"] == "decay" and sweep["values"] == pytest.approx(np.linspace(0.05, 0.5, 10))
    assert sweep["loss"] == [rows[f"wsd:decay={v:g}"] for v in sweep["values"]]
    assert sweep["best"] == pytest.approx(sweep["values"][int(np.argmin(sweep["loss"]))])
    assert d["best"] == sweep["best_name"] == f"wsd:decay={sweep['best']:g}"  # the sweep beats cosine
    err = d["held_out"]["TrendE"]
    lowest = min(sweep["loss"])
    close = [v for v, y in zip(sweep["values"], sweep["loss"], strict=True) if y < lowest * (1 + err)]
    assert sweep["within_error"] == close and len(close) > 1  # neighbours the law cannot tell apart
    r = cli("compare", "--schedules", "wsd:decay=0.05..0.5,cosine", "--steps", "72000")
    assert "(decay)" in r.out and "*  wsd:decay=0.05..0.5\n-  its range\n1  cosine" in r.out
    assert "| 0         0.1       0.2       0.3       0.4       0.5" in r.out  # round ticks
    assert f"lowest at decay={sweep['best']:g} ({d['best']}): {rows[d['best']]:.4f}" in r.out
    assert "(step)" not in r.out  # the curves of ten cooldowns would overlap: the sweep is drawn instead
    assert "candidates lie within this law's held-out error" in r.err
    md = tmp_path / "report.md"
    r = cli("compare", "--schedules", "wsd:decay=0.05..0.5", "--steps", "72000", "--markdown", str(md))
    assert r.code == 0, r.err
    within = f"decay from {min(close):g} to {max(close):g}"
    assert f"wsd:decay=0.05..0.5: lowest at decay={sweep['best']:g}; {within}" in md.read_text()
    assert cli("compare", "--schedules", "wsd:decay=0.1..0.3/1").code == 2
    far = json.loads(cli("compare", "--schedules", "wsd:decay=0.05..0.5,cosine", "--steps", "300000",
                         "--json").out)["warnings"]  # one warning for what all eleven share, not eleven
    assert [w for w in far if "far extrapolation" in w] == [
        "11 candidates (wsd:decay=0.05, wsd:decay=0.1, wsd:decay=0.15, wsd:decay=0.2 ... cosine): 300000 "
        "steps is over 3x the longest fitted run (71936); a far extrapolation"]


def test_under_github_actions_failures_and_warnings_become_annotations(cli, monkeypatch, tmp_path):
    r = cli("compare", "--schedules", "cosine,wsd,constant", "--expect-best", "constant", "--no-chart")
    assert r.code == 1 and "expectation FAILED: 'constant' must be ranked first" in r.err
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    r = cli("compare", "--schedules", "cosine,wsd,constant", "--expect-best", "constant", "--no-chart")
    assert r.code == 1
    assert "::error title=lrforecast::expectation FAILED: 'constant' must be ranked first" in r.err
    r = cli("compare", "--schedules", "cosine:peak=1e-3,wsd", "--no-chart")  # not the fitted peak
    assert r.code == 0 and any(line.startswith("::warning title=lrforecast::cosine:peak=1e-3: peak LR")
                               for line in r.err.splitlines())
    bad = tmp_path / "bad.csv"
    bad.write_text("step,loss\n1,2.0\n")
    r = cli("fit", bad)
    assert r.code == 2 and r.err.strip().startswith("::error title=lrforecast::")
    assert len(r.err.strip().splitlines()) == 1 and "%0A" not in r.err


@pytest.mark.slow
def test_compare_refuses_decaying_schedules_for_a_law_that_never_saw_a_decay(cli, tmp_path, mpl_runs):
    law = tmp_path / "flat.json"
    flat = [MPL / "25m" / "constant_72000.csv", *specs(mpl_runs, ["constant_72000"])]
    r = cli("fit", *flat, "--law", "momentum", "-o", law)
    assert r.code == 0 and "no fitted run has an LR decay" in r.err and "are guesses" in r.err
    r = cli("compare", law, "--schedules", "cosine,wsd", "--no-chart")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and "fit a run that decays" in r.err
    r = cli("fit", *flat, "--law", "multipower", "-o", law)  # its gain prior says what a decay gains
    assert r.code == 0 and "so the annealing term (B) comes from the gain prior" in r.err
    r = cli("compare", law, "--schedules", "constant,cosine,wsd", "--no-chart", "--json")
    assert r.code == 0 and "what the decay gains comes from the gain prior" in r.err
    ranked = {c["name"]: c for c in json.loads(r.out)["schedules"]}
    assert ranked["wsd"]["rank"] == 1 and ranked["constant"]["rank"] == 3
    from lrforecast.readers import read_run
    ended = read_run(MPL / "25m" / "cosine_72000.csv").loss[-1]  # the real cosine run of that length
    assert abs(ranked["cosine"]["final_loss"] / ended - 1) < 0.01


def test_tables_on_a_narrow_console_fold_names_and_never_cut_numbers():
    from rich.console import Console

    from lrforecast import report
    from lrforecast.forecast import compare
    from lrforecast.reference import default_law

    law = default_law()
    specs = ["cosine:total=20000", "wsd:total=30000", "wsd:decay=0.1:shape=linear:total=30000"]
    cmp = compare(law, specs)
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(report.comparison_table(cmp))
    console.print(report.metrics_table(law.runs, "Fit on each run"))
    text = console.export_text()
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80
    for p in cmp.predictions:  # every number whole; the longest name folded over two lines
        assert f"{p.final_loss:.4f}" in text
    for r in law.runs:
        assert all(f"{r.metrics[m]:.5f}" in text for m in ("R2", "PredE", "WorstE"))
    assert "wsd:decay=0.1:shape=linear:total=30000" not in text and "total=30000" in text


def test_charts_of_long_logs_are_thinned_but_keep_spikes():
    from lrforecast.charts import CHART_BINS, extremes
    from lrforecast.readers import read_run

    from .conftest import REAL
    loss = read_run(REAL / "llmc-gpt2-124m-fineweb10b-stdout.log").loss.copy()  # 19,559 points
    loss[12345] = 40.0  # one spike
    keep = extremes(loss)
    assert keep.size <= 2 * CHART_BINS + CHART_BINS and np.all(np.diff(keep) > 0)
    assert {0, 12345, loss.size - 1} <= set(keep.tolist())
    assert loss[keep].min() == loss.min() and extremes(loss[:500]).tolist() == list(range(500))


def test_outputs_are_replaced_whole_or_left_as_they_were(cli, tmp_path):
    import os

    from lrforecast.atomic import replacing
    from lrforecast.reference import DEFAULT_LAW
    out = tmp_path / "curve.csv"
    r = cli("predict", DEFAULT_LAW, "--schedule", "cosine:total=30000", "--every", "1000", "-o", out)
    assert r.code == 0
    before = out.read_bytes()
    with pytest.raises(RuntimeError), replacing(out) as tmp:
        tmp.write_text("step,lr\n1,")  # a write cut short
        raise RuntimeError
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["curve.csv"]
    link = tmp_path / "latest.csv"
    link.symlink_to(out)
    r = cli("predict", DEFAULT_LAW, "--schedule", "wsd:total=30000", "--every", "1000", "-o", link)
    assert r.code == 0
    assert link.is_symlink() and out.read_bytes() != before  # the link still points at the file
    umask = os.umask(0o022)
    try:
        with replacing(tmp_path / "law.json") as tmp:
            tmp.write_text("{}")
    finally:
        os.umask(umask)
    assert (tmp_path / "law.json").stat().st_mode & 0o777 == 0o644
    stdout = os.stat("/dev/stdout")  # pytest's capture file: replaced, it would be another file
    r = cli("predict", DEFAULT_LAW, "--schedule", "cosine:total=30000", "--every", "10000",
            "-o", "/dev/stdout")
    assert r.code == 0 and os.stat("/dev/stdout").st_ino == stdout.st_ino


def test_ctrl_c_while_the_libraries_load_ends_quietly(monkeypatch):
    import sys
    import tomllib
    import types

    from lrforecast.__main__ import run

    from .conftest import REPO
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["lrforecast"] == "lrforecast.__main__:run"

    class Loading(types.ModuleType):
        def __getattr__(self, name):
            raise KeyboardInterrupt  # as if Ctrl-C came while `import lrforecast.cli` ran

    monkeypatch.setitem(sys.modules, "lrforecast.cli", Loading("lrforecast.cli"))
    with pytest.raises(SystemExit) as done:
        run()
    assert done.value.code == 130


@pytest.mark.slow
def test_a_reader_that_leaves_early_ends_the_program_quietly():
    import subprocess
    import sys

    from lrforecast.cli import PIPE_CLOSED
    command = [sys.executable, "-m", "lrforecast", "compare", "--schedules", "cosine,wsd,constant"]
    p = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.read(10)  # `lrforecast compare | head -c 10`
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait() == PIPE_CLOSED != 1  # 1 would say an expectation failed
    assert "Traceback" not in err and "error" not in err


def test_help_names_the_plot_extra_in_full(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    for command in ("fit", "predict", "compare", "evaluate"):
        r = cli(command, "--help")
        assert r.code == 0 and "(needs lrforecast[plot])" in r.out, command


def test_every_help_renders(cli):  # rich markup would read the help's "[/N]" as a closing tag
    for command in ("fit", "predict", "compare", "plan", "evaluate", "inspect", "schedules"):
        r = cli(command, "--help")
        assert r.code == 0 and "Usage" in r.out and "error" not in r.err, command
    assert "KEY=A..B" in cli("plan", "--help").out and "wsd:decay=0.05..0.5" in cli("schedules").out


@pytest.mark.slow
def test_names_with_brackets_are_printed_as_they_are(cli, tmp_path):
    log = tmp_path / "run[7].csv"  # rich markup would take [avg] and [7] for tags and drop them
    log.write_text("step,train_loss[avg],lr\n" + "".join(
        f"{s},{3 + 5 / (s + 10) ** 0.5:.4f},0.0003\n" for s in range(1, 300)))
    r = cli("inspect", log, "--loss-key", "train_loss[avg]")
    assert r.code == 0 and "loss=train_loss[avg]" in r.err and "train_loss[avg]" in r.out
    law = tmp_path / "law[1].json"
    r = cli("fit", log, "--loss-key", "train_loss[avg]", "--law", "momentum", "-o", law)
    assert r.code == 0 and f"law written to {law}" in r.err and "run[7]" in r.out


@pytest.mark.slow
def test_predict_at_a_terminal_shows_a_summary_and_a_pipe_gets_csv(cli, monkeypatch):
    import lrforecast.cli as cli_module
    from lrforecast.reference import BUNDLED
    BUNDLED_LAW = BUNDLED / "default_law.json"  # noqa: N806
    monkeypatch.setattr(cli_module, "_to_terminal", lambda: True)
    r = cli("predict", BUNDLED_LAW, "-s", "wsd")  # a person at a terminal: 12 steps, a chart
    assert r.code == 0 and "Forecast of wsd (72000 steps)" in r.out and "range" in r.out
    assert "71,999" in r.out and "(loss)" in r.out and "-o curve.csv" in r.err
    assert cli("predict", BUNDLED_LAW, "-s", "wsd", "--every", "10000").out.startswith("step,lr,")
    monkeypatch.setattr(cli_module, "_to_terminal", lambda: False)  # a pipe: every step as CSV
    csv = cli("predict", BUNDLED_LAW, "-s", "wsd").out.splitlines()
    assert len(csv) == 1 + 72000 - int(csv[1].split(",")[0])  # every step from the first fitted one


def test_a_schedule_file_may_be_any_log_the_readers_read(cli, tmp_path):
    """`--schedule file:` of a real llm.c log (its LR logged every step) forecasts as the same LR
    written as step,lr columns; a CSV log with a loss column beside step and lr reads too."""
    from lrforecast.reference import DEFAULT_LAW
    log = REAL / "llmc-gpt2-124m-fineweb10b-main.log"
    run = read_run(log)
    keep = np.isfinite(run.lr)
    plain = tmp_path / "lr.csv"
    plain.write_text("".join(f"{int(s)},{float(v)!r}\n" for s, v in zip(run.steps[keep], run.lr[keep],
                                                                       strict=True)))
    every = ("--every", "997")
    from_log = cli("predict", DEFAULT_LAW, "--schedule", f"file:{log}", *every)
    from_plain = cli("predict", DEFAULT_LAW, "--schedule", f"file:{plain}", *every)
    assert from_log.code == 0 == from_plain.code, from_log.err
    assert from_log.out == from_plain.out and from_log.out.count("\n") > 10
    with_loss = tmp_path / "metrics.csv"
    with_loss.write_text("step,lr,loss\n" + "".join(f"{int(s)},{float(v)!r},3.0\n" for s, v in
                                                    zip(run.steps[keep], run.lr[keep], strict=True)))
    assert cli("predict", DEFAULT_LAW, "--schedule", f"file:{with_loss}", *every).out == from_plain.out
    no_lr = tmp_path / "loss-only.csv"
    no_lr.write_text("step,loss\n" + "".join(f"{i},3.0\n" for i in range(1, 50)))
    r = cli("predict", DEFAULT_LAW, "--schedule", f"file:{no_lr}")
    assert r.code == 2 and "no LR field" in r.err


def test_compare_gives_every_pair_the_probability_that_it_ends_lower_and_gates_on_it(cli):
    """On the bundled default: each pair's P(first ends lower) in the JSON, P(a<b) + P(b<a) = 1 and
    the likelier order is the forecast order; --confidence passes below the best's least P over the
    others, fails above it (exit 1, 'cannot tell'), and needs --expect-best."""
    specs = "cosine,wsd,wsd:decay=0.25"
    r = cli("compare", "--schedules", specs, "--json")
    assert r.code == 0, r.err
    rows = {row["name"]: row for row in json.loads(r.out)["schedules"]}
    for a, row in rows.items():
        for b, p in row["p_lower_than"].items():
            assert 0 <= p <= 1 and p + rows[b]["p_lower_than"][a] == pytest.approx(1.0)
            assert (p > 0.5) == (row["final_loss"] < rows[b]["final_loss"])
    least = min(rows["wsd"]["p_lower_than"].values())
    assert 0.5 < least < 0.99  # wsd against a 25% cooldown: close, so the gate can go either way
    gate = ("compare", "--schedules", specs, "--expect-best", "wsd", "--json", "--confidence")
    passed = cli(*gate, str(least - 0.02))
    assert passed.code == 0 and json.loads(passed.out)["expectation"]["p_lowest"] == pytest.approx(least)
    failed = cli(*gate, str(least + 0.005))
    assert failed.code == 1 and "cannot tell" in failed.err
    assert json.loads(failed.out)["expectation"]["passed"] is False
    assert cli("compare", "--schedules", specs, "--confidence", "0.9").code == 2
    assert cli(*gate, "1.5").code == 2


@pytest.mark.slow
def test_every_commands_json_is_what_the_documented_schema_says(cli, tmp_path, mpl_runs):
    """lrforecast/data/json-output.schema.json documents each command's --json (keys, types, units);
    the outputs of fit, predict, compare (a sweep and a gate), plan, evaluate, inspect (a log and a
    law) and watch on real data validate against it, with no key it does not name."""
    from importlib.resources import files

    from jsonschema import Draft202012Validator

    from lrforecast.reference import DEFAULT_LAW
    root = json.loads(files("lrforecast").joinpath("data/json-output.schema.json").read_text())
    Draft202012Validator.check_schema(root)
    log = REAL / "nsllm-qwen3-8b-cpt-trainer_log.jsonl"
    law = tmp_path / "law.json"
    run = MPL / "25m" / "cosine_72000.csv"
    grow = tmp_path / "main.log"
    lines = (REAL / "llmc-gpt2-124m-fineweb10b-main.log").read_bytes().splitlines(keepends=True)
    grow.write_bytes(b"".join(lines[: len(lines) // 3]))
    calls = {
        "law": [("fit", log, "--json", "-o", law), ("inspect", DEFAULT_LAW, "--json")],
        "predict": [("predict", DEFAULT_LAW, "--schedule", "cosine", "--every", "5000", "--json")],
        "compare": [("compare", "--schedules", "cosine,wsd:decay=0.1..0.3/3", "--json", "--expect-best",
                     "cosine", "--confidence", "0.9"),
                    ("compare", "--schedules", "cosine,wsd", "--json", "--at", "30000")],
        "plan": [("plan", "--target-loss", "3.2", "--schedules", "cosine,wsd:decay=0.1..0.3/3", "--json")],
        "evaluate": [("evaluate", DEFAULT_LAW, run, "--schedule", mpl_runs["runs"]["cosine_72000"],
                      "--json")],
        "inspect_log": [("inspect", log, "--json")],
        "watch": [("watch", grow, "--schedule", "cosine:peak=6e-4:warmup=700:min=0:total=19552", "--once",
                   "--json", "--target-loss", "3.4")],
    }
    for name, runs in calls.items():
        validator = Draft202012Validator({**root, "$ref": f"#/$defs/{name}"})
        for args in runs:
            r = cli(*args)
            assert r.code in (0, 1), (args, r.err)
            for line in [r.out] if name != "watch" else r.out.splitlines():
                found = validator.iter_errors(json.loads(line))
                errors = [f"{list(e.absolute_path)}: {e.message}" for e in found]
                assert not errors, (name, errors[:5])
    broken = Draft202012Validator({**root, "$ref": "#/$defs/predict"})
    assert not broken.is_valid({"schema_version": 1, "tool_version": "x", "undocumented": 1})


def test_no_numpy_warning_reaches_the_user_of_the_command_line():
    """A numpy warning raised inside a command (here a division by zero slipped into compare) is not
    printed: the command's own lines say what the user should know."""
    import subprocess
    import sys
    code = ("import numpy as np, sys\n"
            "import lrforecast.cli as cli, lrforecast.forecast as forecast\n"
            "real = forecast.compare\n"
            "def noisy(*a, **k):\n"
            "    np.array([1.0]) / np.array([0.0])\n"
            "    return real(*a, **k)\n"
            "forecast.compare = noisy\n"
            "sys.exit(cli.main(['compare', '--schedules', 'cosine,wsd', '--no-chart']))\n")
    done = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "divide by zero" not in done.stderr
    assert "Candidates ranked" in done.stdout


def test_a_writer_killed_mid_write_leaves_a_temp_file_that_the_next_write_removes(cli, tmp_path):
    """kill -9 during a write leaves the old file and a hidden temporary beside it; the next write to
    the same file removes that temporary (its process is gone) and leaves only the new file."""
    import signal
    import subprocess
    import sys
    import time

    from lrforecast.reference import DEFAULT_LAW
    out = tmp_path / "curve.csv"
    out.write_text("old\n")
    code = ("import sys, time\nfrom lrforecast.atomic import replacing\n"
            "with replacing(sys.argv[1]) as tmp:\n    tmp.write_text('half')\n"
            "    print('writing', flush=True)\n    time.sleep(60)\n")
    writer = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "writing"
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    left = [p for p in tmp_path.iterdir() if p.name != out.name]
    assert len(left) == 1 and left[0].name.startswith(".curve.csv.") and out.read_text() == "old\n"
    time.sleep(0.05)
    r = cli("predict", DEFAULT_LAW, "--schedule", "cosine:total=30000", "--every", "1000", "-o", out)
    assert r.code == 0, r.err
    assert [p.name for p in tmp_path.iterdir()] == [out.name] and "predicted_loss" in out.read_text()


def test_two_runs_and_one_schedule_say_the_schedules_go_one_per_run(cli, tmp_path):
    """Two real logs without an LR column and one --schedule: the error says the schedules go to the
    runs in order, one each (it blamed the second log alone)."""
    run = read_run(REAL / "nsllm-qwen3-8b-cpt-trainer_log.jsonl")
    path = tmp_path / "loss.csv"
    path.write_text("step,loss\n" + "".join(f"{int(s)},{float(v)!r}\n" for s, v in
                                            zip(run.steps, run.loss, strict=True)))
    spec = "cosine:peak=5e-5:min=0:warmup=109:total=2178"
    r = cli("fit", path, path, "--schedule", spec)
    assert r.code == 2 and "1 --schedule given for 2 runs" in r.err and len(r.err.strip().splitlines()) == 1
    assert cli("fit", path, path, "--schedule", spec, "--schedule", spec, "--law", "momentum").code == 0


def test_evaluate_scores_only_the_steps_from_from_step(cli, mpl_runs):
    """evaluate --from-step S scores the run's points at S and after (the part a forecast was for)."""
    from lrforecast.reference import DEFAULT_LAW
    run = MPL / "25m" / "cosine_72000.csv"
    spec = mpl_runs["runs"]["cosine_72000"]
    every = json.loads(cli("evaluate", DEFAULT_LAW, run, "--schedule", spec, "--json").out)
    late = json.loads(cli("evaluate", DEFAULT_LAW, run, "--schedule", spec, "--json", "--from-step",
                          "40000").out)
    steps = read_run(run).steps
    assert late["points"] == int(((steps >= 40000) & (steps < 72000)).sum()) < every["points"]
    assert late["metrics"]["PredE"] != every["metrics"]["PredE"]


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["fit", "--help"], ["compare", "--help"]])
def test_help_and_version_import_neither_scipy_nor_pyarrow(args):
    """They answer at once: the modules that read logs and fit (scipy, pyarrow, matplotlib) are
    imported by the commands that use them (benchmarks/speed.py times it)."""
    code = ("import runpy, sys\nsys.argv = ['lrforecast', *sys.argv[1:]]\ntry:\n"
            "    runpy.run_module('lrforecast', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "heavy = ('scipy', 'pyarrow', 'matplotlib')\n"
            "print('loaded:', *(m for m in heavy if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip()
    assert done.stderr.strip().splitlines()[-1] == "loaded:"
