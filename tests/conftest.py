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
# (or the source of a function of its module that it calls, two calls deep: helpers that read seeds)
USES_SHARED = re.compile(r"\b(MPL|REAL|SHARED|SCHAIPP|schaipp|mpl_runs)\b")
NAME = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


def _names_shared(fn, depth: int = 2) -> bool:
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        return False
    if USES_SHARED.search(source):
        return True
    if depth == 0:
        return False
    module = getattr(fn, "__globals__", {})
    called = {module.get(n) for n in NAME.findall(source)} - {fn}
    local = [f for f in called if inspect.isfunction(f) and f.__module__ == fn.__module__]
    return any(_names_shared(f, depth - 1) for f in local)


def _uses_shared(item) -> bool:
    functions = [getattr(item, "function", None)]
    defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    functions += [d.func for ds in defs.values() for d in ds]
    return any(_names_shared(fn) for fn in filter(None, functions))


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
