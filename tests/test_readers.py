"""Every real log in shared/data/real loads; each format's quirks; the TensorBoard reader against
the `tensorboard` package's own loader."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lrforecast.errors import InputError
from lrforecast.readers import read_run, read_runs, read_source
from lrforecast.readers.tensorboard import read_tensorboard

from .conftest import REAL

# The schedule of each run whose LR is not logged at every step (from the data README).
SCHEDULES = {
    "deepclima-r1-swift-logging.jsonl": "cosine:peak=1e-4:min=0:total=438",
    "gpt2-customtext-events.out.tfevents.1706894182.b25e0a13d181.12198.0":
        "linear:peak=5e-5:min=0:total=15750",
    "luojiu-llama2-7b-qlora-pretrain-trainer_log.jsonl": "cosine:peak=5e-5:min=0:total=8712",
    "luojiu-llama2-7b-qlora-pretrain-trainer_state.json": "cosine:peak=5e-5:min=0:total=8712",
    "nsllm-qwen3-8b-cpt-trainer_log.jsonl": "cosine:peak=5e-5:min=0:warmup=109:total=2178",
    "nsllm-qwen3-8b-cpt-trainer_state.json": "cosine:peak=5e-5:min=0:warmup=109:total=2178",
    "rameyjm7-qwen25-3b-sft-trainer_log.jsonl": "cosine:peak=1e-5:min=0:total=6566",
    "sygoat-mistral7b-lora-trainer_log.jsonl": "cosine:peak=5e-5:min=0:warmup=866:total=8660",
    "sygoat-mistral7b-lora-trainer_state.json": "cosine:peak=5e-5:min=0:warmup=866:total=8660",
}
FILES = sorted(p.name for p in REAL.iterdir() if p.name != "README.md") if REAL.is_dir() else []
EXPECTED_POINTS = {  # distinct loss steps, from the data README
    "deepclima-r1-swift-logging.jsonl": 44, "llmc-gpt2-124m-fineweb10b-main.log": 19552,
    "llmc-gpt2-124m-fineweb10b-stdout.log": 19559, "rameyjm7-qwen25-3b-sft-trainer_log.jsonl": 656,
    "sygoat-mistral7b-lora-trainer_state.json": 866, "nsllm-qwen3-8b-cpt-trainer_log.jsonl": 435,
    "luojiu-llama2-7b-qlora-pretrain-trainer_log.jsonl": 1742,
    "tinyllama-poem-lora-events.out.tfevents.1698362541.defea657d2b6.26.0": 2800,
    "gpt2-customtext-events.out.tfevents.1706894182.b25e0a13d181.12198.0": 31,
}


def test_the_real_data_is_all_here():
    assert len(FILES) == 15 and all((REAL / f).is_file() for f in FILES)


@pytest.mark.slow
@pytest.mark.parametrize("name", FILES)
def test_inspect_and_fit_every_real_log_without_hints(name, cli, tmp_path):
    r = cli("inspect", REAL / name, "--json")
    assert r.code == 0, r.err
    info = json.loads(r.out)
    if name in EXPECTED_POINTS:
        assert info["chosen"]["points"] == EXPECTED_POINTS[name]
    law = tmp_path / "law.json"
    assert info["chosen"]["lr_every_step"] == (name not in SCHEDULES)
    assert (info["chosen"]["schedule"] == "logged") == (name not in SCHEDULES)
    r = cli("fit", REAL / name, "-o", law, "--law", "momentum")  # a sparse LR: its schedule recognised
    assert r.code == 0, r.err
    assert json.loads(law.read_text())["runs"][0]["points"] > 10


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_a_sparsely_logged_lr_is_recognised_as_the_schedule_the_data_readme_gives(name):
    from lrforecast import fit
    from lrforecast.schedules import parse_schedule
    law = fit([read_run(REAL / name)], [parse_schedule("log")], law="momentum")
    want = parse_schedule(SCHEDULES[name])
    got = parse_schedule(law.runs[0].schedule)
    assert (got.name, got.peak, got.params["min"]) == (want.name, want.peak, 0.0)
    assert abs(got.warmup - want.warmup) <= 1 and abs(got.total - want.total) <= 3
    assert any("follows " + got.spec in n for n in law.notes)


def test_a_sparsely_logged_lr_of_no_standard_shape_is_refused_with_the_closest(tmp_path, cli):
    from lrforecast.schedules import parse_schedule
    steps = np.arange(10, 5001, 10)
    lr = parse_schedule("step:peak=3e-4:warmup=100:total=5001:at=2500/4000:to=1e-4/3e-5").lr()[steps]
    log = tmp_path / "steps.csv"
    rows = "".join(f"{s},{3 + 1 / s},{v}\n" for s, v in zip(steps, lr, strict=True))
    log.write_text("step,loss,lr\n" + rows)
    r = cli("fit", log)
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1
    assert "follows no standard schedule" in r.err and "closest: " in r.err


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_logged_lr_matches_its_schedule(name, cli):
    r = cli("fit", REAL / name, "--schedule", SCHEDULES[name], "--json", "--law", "momentum")
    notes = json.loads(r.out)["notes"]
    line = next(n for n in notes if "logged LR vs schedule" in n)
    assert "does not match" not in line, line
    if name.startswith(("nsllm", "rameyjm7")):  # these log the LR of the step before
        assert "offset -1 step" in line
    r = cli("fit", REAL / name, "--schedule", SCHEDULES[name].replace("peak=", "peak=2"), "--json",
            "--law", "momentum")
    assert any("does not match" in n for n in json.loads(r.out)["notes"])


def test_tensorboard_and_trainer_state_give_the_same_run():
    tb = read_run(next(REAL.glob("tinyllama-clinical-qlora-events*")))
    hf = read_run(REAL / "tinyllama-clinical-qlora-trainer_state.json")
    np.testing.assert_array_equal(tb.steps, hf.steps)
    np.testing.assert_array_equal(tb.loss, hf.loss.astype(np.float32).astype(np.float64))
    np.testing.assert_allclose(tb.lr, hf.lr, rtol=1e-7)


def test_jsonl_and_trainer_state_of_one_run_agree():
    for stem in ("sygoat-mistral7b-lora", "nsllm-qwen3-8b-cpt", "luojiu-llama2-7b-qlora-pretrain"):
        a, b = read_run(REAL / f"{stem}-trainer_log.jsonl"), read_run(REAL / f"{stem}-trainer_state.json")
        np.testing.assert_array_equal(a.steps, b.steps)
        np.testing.assert_allclose(a.loss, b.loss)
        np.testing.assert_allclose(a.lr, b.lr, rtol=1e-12)


def test_a_trainer_state_cut_short_says_to_copy_it_again(tmp_path, cli):
    cut = tmp_path / "trainer_state.json"  # copied while the trainer was writing it
    cut.write_bytes((REAL / "sygoat-mistral7b-lora-trainer_state.json").read_bytes()[:30_000])
    r = cli("fit", cut)
    assert r.code == 2 and r.err.count("\n") == 1 and "not valid JSON" in r.err and "copy it again" in r.err


def test_duplicated_ranks_are_resolved_as_asked():
    path = REAL / "rameyjm7-qwen25-3b-sft-trainer_log.jsonl"
    last, first, mean = (read_run(path, duplicates=d) for d in ("last", "first", "mean"))
    assert last.steps.size == first.steps.size == 656 and np.all(np.diff(last.steps) > 0)
    assert last.loss[0] == 0.8547 and first.loss[0] == 0.8548
    assert mean.loss[0] == pytest.approx(0.85475)
    assert any("repeated steps" in n for n in last.notes) and "sorted steps" in last.notes
    with pytest.raises(InputError, match="repeated steps"):
        read_run(path, duplicates="error")


def test_swift_step_comes_from_the_fraction_string():
    run = read_run(REAL / "deepclima-r1-swift-logging.jsonl")
    assert run.steps[:3].tolist() == [1, 10, 20] and run.steps[-1] == 430
    assert run.loss[0] == pytest.approx(20.53074074)


def test_llmc_logs():
    main = read_run(REAL / "llmc-gpt2-124m-fineweb10b-main.log")
    assert main.steps[0] == 0 and main.steps[-1] == 19551 and main.lr[0] == 1e-6
    out = read_run(REAL / "llmc-gpt2-124m-fineweb10b-stdout.log")
    assert 19528 not in out.steps and "skipped 1 broken step lines" in out.notes
    eta = out.logged_lr_every_step()  # one broken line is interpolated over
    assert eta is not None and eta.size == 19561


def test_loss_key_override_and_missing_field(tmp_path):
    run = read_run(REAL / "tinyllama-clinical-qlora-trainer_state.json", loss_key="epoch")
    assert run.loss[0] == 0.01 and run.steps[0] == 10  # epoch 0.0 (rounded) at steps 1-9: no loss
    assert run.loss.size == 991 and run.notes[-1].startswith("dropped 9 losses <= 0")
    with pytest.raises(InputError, match="no field 'nope'.*holds: .*loss"):
        read_run(REAL / "tinyllama-clinical-qlora-trainer_state.json", loss_key="nope")


# --- TensorBoard: against the tensorboard package --------------------------------------------


def reference_scalars(path):
    """(tag -> (steps, values)) of every scalar, as the tensorboard package's loader decodes them."""
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
    from tensorboard.util import tensor_util

    out = {}
    for event in LegacyEventFileLoader(str(path)).Load():
        for v in event.summary.value:
            kind = v.WhichOneof("value")
            if kind == "simple_value":
                x = v.simple_value
            elif kind == "tensor" and v.tensor.dtype != 7:  # not DT_STRING
                arr = tensor_util.make_ndarray(v.tensor)
                if arr.size != 1:
                    continue
                x = float(arr.reshape(-1)[0])
            else:
                continue
            s, vals = out.setdefault(v.tag, ([], []))
            s.append(event.step)
            vals.append(x)
    return out


def assert_same_as_tensorboard(path):
    ours = next(iter(read_tensorboard(path)[0].values()))
    ref = reference_scalars(path)
    assert set(ours) == set(ref)
    for tag, (steps, values) in ref.items():
        np.testing.assert_array_equal(ours[tag][0], steps)
        np.testing.assert_array_equal(ours[tag][1], np.asarray(values, dtype=np.float64))
    return ours


@pytest.mark.parametrize("name", [f for f in FILES if "tfevents" in f])
def test_real_event_files_match_tensorboard(name):
    ours = assert_same_as_tensorboard(REAL / name)
    assert "train/loss" in ours


def write_both_encodings(folder, steps=range(0, 50, 5)):
    """A tensorboardX file with simple_value scalars and rank-0 tensors of every storage kind."""
    from tensorboardX import SummaryWriter
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto

    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    with SummaryWriter(str(folder)) as w:
        for step in steps:
            w.add_scalar("old/loss", 3.0 - step / 100, step)
            tensors = {
                "new/float_val": TensorProto(dtype=1, float_val=[2.5 + step]),
                "new/double_val": TensorProto(dtype=2, double_val=[1e-4 * (1 + step)]),
                "new/content": TensorProto(dtype=1, tensor_content=np.float32(0.25 * step).tobytes()),
                "new/int64": TensorProto(dtype=9, int64_val=[step * 7]),
            }
            for i, (tag, t) in enumerate(tensors.items()):
                value = Summary.Value(tag=tag, tensor=t, metadata=meta if step == 0 else None)
                w._get_file_writer().add_summary(Summary(value=[value]), step + i * 0)
            w.add_text("notes", "text is not a scalar", step)
    return next(folder.glob("*tfevents*"))


def test_both_scalar_encodings_match_tensorboard(tmp_path):
    path = write_both_encodings(tmp_path)
    ours = assert_same_as_tensorboard(path)
    assert ours["new/double_val"][1][1] == pytest.approx(6e-4)
    assert ours["new/content"][1][2] == 2.5 and ours["new/int64"][1][3] == 105
    assert "notes" not in ours


def test_truncated_file_stops_cleanly(tmp_path, cli):
    path = write_both_encodings(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-7])
    runs, notes = read_tensorboard(path)
    series = next(iter(runs.values()))
    assert series["old/loss"][0].size == 10 and "truncated" in notes[0]
    assert cli("inspect", path, "--loss-key", "old/loss").code == 0


def test_event_files_that_are_empty_or_not_event_files(tmp_path, cli):
    real = REAL / "gpt2-customtext-events.out.tfevents.1706894182.b25e0a13d181.12198.0"
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / real.name).write_bytes(real.read_bytes())
    empty = folder / "events.out.tfevents.1800000000.host.1.0"  # a restarted job's new file
    empty.touch()
    runs, notes = read_tensorboard(folder)
    assert runs["."]["train/loss"][0].size == 31
    assert notes == [f"{empty.name}: empty, nothing logged in it yet"]
    r = cli("inspect", empty)
    assert r.code == 2 and "the event file is empty" in r.err
    garbage = tmp_path / "events.out.tfevents.garbage"
    garbage.write_bytes(bytes(range(256)) * 8)  # no valid first record, though long enough for one
    r = cli("inspect", garbage)
    assert r.code == 2 and "not a TensorBoard event file (its first record fails its checksum)" in r.err


def test_crc_verification(tmp_path):
    path = write_both_encodings(tmp_path)
    read_tensorboard(path, verify=True)
    data = bytearray(path.read_bytes())
    data[60] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="CRC|not a valid Event"):
        read_tensorboard(path, verify=True)


def test_lfs_pointer_is_named(tmp_path, cli):
    p = tmp_path / "events.out.tfevents.1700000000.host"
    p.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12345\n")
    r = cli("inspect", p)
    assert r.code == 2 and "Git LFS pointer" in r.err


@pytest.mark.slow
def test_run_directories(tmp_path, cli):
    real = next(REAL.glob("tinyllama-clinical-qlora-events*"))
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        shutil.copy(real, tmp_path / sub / real.name)
    r = cli("inspect", tmp_path)  # shows both runs, each with the fields it would use
    assert r.code == 0 and r.out.count("<- used") == 4 and "2 runs: fit or evaluate one with --run" in r.err
    assert json.loads(cli("inspect", tmp_path, "--json").out)["chosen"] is None
    r = cli("fit", tmp_path)
    assert r.code == 2 and "--run" in r.err and "a, b" in r.err
    r = cli("fit", tmp_path, "--run", "all", "--law", "momentum", "--json")  # both runs, jointly
    assert r.code == 0 and [f["name"] for f in json.loads(r.out)["runs"]] == ["a", "b"]
    r = cli("fit", tmp_path, "--run", "b", "--run", "c")
    assert r.code == 2 and "no run c in" in r.err
    assert cli("inspect", tmp_path, "--run", "b").code == 0
    # a resumed run: two files in one directory are joined in filename order, the later file wins
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    write_both_encodings(resumed, steps=range(0, 50, 5))
    (resumed / next(resumed.glob("*tfevents*")).name).rename(resumed / "events.out.tfevents.1.a")
    write_both_encodings(resumed, steps=range(30, 80, 5))
    (next(p for p in resumed.glob("*tfevents*") if not p.name.endswith(".a"))).rename(
        resumed / "events.out.tfevents.2.b")
    run = read_run(resumed, loss_key="old/loss")
    assert run.steps.tolist() == list(range(0, 80, 5))
    assert any("repeated steps" in n for n in run.notes)


# --- tables and text ---------------------------------------------------------------------------


def test_wandb_export_uses_the_trainer_step(tmp_path):
    p = tmp_path / "wandb_export.csv"
    rows = ["_step,train/global_step,run-1 - train/loss,run-1 - train/loss__MIN,"
            "run-1 - train/loss__MAX,train/learning_rate"]
    rows += [f"{i},{10 * i},{3 - i / 100},{1.0},{9.0},{1e-4}" for i in range(1, 40)]
    p.write_text("\n".join(rows) + "\n")
    run = read_run(p)
    assert run.steps[0] == 10 and run.loss[0] == pytest.approx(2.99) and run.lr[0] == 1e-4


WANDB_FIXTURE = Path(__file__).parent / "data" / "wandb-offline-run.wandb.gz"  # make_wandb_fixture.py


@pytest.mark.slow
def test_a_wandb_run_file_gives_what_was_logged(tmp_path, cli):
    import gzip
    import math
    folder = tmp_path / "wandb" / "offline-run-20261125_160648-abc123"  # as wandb leaves it
    folder.mkdir(parents=True)
    file = folder / "run-abc123.wandb"
    file.write_bytes(gzip.decompress(WANDB_FIXTURE.read_bytes()))
    src = read_source(folder)
    assert src.format == "wandb" and src.step_field == "_step"
    series = src.runs[folder.name]
    steps, loss = series["train/loss"]
    assert steps.tolist() == list(range(400))  # 400 rows over 6 blocks of 32 KiB
    want = [3.0 + 5.0 / math.sqrt(s + 10) for s in range(400)]
    assert np.isnan(loss[200]) and np.delete(loss, 200).tolist() == want[:200] + want[201:]
    assert series["tokens"][1].tolist() == [1024.0 * s for s in range(400)]  # integers
    assert series["train/grad_norm"][1][-1] == 1.0 + 399 / 400  # {"train": {"grad_norm": ...}}
    assert series["eval/loss"][0].tolist() == [0, 100, 200, 300]
    run = read_run(file)
    assert run.steps.size == 399 and "dropped 1 non-finite losses" in run.notes
    assert run.lr[0] == 3e-4 and cli("fit", folder, "--law", "momentum").code == 0
    other = folder.parent / "offline-run-20261126_090000-def456"  # the wandb/ folder of two runs
    other.mkdir()
    shutil.copy(file, other / "run-def456.wandb")
    (folder.parent / "latest-run").symlink_to(other.name)  # as wandb links its last run
    assert sorted(read_source(folder.parent).runs) == [folder.name, other.name]
    assert read_run(folder.parent, run=other.name).steps.size == 399
    # a run killed while writing: the read stops at the cut record, with a note
    cut = tmp_path / "cut.wandb"
    cut.write_bytes(file.read_bytes()[:100_000])
    src = read_source(cut)
    assert 100 < src.runs["cut"]["train/loss"][0].size < 400 and "stops being readable" in src.notes[0]
    damaged = bytearray(file.read_bytes())
    damaged[50_000] ^= 0xFF
    (tmp_path / "damaged.wandb").write_bytes(bytes(damaged))
    assert read_source(tmp_path / "damaged.wandb").runs["damaged"]["train/loss"][0].size < 400


def test_an_mlflow_file_store_gives_one_run_per_run_folder(tmp_path, cli):
    mlruns = tmp_path / "mlruns"
    for run_id, name, offset in (("a1b2", "pilot", 0.0), ("c3d4", "", 0.5)):
        run = mlruns / "1" / run_id
        (run / "metrics" / "train").mkdir(parents=True)  # the key train/loss is a folder
        (run / "tags").mkdir()
        (run / "tags" / "mlflow.runName").write_text(name)
        (run / "meta.yaml").write_text(f"run_id: {run_id}\n")
        lines = [f"{1700000000000 + s} {3 + offset + 1 / (s + 1)} {s}" for s in range(0, 3000, 10)]
        (run / "metrics" / "train" / "loss").write_text("\n".join(lines) + "\n")
        (run / "metrics" / "learning_rate").write_text(
            "\n".join(f"{1700000000000 + s} 0.0003 {s}" for s in range(0, 3000, 10)) + "\n")
    (mlruns / "1" / "meta.yaml").write_text("name: exp\n")
    src = read_source(mlruns)
    assert src.format == "mlflow" and sorted(src.runs) == ["c3d4", "pilot"]  # unnamed: the run id
    run = read_run(mlruns / "1" / "a1b2")
    assert run.steps[:3].tolist() == [0, 10, 20] and run.loss[1] == pytest.approx(3 + 1 / 11)
    assert run.lr[0] == 3e-4 and "loss=train/loss" in run.notes[0]
    assert read_run(mlruns, run="c3d4").loss[0] == pytest.approx(4.5)
    assert cli("fit", mlruns / "1" / "a1b2", "--law", "momentum").code == 0
    (mlruns / "1" / "a1b2" / "metrics" / "learning_rate").write_text("not a metric line\n")
    r = cli("inspect", mlruns / "1" / "a1b2")
    assert r.code == 2 and "not an MLflow metric file" in r.err


MLFLOW_FIXTURE = Path(__file__).parent / "data" / "mlflow.db.gz"  # make_mlflow_db_fixture.py


def test_an_mlflow_database_gives_what_was_logged(tmp_path, cli):
    import gzip
    import math
    db = tmp_path / "mlflow.db"
    db.write_bytes(gzip.decompress(MLFLOW_FIXTURE.read_bytes()))
    before = db.read_bytes()
    src = read_source(db)
    assert src.format == "mlflow" and "left out 1 deleted run(s)" in src.notes[0]
    assert list(src.runs) == ["pilot (lrforecast-fixture)", "cooldown", "pilot (other)"]
    series = src.runs["pilot (lrforecast-fixture)"]
    steps, loss = series["train/loss"]
    want = [3.0 + 5.0 / math.sqrt(s + 10) for s in range(300)]
    assert steps.tolist() == list(range(300))
    assert np.isnan(loss[150]) and np.delete(loss, 150).tolist() == want[:150] + want[151:]
    assert series["learning_rate"][1][0] == 3e-4 and series["eval/loss"][0].tolist() == [0, 100, 200]
    assert src.runs["cooldown"]["train/loss"][0].tolist() == list(range(0, 200, 10))
    assert read_source(tmp_path).runs.keys() == src.runs.keys()  # the folder that holds mlflow.db
    run = read_run(db, run="pilot (other)")
    assert run.loss[0] == pytest.approx(want[0] + 1.0) and run.lr is None
    assert cli("fit", db, "--run", "cooldown", "--law", "momentum",
               "--schedule", "constant:peak=1e-4").code == 0
    assert db.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["mlflow.db"]
    r = cli("inspect", MLFLOW_FIXTURE, "--run", "pilot")  # gzipped; the name is ambiguous
    assert r.code == 2 and "pilot (lrforecast-fixture), cooldown, pilot (other)" in r.err
    other = tmp_path / "other.sqlite"
    import sqlite3
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE t (x)")
    r = cli("inspect", other)
    assert r.code == 2 and "an SQLite database, but not MLflow's" in r.err
    cut = tmp_path / "cut.db"
    cut.write_bytes(before[:200_000])
    r = cli("inspect", cut)
    assert r.code == 2 and r.err.count("\n") == 1 and "cut.db" in r.err
    with sqlite3.connect(db) as con:  # a run that has logged nothing yet
        con.execute("INSERT INTO runs (run_uuid, name, lifecycle_stage, experiment_id) "
                    "VALUES ('ffff', 'new', 'active', 1)")
    r = cli("inspect", db, "--run", "new")
    assert r.code == 2 and "(run new): nothing is logged in it" in r.err


def test_a_folder_without_runs_names_the_logs_it_holds(tmp_path, cli):
    project = tmp_path / "project"  # a training project, given instead of its log
    (project / "mlruns" / "1" / "a1b2" / "metrics").mkdir(parents=True)
    (project / "mlruns" / "1" / "a1b2" / "metrics" / "loss").write_text(
        "".join(f"{1700000000000 + s} {3 + 1 / (s + 1)} {s}\n" for s in range(0, 300, 10)))
    (project / "checkpoints").mkdir()
    shutil.copy(REAL / "nsllm-qwen3-8b-cpt-trainer_state.json", project / "trainer_state.json")
    r = cli("inspect", project)
    assert r.code == 2 and r.err.count("\n") == 1
    assert "no TensorBoard event files" in r.err and "it holds mlruns/, trainer_state.json: give one" in r.err
    assert all(cli("inspect", project / name).code == 0 for name in ("mlruns", "trainer_state.json"))
    r = cli("inspect", project / "checkpoints")
    assert r.code == 2 and "W&B or MLflow runs in this directory" in r.err and "holds" not in r.err


def test_python_dicts_with_a_step_field_are_records(tmp_path):
    log = tmp_path / "train.out"
    lines = ["starting run", "{'model': 'gpt', 'layers': 12}"]  # a config line, no step
    lines += [f"{{'iter': {i}, 'loss': {3 - i / 1000:.4f}, 'lr': 0.0006}}" for i in range(10, 500, 10)]
    log.write_text("\n".join(lines) + "\n")
    run = read_run(log)
    assert run.steps[0] == 10 and run.steps[-1] == 490 and run.loss[0] == pytest.approx(2.99)
    assert run.lr[0] == 6e-4 and "text (python dicts); step=iter" in run.notes[0]


def test_a_wandb_export_of_several_runs_keeps_them_apart(tmp_path, cli):
    p = tmp_path / "wandb_export.csv"
    rows = ["Step,big - train/loss,big - train/loss__MIN,small - train/loss,small - train/loss__MAX"]
    rows += [f"{10 * i},{3 - i / 100},1.0,{4 - i / 100},9.0" for i in range(1, 40)]
    rows += [f"{10 * i},,,{4 - i / 100},9.0" for i in range(40, 50)]  # the small run logged longer
    p.write_text("\n".join(rows) + "\n")
    big, small = read_run(p, run="big"), read_run(p, run="small")
    assert big.loss[0] == pytest.approx(2.99) and big.steps[-1] == 390
    assert small.loss[0] == pytest.approx(3.99) and small.steps[-1] == 490
    r = cli("fit", p, "-s", "constant:peak=1e-3:total=500")
    assert r.code == 2 and "holds 2 runs (big, small)" in r.err
    assert [r.name for r in read_runs([p], runs=["small", "big"])] == ["small", "big"]  # as asked
    assert [r.name for r in read_runs([p, p], runs=["all"])] == ["big", "small", "big", "small"]
    r = cli("fit", p, "--run", "big", "--run", "small", "-s", "constant:peak=1e-3:total=500", "-s",
            "constant:peak=1e-3:total=500", "-s", "cosine:peak=1e-3")
    assert r.code == 2 and "3 --schedule options for 2 runs" in r.err


@pytest.mark.parametrize("name, compress, suffix", [
    ("sygoat-mistral7b-lora-trainer_state.json", "gzip", ".gz"),
    ("tinyllama-poem-lora-events.out.tfevents.1698362541.defea657d2b6.26.0", "bz2", ".bz2"),
    ("llmc-gpt2-124m-fineweb10b-main.log", "lzma", ".xz"),
])
def test_a_compressed_log_reads_as_the_file_inside(name, compress, suffix, tmp_path, cli):
    import importlib
    module = importlib.import_module(compress)
    packed = tmp_path / (name + suffix)
    packed.write_bytes(module.compress((REAL / name).read_bytes()))
    plain, unpacked = read_run(REAL / name), read_run(packed)
    np.testing.assert_array_equal(plain.steps, unpacked.steps)
    np.testing.assert_array_equal(plain.loss, unpacked.loss)
    assert unpacked.source == str(packed) and unpacked.name == plain.name
    packed.write_bytes(packed.read_bytes()[:200])  # a download cut short
    r = cli("inspect", packed)
    assert r.code == 2 and "damaged" in r.err and len(r.err.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["llmc-gpt2-124m-fineweb10b-stdout.log",
                                  "nsllm-qwen3-8b-cpt-trainer_log.jsonl",
                                  "tinyllama-clinical-qlora-trainer_state.json"])
def test_a_utf16_log_reads_as_utf8(name, tmp_path):
    plain = REAL / name  # as Windows PowerShell 5's `python train.py > log.txt` writes it
    wide = tmp_path / name
    wide.write_text(plain.read_text(), encoding="utf-16")
    a, b = read_run(plain), read_run(wide)
    np.testing.assert_array_equal(a.steps, b.steps)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert b.source == str(wide)


def test_a_spreadsheet_csv_with_semicolons_and_decimal_commas(tmp_path):
    rows = "".join(f"{s};{3 + 100 / s:.4f};3e-4\n" for s in range(10, 500, 10))
    points = tmp_path / "points.csv"
    points.write_text("step;loss;lr\n" + rows)
    commas = tmp_path / "commas.csv"
    commas.write_text("step;loss;lr\n" + rows.replace(".", ","))
    a, b = read_run(points), read_run(commas)
    assert a.steps.size == 49 and a.loss[0] == 13.0 and a.lr[-1] == 3e-4
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.lr, b.lr)


def test_lightning_sparse_rows(tmp_path):
    p = tmp_path / "metrics.csv"
    p.write_text("epoch,lr-AdamW,step,train_loss_step,val_loss\n"
                 "0,0.0003,49,,\n0,,49,2.91,\n0,0.0003,99,,\n0,,99,2.80,\n0,,99,,2.85\n")
    run = read_run(p)
    assert run.steps.tolist() == [49, 99] and run.loss.tolist() == [2.91, 2.80]
    assert run.lr.tolist() == [3e-4, 3e-4]
    # several param groups, and an optimizer the name lists do not know: the first group's LR
    p.write_text("epoch,step,lr-Lion/pg1,lr-Lion/pg1-momentum,lr-Lion/pg2,train_loss_step\n"
                 "0,49,0.0001,0.9,0.0002,2.91\n0,99,0.00009,0.9,0.00018,2.80\n")
    run = read_run(p)
    assert run.lr.tolist() == [1e-4, 9e-5] and "lr=lr-Lion/pg1" in run.notes[0]
    p.write_text("step,lr-SGD-momentum,train_loss_step\n49,0.9,2.91\n99,0.9,2.80\n")
    assert read_run(p).lr is None  # momentum is not an LR


def test_text_patterns(tmp_path):
    nano = tmp_path / "nano.txt"
    nano.write_text("step 0: train loss 10.9, val loss 10.9\niter 0: loss 10.9312, time 3ms, mfu -100%\n"
                    "iter 1: loss 10.2, time 3ms\niter 2: lo\x1b[0mERROR\niter 3: loss 9.1, time 3ms\n")
    run = read_run(nano)
    assert run.steps.tolist() == [0, 1, 3] and "skipped 1 broken step lines" in run.notes
    mega = tmp_path / "megatron.out"
    mega.write_text(" iteration      100/   10000 | consumed samples: 51200 | elapsed time per iteration "
                    "(ms): 1.0 | learning rate: 1.500000E-04 | global batch size: 512 | lm loss: "
                    "6.123456E+00 | loss scale: 1.0 |\n" * 1
                    + " iteration      200/   10000 | consumed samples: 102400 | learning rate: "
                      "3.000000E-04 | global batch size: 512 | lm loss: 5.5E+00 | loss scale: 1.0 |\n")
    run = read_run(mega)
    assert run.steps.tolist() == [100, 200] and run.lr.tolist() == [1.5e-4, 3e-4]
    titan = tmp_path / "titan.log"
    titan.write_text("[rank0]: \x1b[31mstep:  1  \x1b[32mloss:  8.1234  \x1b[33mmemory: 5GiB\n"
                     "[rank0]: \x1b[31mstep:  2  \x1b[32mloss:  7.9  \x1b[33mmemory: 5GiB\n")
    assert read_run(titan).loss.tolist() == [8.1234, 7.9]
    custom = tmp_path / "custom.log"
    custom.write_text("epoch 1 it=5 L=2.5 eta=0.1\nepoch 1 it=6 L=2.4 eta=0.1\n")
    run = read_run(custom, pattern=r"it=(?P<step>\d+) L=(?P<loss>[\d.]+) eta=(?P<lr>[\d.]+)")
    assert run.steps.tolist() == [5, 6] and run.lr.tolist() == [0.1, 0.1]
    with pytest.raises(InputError, match="named groups"):
        read_run(custom, pattern=r"it=(\d+)")
    with pytest.raises(InputError, match="--pattern"):
        read_source(tmp_path / "megatron.out", format="text", pattern="(")


@pytest.mark.slow
def test_key_value_lines_of_other_training_scripts(tmp_path, cli):
    """Lines as these print them: build-nanogpt (and its log.txt), fairseq, LitGPT, OLMo-core, Composer,
    MaxText, nanotron."""
    build = tmp_path / "train.out"
    lines = ["using device: cuda", "validation loss: 10.9512", "HellaSwag accuracy: 2500/10042=0.2490"]
    lines += [f"step {s:5d} | loss: {11 - s / 100:.6f} | lr {6e-4 * min(1, (s + 1) / 50):.4e} | norm: 0.4000 "
              f"| dt: 330.12ms | tok/sec: 1588000.12" for s in range(200)]
    build.write_text("\n".join(lines) + "\n")
    run = read_run(build)
    assert run.steps.tolist() == list(range(200)) and run.loss[[0, -1]].tolist() == [11.0, 9.01]
    assert run.lr[0] == pytest.approx(1.2e-5)
    assert "text (key-value pairs); step=step loss=loss lr=lr" in run.notes[0]
    assert cli("fit", build, "--law", "momentum").code == 0  # the logged LR at every step is the schedule
    log_txt = tmp_path / "log.txt"
    log_txt.write_text("0 val 10.9512\n0 hella 0.2490\n0 train 10.955928\n1 train 10.1\n250 val 6.1\n")
    run = read_run(log_txt)
    assert run.steps.tolist() == [0, 1] and run.loss.tolist() == [10.955928, 10.1] and run.lr is None
    fairseq = tmp_path / "train.log"
    fairseq.write_text("".join(
        f"2023-05-01 12:00:00 | INFO | train_inner | epoch 001:    {u} / 8000 loss=9.{u // 100}, ppl=1912, "
        f"wps=12000, wpb=8000, bsz=16, num_updates={u}, lr={5e-4 * u / 300:g}, gnorm=1.1, wall=100\n"
        for u in (100, 200, 300)))
    run = read_run(fairseq)
    assert run.steps.tolist() == [100, 200, 300] and run.loss.tolist() == [9.1, 9.2, 9.3]
    assert run.lr[-1] == pytest.approx(5e-4) and "step=num_updates" in run.notes[0]
    litgpt = tmp_path / "pretrain.log"
    lines = [f"Epoch 1 | iter {i} step {i // 2} | loss train: {10 - i / 10:.3f}, val: n/a | iter time: "
             f"300.00 ms{' (step)' if i % 2 == 0 else ''}" for i in range(1, 7)]
    litgpt.write_text("\n".join(lines) + "\n")
    run = read_run(litgpt)  # the optimiser's step, not the micro-batch iter; the last iter of each step
    assert run.steps.tolist() == [0, 1, 2, 3] and run.loss.tolist() == [9.9, 9.7, 9.5, 9.4]
    assert "loss=loss train" in run.notes[0]
    olmo = tmp_path / "olmo.log"  # OLMo-core's console logger: metrics indented under the step line
    blocks = []
    for step in (1, 100, 200):
        blocks += [f"2026-08-08 12:01:00 INFO [olmo_core.train.callbacks.console_logger:68] "
                   f"[step={step}/2000,epoch=0,eta=5h11m]", f"    train/CE loss={7 - step / 100:.4f}",
                   "    train/PPL=511.9", "    train/Z loss=0.0123",
                   f"    optim/LR (group 0)={3e-4 * step / 200:.3E}",
                   f"2026-08-08 12:03:10 INFO [olmo_core.train.trainer:1003] Saving checkpoint for step "
                   f"{step} to 's3://b/k'...", "    not a metric=1"]
    olmo.write_text("\n".join(blocks) + "\n")
    run = read_run(olmo)
    assert run.steps.tolist() == [1, 100, 200] and run.loss.tolist() == [6.99, 6.0, 5.0]
    assert run.lr.tolist() == [1.5e-6, 1.5e-4, 3e-4]
    assert "loss=train/CE loss lr=optim/LR (group 0)" in run.notes[0]
    assert "not a metric" not in read_source(olmo).runs["olmo.log"]  # the checkpoint line ended the block
    olmo.write_text("".join(f"[step={s}/2000,epoch=0,eta=5h] epoch=0 loss={7 - s / 100:.4f} ppl=9.1 "
                            f"lr={3e-4:.3E} mem=20.1GiB mfu=40.2%\n" for s in (1, 100)))  # its compact form
    run = read_run(olmo)
    assert run.steps.tolist() == [1, 100] and run.loss.tolist() == [6.99, 6.0] and run.lr[0] == 3e-4
    composer = tmp_path / "composer.log"  # Composer / llm-foundry: `Train name: value` under a header
    lines = ["******************************", "num_gpus_per_node: 8", "******************************"]
    for batch in (100, 200, 300):
        lines += [f"[epoch=1][batch={batch}/300]:", f"\t Train time/batch: {batch - 1}",
                  f"\t Train loss/train/total: {9 - batch / 100:.4f}", "\t Train time/train: 0.0050",
                  "\t Train lr-DecoupledAdamW/group0: 0.0000"]  # its console rounds the LR to 4 decimals
    composer.write_text("\n".join(lines) + "\n")
    run = read_run(composer)
    assert run.steps.tolist() == [99, 199, 299] and run.loss.tolist() == [8.0, 7.0, 6.0]
    assert "step=time/batch loss=loss/train/total" in run.notes[0]
    r = cli("fit", composer)
    assert r.code == 2 and "LR is zero everywhere" in r.err and "--schedule" in r.err
    maxtext = tmp_path / "maxtext.log"  # MaxText's metric logger; its LR goes to TensorBoard only
    maxtext.write_text("".join(
        f"I0804 08:14:00.000000 1 metric_logger.py:196] completed step: {s}, seconds: 0.512, "
        f"TFLOP/s/device: 200.0, Tokens/s/device: 25000.0, total_weights: 393216, loss: {9 - s / 10:.3f}, "
        f"lm_loss: {9 - s / 10:.3f}, perplexity: 10.0\n" for s in range(5)))
    run = read_run(maxtext)
    assert run.steps.tolist() == list(range(5)) and run.loss[-1] == 8.6 and run.lr is None
    assert "step=completed step loss=loss" in run.notes[0]
    nanotron = tmp_path / "nanotron.log"
    nanotron.write_text("".join(
        f"11/25/2026 10:00:00 [INFO|DP=0|PP=0|TP=0|host]: iteration: {s} / 2000 | "
        f"consumed_tokens: {4096 * s} | elapsed_time_per_iteration_ms: 512 | global_batch_size: 8 | "
        f"lm_loss: {9 - s / 10:.4f} | lr: {3e-4 * s / 4:.4e} | model_tflops_per_gpu: 12.3 | grad_norm: 0.5\n"
        for s in range(1, 5)))
    run = read_run(nanotron)
    assert run.steps.tolist() == [1, 2, 3, 4] and run.loss[0] == 8.9 and run.lr[-1] == 3e-4
    other = tmp_path / "other.log"
    other.write_text("saving checkpoint at step 500\nepoch 3 done\n")
    r = cli("inspect", other)
    assert r.code == 2 and "no training-step lines recognised" in r.err and "--pattern" in r.err


@pytest.mark.slow
def test_fit_with_no_options_at_all_picks_a_law(cli):
    r = cli("fit", REAL / "tinyllama-clinical-qlora-trainer_state.json", "--json")
    assert r.code == 0, r.err
    from lrforecast.laws import LAWS
    selection = json.loads(r.out)["selection"]
    assert selection["chosen"] in selection["cv"] and set(selection["cv"]) <= set(LAWS)


def test_generic_jsonl_with_a_broken_line(tmp_path):
    p = tmp_path / "metrics.jsonl"
    p.write_text('{"iteration": 1, "train_loss": 3.0}\nnot json at all\n{"iteration": 2, "train_loss": 2.9}\n'
                 '{"iteration": 3, "train_loss": NaN}\n{"iteration": 4, "val_loss": 2.95}\n')
    run = read_run(p)
    assert run.steps.tolist() == [1, 2] and run.loss.tolist() == [3.0, 2.9]
    assert "skipped 1 lines that are not JSON objects" in run.notes
    assert "dropped 1 non-finite losses" in run.notes


def test_nested_jsonl_objects_are_flattened_with_slashes(tmp_path):
    lines = [json.dumps({"global_step": i, "train": {"loss": 3.0 - i / 10, "lr": 1e-3}}) for i in (1, 2, 3)]
    clean, broken = tmp_path / "clean.jsonl", tmp_path / "broken.jsonl"
    clean.write_text("\n".join(lines) + "\n")  # read by pyarrow.json
    broken.write_text("\n".join(lines[:2] + ["not json"] + lines[2:]) + "\n")  # line by line
    for path in (clean, broken):
        run = read_run(path)
        assert run.steps.tolist() == [1, 2, 3] and run.loss.tolist() == [2.9, 2.8, 2.7]
        assert run.lr.tolist() == [1e-3] * 3 and "loss=train/loss" in " ".join(run.notes)


def test_numbers_written_as_strings_read_alike_with_or_without_a_broken_line(tmp_path):
    lines = [json.dumps({"step": i, "loss": f"{3.0 - i / 10:.1f}", "lr": "1e-3", "tag": "x"}) for i in (1, 2)]
    clean, broken = tmp_path / "clean.jsonl", tmp_path / "broken.jsonl"
    clean.write_text("\n".join(lines) + "\n")  # pyarrow.json: a column of strings cast to numbers
    broken.write_text("\n".join(lines + ["not json"]) + "\n")  # line by line
    a, b = read_run(clean), read_run(broken)
    assert a.loss.tolist() == b.loss.tolist() == [2.9, 2.8] and a.lr.tolist() == b.lr.tolist() == [1e-3] * 2


def test_hugging_face_trainer_stdout_takes_its_steps_from_the_progress_bar(tmp_path):
    bar = "{pct:>3}%|▏         | {n}/3000 [01:40<1:12:54,  4.96it/s]"
    lines = ["***** Running training *****", "  Total optimization steps = 3000",
             bar.format(pct=0, n=0) + "\r" + bar.format(pct=16, n=497) + "\r" + bar.format(pct=16, n=500)
             + "{'loss': 2.5609, 'grad_norm': 1.1, 'learning_rate': 1.9e-05, 'epoch': 0.05}",
             "{'eval_loss': 2.7, 'eval_runtime': 8.6, 'epoch': 0.05}",
             bar.format(pct=33, n=1000) + "{'loss': '1.592', 'learning_rate': '1.8e-05', 'epoch': '0.1'}",
             bar.format(pct=50, n=1500) + "{'loss': 1.4674, 'learning_rate': 1.7e-05, 'epoch': 0.14}",
             "{'train_runtime': 66.6, 'train_loss': 1.9, 'epoch': 0.14}"]
    log = tmp_path / "slurm-123.out"
    log.write_text("\n".join(lines) + "\n")
    run = read_run(log)
    assert run.steps.tolist() == [500, 1000, 1500]
    assert run.loss.tolist() == [2.5609, 1.592, 1.4674] and run.lr.tolist() == [1.9e-05, 1.8e-05, 1.7e-05]
    assert "steps read from the progress bar" in run.notes
    stdout_only = tmp_path / "stdout.log"
    stdout_only.write_text("{'loss': 2.5609, 'learning_rate': 1.9e-05, 'epoch': 0.05}\n")
    with pytest.raises(InputError, match="no step. Capture stderr too"):
        read_run(stdout_only)


def test_parquet_and_tsv_tables(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    steps = np.arange(0, 1000, 10)
    table = pa.table({"trainer/global_step": steps, "train/loss": 3 - steps / 1e3,
                      "train/learning_rate": np.full(steps.size, 2e-4)})
    pq.write_table(table, tmp_path / "history.parquet")
    run = read_run(tmp_path / "history.parquet")
    assert run.format == "parquet" and run.steps.tolist() == steps.tolist() and run.lr[0] == 2e-4
    tsv = tmp_path / "log.tsv"
    tsv.write_text("step\tloss\n1\t3.0\n2\t2.9\n")
    assert read_run(tsv).loss.tolist() == [3.0, 2.9]


def _pipe(monkeypatch, data: bytes) -> None:
    import io
    import sys
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_a_log_piped_into_stdin_reads_like_the_file(monkeypatch, tmp_path, cli):
    path = REAL / "llmc-gpt2-124m-fineweb10b-stdout.log"
    _pipe(monkeypatch, path.read_bytes())
    piped = read_run("-")
    direct = read_run(path)
    assert piped.format == direct.format and piped.source == "-" and piped.name == "stdin"
    assert np.array_equal(piped.steps, direct.steps) and np.array_equal(piped.loss, direct.loss)
    _pipe(monkeypatch, (REAL / "sygoat-mistral7b-lora-trainer_state.json").read_bytes())
    assert read_run("-").format == "trainer_state"
    import pyarrow as pa
    import pyarrow.parquet as pq
    pq.write_table(pa.table({"step": np.arange(10), "loss": np.linspace(3, 2, 10)}), tmp_path / "noext")
    _pipe(monkeypatch, (tmp_path / "noext").read_bytes())  # parquet known by its magic bytes
    assert read_run("-").format == "parquet"
    _pipe(monkeypatch, b"step,loss\n")
    r = cli("fit", "-")
    assert r.code == 2 and r.err.startswith("error: standard input: the file has a header but no rows")
    _pipe(monkeypatch, b"  \n")
    r = cli("inspect", "-")
    assert r.code == 2 and r.err.count("\n") == 1 and "standard input is empty" in r.err


def test_fields_under_a_namespace_of_the_loggers_own(tmp_path):
    p = tmp_path / "metrics.jsonl"
    p.write_text("".join(json.dumps({"step": s, "metrics": {"train/loss": 3 - s / 100, "lr": 1e-4}}) + "\n"
                         for s in range(1, 6)))
    run = read_run(p)
    assert run.loss.tolist() == [2.99, 2.98, 2.97, 2.96, 2.95] and run.lr[0] == 1e-4
    assert "loss=metrics/train/loss lr=metrics/lr" in run.notes[0]
    two = [json.dumps({"step": s, "a": {"loss": 3.0}, "b": {"loss": 2.0}}) for s in (1, 2)]
    p.write_text("\n".join(two) + "\n")
    with pytest.raises(InputError, match="no loss field found; it holds: .*a/loss, b/loss"):
        read_run(p)  # two of them: which one is for the user to say


def test_a_jsonl_log_with_a_latin1_note_a_huge_integer_and_a_line_nested_100000_deep_reads_as_before(
        tmp_path):
    """What real logs carry beside their losses: a note in Latin-1, a seed or nanosecond timestamp
    above 2^53, a line nested far deeper than any log (pyarrow crashed on it, SIGSEGV). The losses
    read as from the clean log; the deep line is skipped and counted."""
    import subprocess
    import sys
    clean = REAL / "rameyjm7-qwen25-3b-sft-trainer_log.jsonl"
    lines = clean.read_bytes().splitlines()
    mutated = []
    for i, line in enumerate(lines):
        obj = json.loads(line)
        obj["seed"] = 2**62 + i
        mutated.append(json.dumps(obj).encode()[:-1] + b', "note": "caf\xe9"}')
    mutated.insert(len(mutated) // 2, b'{"a": ' * 100_000 + b"1" + b"}" * 100_000)
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"\n".join(mutated) + b"\n")
    code = ("import sys; from lrforecast.readers import read_run; r = read_run(sys.argv[1]); "
            "print(r.steps.size, float(r.loss.sum()), r.notes)")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    want = read_run(clean)
    n, total, notes = done.stdout.split(" ", 2)
    assert int(n) == want.steps.size and float(total) == pytest.approx(float(want.loss.sum()), rel=1e-12)
    assert "skipped 1 lines nested deeper than 64 levels" in notes


def test_a_csv_column_of_integers_above_2_53_is_read(tmp_path):
    """A nanosecond timestamp column (above 2^53, beyond float64's integers) beside a real run's
    columns: the run reads as without it (it was exit 4, pyarrow refusing the cast)."""
    clean = read_run(REAL / "nsllm-qwen3-8b-cpt-trainer_log.jsonl")
    points = enumerate(zip(clean.steps, clean.loss, strict=True))
    rows = ["step,loss,timestamp_ns"] + [f"{int(s)},{float(v)!r},{1_700_000_000_000_000_000 + i}"
                                          for i, (s, v) in points]
    path = tmp_path / "log.csv"
    path.write_text("\n".join(rows) + "\n")
    run = read_run(path)
    np.testing.assert_array_equal(run.steps, clean.steps)
    np.testing.assert_array_equal(run.loss, clean.loss)


def test_a_forecast_written_as_tensorboard_scalars_reads_back_exactly_in_tensorboard_and_ours(
        cli, tmp_path):
    """`predict --tensorboard DIR` beside a real run's event file: the `tensorboard` package's loader
    (no subsampling) and our reader (CRCs checked) give every written step and value (float32),
    and the run's own loss is still the loss our reader picks in that folder."""
    from tensorboard.backend.event_processing import event_accumulator as ea

    from lrforecast.readers.tensorboard import read_events
    from lrforecast.reference import DEFAULT_LAW
    real = next(REAL.glob("tinyllama-poem-lora-events.out.tfevents.*"))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    shutil.copy(real, run_dir / real.name)
    before = read_run(run_dir)
    csv = tmp_path / "forecast.csv"
    r = cli("predict", DEFAULT_LAW, "--schedule", "cosine:total=3000", "--tensorboard", run_dir, "-o", csv)
    assert r.code == 0, r.err
    written = [p for p in run_dir.iterdir() if p.name != real.name]
    assert len(written) == 1 and ".tfevents." in written[0].name
    rows = np.genfromtxt(csv, delimiter=",", names=True)
    acc = ea.EventAccumulator(str(written[0]), size_guidance={ea.SCALARS: 0})
    acc.Reload()
    assert set(acc.Tags()["scalars"]) == {"forecast/loss", "forecast/low", "forecast/high",
                                          "forecast/held_out_error"}
    ours: dict = {}
    assert read_events(written[0], ours, verify=True) == []
    columns = {"forecast/loss": "predicted_loss", "forecast/low": "low", "forecast/high": "high"}
    for tag, column in columns.items():
        theirs = acc.Scalars(tag)
        steps = np.array([e.step for e in theirs])
        np.testing.assert_array_equal(steps, rows["step"].astype(np.int64))
        want = rows[column].astype(np.float32)  # the CSV's 6 decimals, the event's float32
        np.testing.assert_allclose([e.value for e in theirs], want, atol=1e-6)
        np.testing.assert_array_equal(ours[tag][0], steps)
        np.testing.assert_array_equal(np.float32(ours[tag][1]), np.float32([e.value for e in theirs]))
    after = read_run(run_dir)
    np.testing.assert_array_equal(after.loss, before.loss)


def test_llmc_logs_without_an_lr_and_of_validation_losses_only_read(tmp_path):
    """llm.c's main.log in its three line forms: `s:N trl:X lr:Y norm:Z`, the older `s:N trl:X`,
    and `s:N tel:X` (validation) offered as the series tel, or the loss of a log that has only it."""
    real = REAL / "llmc-gpt2-124m-fineweb10b-main.log"
    lines = real.read_text().splitlines()
    full = read_run(real)
    old = tmp_path / "old.log"
    old.write_text("\n".join(" ".join(w for w in ln.split() if not w.startswith(("lr:", "norm:")))
                             for ln in lines) + "\n")
    no_lr = read_run(old)
    np.testing.assert_array_equal(no_lr.loss, full.loss)
    assert no_lr.lr is None and full.lr is not None
    tel = [ln for ln in lines if " tel:" in ln]
    val = read_run(real, loss_key="tel")
    assert val.steps.size == len(tel) and val.loss[0] == float(tel[0].split("tel:")[1])
    only = tmp_path / "val.log"
    only.write_text("\n".join(tel) + "\n")
    np.testing.assert_array_equal(read_run(only).loss, val.loss)


def test_an_mlflow_database_in_wal_mode_is_read_without_a_file_written_beside_it(tmp_path):
    import gzip
    import sqlite3
    db = tmp_path / "mlflow.db"
    db.write_bytes(gzip.decompress(MLFLOW_FIXTURE.read_bytes()))
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    con.close()
    before = sorted(p.name for p in tmp_path.iterdir())
    digest = db.read_bytes()
    src = read_source(db)
    assert "pilot (lrforecast-fixture)" in src.runs
    assert sorted(p.name for p in tmp_path.iterdir()) == before and db.read_bytes() == digest


def test_a_compressed_log_is_streamed_and_a_decompression_bomb_refused(tmp_path, monkeypatch):
    """A real log gzipped reads as the log; one that decompresses past the limit is refused with
    exit-2 kind of error, after at most the limit is written (here 1 MB, the default 1 GB)."""
    import gzip

    import lrforecast.readers as readers
    real = REAL / "nsllm-qwen3-8b-cpt-trainer_log.jsonl"
    packed = tmp_path / "log.jsonl.gz"
    packed.write_bytes(gzip.compress(real.read_bytes()))
    np.testing.assert_array_equal(read_run(packed).loss, read_run(real).loss)
    monkeypatch.setattr(readers, "MAX_DECOMPRESSED", 1 << 20)
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"step,loss\n" + b"1,2.0\n" * 400_000))  # 2.4 MB inside
    with pytest.raises(InputError, match="decompresses to more than"):
        read_run(bomb)


def test_a_backtracking_pattern_is_stopped_at_its_time_bound(tmp_path, monkeypatch, cli):
    """--pattern runs under a time bound (10 s; 0.5 s here): a pattern that backtracks without end
    on a real log's lines is refused with a clear error (exit 2), not left to hang."""
    import lrforecast.readers.text as text
    monkeypatch.setattr(text, "PATTERN_SECONDS", 0.5)
    log = tmp_path / "stdout.log"
    lines = (REAL / "llmc-gpt2-124m-fineweb10b-stdout.log").read_text().splitlines()[:200]
    log.write_text("\n".join(lines + ["step " + "1" * 40 + "!"]) + "\n")
    good = cli("inspect", log, "--pattern", r"step\s+(?P<step>\d+)/\d+ \| loss (?P<loss>[\d.]+)")
    assert good.code == 0, good.err
    r = cli("inspect", log, "--pattern", r"step (?P<step>(1|11)+)$(?P<loss>x)?")
    assert r.code == 2 and "--pattern took more than" in r.err


def test_a_hugging_face_runs_folder_with_its_hparams_subfolder_is_one_run(tmp_path):
    """The Trainer writes its scalars in the run folder and the hyperparameters in a subfolder of
    their own (no scalars there): the folder is one run, the subfolder left out with a note."""
    import time

    from lrforecast.events import FILE_VERSION, event, record
    from lrforecast.readers.tensorboard import crc_checker
    real = next(REAL.glob("tinyllama-clinical-qlora-events.out.tfevents.*"))
    run = tmp_path / "runs" / "Dec05_05-05-28_host"
    (run / "1701752728.123").mkdir(parents=True)
    shutil.copy(real, run / real.name)
    hparams = run / "1701752728.123" / "events.out.tfevents.1701752728.host.244.2"
    hparams.write_bytes(record(event(0, time.time(), file_version=FILE_VERSION), crc_checker()))
    src = read_source(run)
    assert len(src.runs) == 1
    assert any("hold no scalars" in n for n in src.notes)
    np.testing.assert_array_equal(read_run(run).loss, read_run(real).loss)


HF_LOOP = '''
import sys
total, every, epochs, finish = (int(a) for a in sys.argv[1:5])
for step in range(1, total + 1):  # the Trainer's tqdm bar on stderr, flushed at every step
    pct = int(100 * step / total)
    sys.stderr.write(f"\\r{pct:3d}%|{'#' * (pct // 10):10s}| {step}/{total} [00:10<00:10, 9.87it/s]")
    sys.stderr.flush()
    if step % every == 0:  # its logs on stdout, as ProgressCallback prints them
        print({"loss": round(2.0 + 3.0 * step ** -0.3, 4), "grad_norm": 1.23,
               "learning_rate": 5e-5 * (1 - step / total), "epoch": step / (total // epochs)})
    if not finish and step == total * 3 // 5:
        sys.exit(0)
print({"train_runtime": 12.3, "train_steps_per_second": 6.9, "train_loss": 2.5, "epoch": float(epochs)})
'''


@pytest.mark.parametrize("finish", [1, 0])
def test_hugging_face_console_logs_buffered_behind_the_bar_take_their_steps_from_the_epoch(tmp_path, finish):
    """A Trainer run with stdout and stderr both sent to one file (`> log 2>&1`): stdout is buffered,
    so the printed logs come out in bursts long after the bar has run on. Their steps are then read
    from their epoch, for a finished run (its summary gives the epochs) and an unfinished one."""
    loop = tmp_path / "loop.py"
    loop.write_text(HF_LOOP)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    logs = {}
    for mode, extra in (("buffered", {}), ("unbuffered", {"PYTHONUNBUFFERED": "1"})):
        logs[mode] = tmp_path / f"{mode}.log"
        with logs[mode].open("w") as out:
            subprocess.run([sys.executable, str(loop), "6000", "50", "3", str(finish)], stdout=out,
                           stderr=subprocess.STDOUT, env={**env, **extra}, check=True)
    last = 6000 if finish else 3600
    buffered, unbuffered = read_run(logs["buffered"]), read_run(logs["unbuffered"])
    assert unbuffered.steps.tolist() == list(range(50, last + 1, 50))  # the bar was right
    assert "steps read from the progress bar" in unbuffered.notes
    assert buffered.steps.tolist() == unbuffered.steps.tolist()
    assert buffered.loss.tolist() == unbuffered.loss.tolist()
    assert any("steps from the logs' epoch" in n and "ahead" in n for n in buffered.notes)
