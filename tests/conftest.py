"""Shared fixtures: the real data in ../shared (beside the repository, also in CI)."""

from __future__ import annotations

import inspect
import os
import re
import tomllib
from pathlib import Path

import pytest

from lrforecast.cli import main

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LRFORECAST_SHARED", REPO.parent / "shared"))
MPL = SHARED / "data" / "mpl"
REAL = SHARED / "data" / "real"
SCHAIPP = SHARED / "data" / "schaipp124m"

SHARED_PRESENT = MPL.is_dir() and REAL.is_dir()
# a test needs the shared data when its source, or that of a fixture it uses, names one of these
USES_SHARED = re.compile(r"\b(MPL|REAL|SHARED|SCHAIPP|mpl_runs)\b")


def _uses_shared(item) -> bool:
    functions = [getattr(item, "function", None)]
    defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    functions += [d.func for ds in defs.values() for d in ds]
    for fn in filter(None, functions):
        try:
            if USES_SHARED.search(inspect.getsource(fn)):
                return True
        except (OSError, TypeError):
            continue
    return False


def pytest_collection_modifyitems(config, items):
    """Without ../shared (LRFORECAST_SHARED), the tests that read it skip, saying why; the rest run."""
    if SHARED_PRESENT:
        return
    skip = pytest.mark.skip(reason=f"the shared data is not at {SHARED} (set LRFORECAST_SHARED)")
    for item in items:
        if _uses_shared(item):
            item.add_marker(skip)


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
