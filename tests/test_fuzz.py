"""Hostile input: every reader and law files on mutated real inputs, and a table of hostile inputs
through the command line.

A reader may read a mutated file or refuse it with our error (LRForecastError); anything else that
leaves it (a KeyError, a RecursionError, a segfault, a hang) is a bug. Each format gets
FUZZ_CASES cases (default 30: a few hundred in all, in `make test`); `make fuzz` runs 10,000 per
format (FUZZ_CASES=10000, marked `fuzz`), with every case under FUZZ_SECONDS and the process's
peak memory under 1 GB. A failing case prints its format and seed: `FUZZ_CASES=1 FUZZ_SEED=<seed>`
replays it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lrforecast import Law, read_runs
from lrforecast.errors import LRForecastError
from lrforecast.reference import default_law

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = Path(os.environ.get("LRFORECAST_SHARED", REPO.parent / "shared"))
REAL = SHARED / "data" / "real"
SCHAIPP = SHARED / "data" / "schaipp124m"
CASES = int(os.environ.get("FUZZ_CASES", "30"))
FIRST_SEED = int(os.environ.get("FUZZ_SEED", "0"))
SECONDS = float(os.environ.get("FUZZ_SECONDS", "10"))

# hostile pieces spliced into the inputs: deep nesting, huge and odd numbers, bad encodings, control bytes
TOKENS = [b"[" * 5000, b'{"a":' * 3000, b"{'a': " * 2000, b"1e400", b"-1e400", b"9" * 400,
          b"18446744073709551617", b"nan", b"-inf", b"\xff\xfe", b"\xef\xbb\xbf", b"\x00" * 16, b"\r",
          b"\r\n", "\u00e9".encode("latin-1"), b"\xc3\x28", b'"', b"'", b",", b"\t", b"\n\n\n", b"step",
          b"loss", b"lr", b"}", b"]", b"0" * 64, b"1" * 30 + b".5", b"-0", b"1e-400", b"Infinity", b"True",
          b"None"]


def seeds(tmp: Path) -> dict[str, Path]:
    """One real input per format (small ones: a case must read in well under a second)."""
    out = {
        "jsonl": REAL / "deepclima-r1-swift-logging.jsonl",
        "trainer_state": REAL / "tinyllama-clinical-qlora-trainer_state.json",
        "tfevents": REAL / "gpt2-customtext-events.out.tfevents.1706894182.b25e0a13d181.12198.0",
    }
    llmc = (REAL / "llmc-gpt2-124m-fineweb10b-main.log").read_text().splitlines()[:1500]
    out["llmc"] = tmp / "main.log"
    out["llmc"].write_text("\n".join(llmc) + "\n")
    rows = (SCHAIPP / "lr0.0005_25k_wsd-lin0.2.train.csv").read_text().splitlines()
    out["csv"] = tmp / "run.csv"
    out["csv"].write_text("\n".join(rows) + "\n")
    out["tsv"] = tmp / "run.tsv"
    out["tsv"].write_text("\n".join(r.replace(",", "\t") for r in rows) + "\n")
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = np.array([[float(x) for x in r.split(",")] for r in rows[1:]])
    out["parquet"] = tmp / "run.parquet"
    pq.write_table(pa.table({"step": cols[:, 0].astype(np.int64), "lr": cols[:, 1], "loss": cols[:, 2]}),
                   out["parquet"])
    for name, fixture in (("wandb", "wandb-offline-run.wandb"), ("mlflow", "mlflow.db")):
        out[name] = tmp / fixture
        out[name].write_bytes(gzip.decompress((HERE / "data" / f"{fixture}.gz").read_bytes()))
    out["csv.gz"] = tmp / "run.csv.gz"
    out["csv.gz"].write_bytes(gzip.compress(out["csv"].read_bytes()))
    out["law"] = tmp / "law.json"
    default_law().save(out["law"])
    out["law-v1"] = HERE / "data" / "law-v1.json"
    return out


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One to three of: flip bytes, truncate, splice in a hostile token, repeat or delete a slice."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(0, 5))
        n = len(b)
        at = int(rng.integers(0, n + 1)) if n else 0
        if kind == 0 and n:
            for i in rng.integers(0, n, size=int(rng.integers(1, 9))):
                b[int(i)] = int(rng.integers(0, 256))
        elif kind == 1:
            del b[at:]
        elif kind == 2:
            b[at:at] = TOKENS[int(rng.integers(0, len(TOKENS)))]
        elif kind == 3 and n:
            size = int(rng.integers(1, min(n, 4096) + 1))
            b[at:at] = b[max(0, at - size):at] * int(rng.integers(1, 4))
        elif n:
            del b[at:at + int(rng.integers(1, min(n, 4096) + 1))]
    return bytes(b)


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def read(fmt: str, path: Path) -> None:
    if fmt.startswith("law"):
        Law.load(path)  # a law file is validated on load
    else:
        read_runs([path], runs=["all"])


def fuzz(fmt: str, seed_file: Path, tmp: Path, cases: int) -> list[str]:
    """Run `cases` mutations of `seed_file`; the failures, each with its seed."""
    data = seed_file.read_bytes()
    target = tmp / f"case-{seed_file.name}"
    failures = []
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for seed in range(FIRST_SEED, FIRST_SEED + cases):
            target.write_bytes(mutate(data, np.random.default_rng([seed, len(fmt)])))
            signal.setitimer(signal.ITIMER_REAL, SECONDS)
            try:
                read(fmt, target)
            except LRForecastError:
                pass
            except Hang:
                failures.append(f"{fmt} seed {seed}: over {SECONDS:g} s")
            except Exception as e:  # noqa: BLE001  (the point: nothing else may escape)
                failures.append(f"{fmt} seed {seed}: {type(e).__name__}: {e}"[:300])
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return failures


FORMATS = ["jsonl", "trainer_state", "tfevents", "llmc", "csv", "tsv", "parquet", "wandb", "mlflow", "csv.gz",
           "law", "law-v1"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_mutated_input_is_read_or_refused_with_our_error(fmt, tmp_path):
    assert REAL.is_dir() and SCHAIPP.is_dir()
    seed_file = seeds(tmp_path)[fmt]
    read(fmt, seed_file)  # the unmutated input reads
    failures = fuzz(fmt, seed_file, tmp_path, CASES)
    assert not failures, "\n".join(failures[:20])


# cases that escaped before the readers were mended (a float overflow of a 400-digit integer, a step
# no int64 holds, a column name or SQLite text that is not UTF-8, an MLflow key without rows, a law
# file or trainer_state.json nested past Python's recursion limit)
FOUND = [("trainer_state", 506), ("llmc", 85), ("csv", 44), ("tsv", 392), ("mlflow", 53), ("mlflow", 187),
         ("law-v1", 72), ("trainer_state", 3141), ("parquet", 2408), ("parquet", 9552),
         ("mlflow", 6754)]


@pytest.mark.parametrize(("fmt", "seed"), FOUND)
def test_the_mutations_that_once_escaped_are_refused_with_our_error(fmt, seed, tmp_path):
    seed_file = seeds(tmp_path)[fmt]
    target = tmp_path / f"case-{seed_file.name}"
    target.write_bytes(mutate(seed_file.read_bytes(), np.random.default_rng([seed, len(fmt)])))
    try:
        read(fmt, target)
    except LRForecastError:
        pass


@pytest.mark.fuzz
def test_ten_thousand_mutations_per_format_within_the_time_and_memory_bounds(tmp_path):
    """`make fuzz`: FUZZ_CASES (10,000) per format, none escaping, none over FUZZ_SECONDS, and the
    process's peak memory under 1 GB."""
    assert REAL.is_dir() and SCHAIPP.is_dir()
    failures = []
    for fmt, seed_file in seeds(tmp_path).items():
        found = fuzz(fmt, seed_file, tmp_path, CASES)
        print(f"{fmt}: {CASES} cases, {len(found)} failures", file=sys.stderr)
        failures += found
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MB", file=sys.stderr)
    assert not failures, "\n".join(failures[:50])
    assert peak < 1024


def hostile(tmp: Path) -> list[tuple[str, list[str], dict[str, bytes]]]:
    """(what, arguments, files to write first): inputs a user or an attacker may hand the CLI."""
    csv = (SCHAIPP / "lr0.0005_25k_wsd-lin0.2.train.csv").read_bytes()
    law = tmp / "law.json"
    default_law().save(law)
    good = law.read_bytes()
    return [
        ("empty file", ["inspect", "{t}/empty.csv"], {"empty.csv": b""}),
        ("binary noise", ["fit", "{t}/noise.csv"], {"noise.csv": bytes(range(256)) * 40}),
        ("header only", ["fit", "{t}/h.csv"], {"h.csv": b"step,lr,loss\n"}),
        ("NaN losses", ["fit", "{t}/nan.csv"], {"nan.csv": b"step,loss\n" + b"".join(
            f"{i},nan\n".encode() for i in range(100))}),
        ("two points", ["fit", "{t}/two.csv"], {"two.csv": b"step,lr,loss\n1,1e-3,3\n2,1e-3,2.9\n"}),
        ("a step of 10^16", ["fit", "{t}/huge.csv"],
         {"huge.csv": b"step,lr,loss\n0,1e-3,3\n10000000000000000,1e-3,2\n"}),
        ("JSON nested 100,000 deep", ["inspect", "{t}/deep.jsonl"], {"deep.jsonl": b"[" * 100_000 + b"\n"}),
        ("a law of NaNs", ["predict", "{t}/bad-law.json", "--schedule", "cosine"],
         {"bad-law.json": good.replace(b'"L0": ', b'"L0": NaN, "x": ', 1)}),
        ("a law with a negative alpha", ["compare", "--law", "{t}/neg.json", "--schedules", "cosine,wsd"],
         {"neg.json": _law_with(good, "alpha", -1.0)}),
        ("a law with 1e308", ["predict", "{t}/big.json", "--schedule", "wsd"],
         {"big.json": _law_with(good, "A", 1e308)}),
        ("a truncated law", ["predict", "{t}/cut.json", "--schedule", "wsd"],
         {"cut.json": good[: len(good) // 2]}),
        ("a schedule with no peak", ["predict", str(law), "--schedule", "wsd:peak=0"], {}),
        ("a 10^12-step schedule", ["predict", str(law), "--schedule", "cosine:total=1000000000000"], {}),
        ("an unknown schedule", ["compare", "--schedules", "sawtooth"], {}),
        ("output onto its input", ["fit", "{t}/run.csv", "-o", "{t}/run.csv"], {"run.csv": csv}),
        ("a directory as a log", ["fit", "{t}"], {}),
        ("a missing file", ["inspect", "{t}/missing.csv"], {}),
        ("a damaged gzip file", ["inspect", "{t}/bad.csv.gz"],
         {"bad.csv.gz": b"\x1f\x8b\x08\x00" + b"\xff" * 64}),
        ("a pattern without groups", ["fit", "{t}/run.csv", "--pattern", "(a+)+$"], {"run.csv": csv}),
    ]


def _law_with(text: bytes, key: str, value: float) -> bytes:
    import json

    d = json.loads(text)
    d["params"][key] = value
    return json.dumps(d).encode()


@pytest.mark.slow
def test_hostile_inputs_through_the_cli_exit_2_or_3_in_at_most_two_lines_and_change_nothing(tmp_path):
    for what, args, files in hostile(tmp_path):
        for name, data in files.items():
            (tmp_path / name).write_bytes(data)
        before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.rglob("*") if p.is_file()}
        args = [a.replace("{t}", str(tmp_path)) for a in args]
        done = subprocess.run([sys.executable, "-m", "lrforecast", *args], capture_output=True, text=True,
                              timeout=60, env={**os.environ, "COLUMNS": "200"})
        err = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode in (2, 3), (what, done.returncode, done.stderr[-500:])
        assert "Traceback" not in done.stderr, what
        assert 1 <= len(err) <= 2, (what, err)
        after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in before}
        assert after == before, what
        new = {p for p in tmp_path.rglob("*") if p.is_file()} - set(before)
        assert not new, (what, new)
