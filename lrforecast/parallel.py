"""Calls that do not depend on each other (auto's laws and their cross-validation folds), run on the
machine's cores: `LRFORECAST_JOBS` processes at most (default: the cores this process may use).

The workers are forked, so they inherit the calls' arguments (runs can hold millions of points)
rather than receive them pickled; only the index of a call goes to a worker and its result comes
back. Workers ignore Ctrl-C (the parent's KeyboardInterrupt stops them) and use one BLAS thread.
The results are the ones a loop would give, in the calls' order; a call's exception is returned,
not raised, so that the caller decides what a failure means (auto drops the law; bad input stops
everything).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from typing import Any

from .errors import InputError

JOBS_ENV = "LRFORECAST_JOBS"

Call = tuple[Callable[..., Any], tuple, dict]
Outcome = tuple[bool, Any]  # (True, result) or (False, the exception it raised)

_CALLS: Sequence[Call] = ()  # the calls of the pool at work: the forked workers read them here


def jobs() -> int:
    """How many processes to fit in: LRFORECAST_JOBS, or the cores this process may run on."""
    value = os.environ.get(JOBS_ENV, "").strip()
    if not value:
        cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
        return max(1, len(cores))
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise InputError(f"{JOBS_ENV}={value!r}: give a whole number of processes, 1 or more (1: no "
                         "parallel fits)")
    return n


def _outcome(call: Call) -> Outcome:
    fn, args, kwargs = call
    try:
        return True, fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001  (handed back to the caller, which decides)
        return False, e


def _in_worker(i: int) -> tuple[int, Outcome]:
    return i, _outcome(_CALLS[i])


def _start_worker() -> None:
    """Ctrl-C is the parent's to handle; and one BLAS thread per worker, as the workers already
    fill the cores (two workers with two spinning BLAS threads each took twice as long per fit)."""
    from threadpoolctl import threadpool_limits

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threadpool_limits(1)


def run_all(calls: Sequence[Call], on_done: Callable[[], None] | None = None) -> list[Outcome]:
    """Each call's outcome, in order; `on_done` after each finishes (in this process)."""
    global _CALLS
    n = min(jobs(), len(calls))
    forkable = "fork" in multiprocessing.get_all_start_methods()
    if n <= 1 or not forkable or multiprocessing.current_process().daemon:
        out = []
        for call in calls:
            out.append(_outcome(call))
            if on_done is not None:
                on_done()
        return out
    results: list[Outcome | None] = [None] * len(calls)
    _CALLS = calls
    try:
        with multiprocessing.get_context("fork").Pool(n, initializer=_start_worker) as pool:
            for i, outcome in pool.imap_unordered(_in_worker, range(len(calls))):
                results[i] = outcome
                if on_done is not None:
                    on_done()
    finally:
        _CALLS = ()
    return results  # type: ignore[return-value]


def value(outcome: Outcome) -> Any:
    """The result of a call, or its exception raised."""
    ok, result = outcome
    if not ok:
        raise result
    return result
