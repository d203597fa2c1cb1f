"""Shared fixtures: the real data in ../shared (beside the repository, also in CI)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from lrforecast.cli import main

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LRFORECAST_SHARED", REPO.parent / "shared"))
MPL = SHARED / "data" / "mpl"
REAL = SHARED / "data" / "real"

if not MPL.is_dir():
    raise RuntimeError(f"the shared data is missing at {SHARED}; set LRFORECAST_SHARED")


@pytest.fixture(scope="session")
def mpl_runs() -> dict:
    return tomllib.loads((MPL / "runs.toml").read_text())


class CLIResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run the CLI in-process: cli('fit', 'x.csv') -> CLIResult(code, stdout, stderr). Outside
    GitHub Actions even when the tests run there (a test sets GITHUB_ACTIONS itself)."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)

    def run(*args: str) -> CLIResult:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CLIResult(code, captured.out, captured.err)

    return run
