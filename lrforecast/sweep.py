"""Sweeps: a schedule value written `KEY=A..B` (or `A..B/N`) stands for several candidates, one per
value, in compare and plan. What each value gives is the comparison's (forecast.sweep_points) or the
plan's (plan.plan_sweep_points).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .schedules import INTEGER_KEYS, canonical_key, fmt_value, parse_number

SWEEP_VALUES = 10  # values of a swept key, KEY=A..B, unless /N says how many
MAX_CANDIDATES = 100  # candidates one command compares or plans, sweeps expanded


def expand_sweeps(specs: list[str]) -> list[str]:
    """Each spec with a swept value, `KEY=A..B` (SWEEP_VALUES evenly spaced values from A to B) or
    `KEY=A..B/N` (N values), as one spec per value; several sweeps in a spec give every combination.
    `wsd:decay=0.1..0.3/3` is `wsd:decay=0.1`, `wsd:decay=0.2`, `wsd:decay=0.3`."""
    expanded = []
    for spec in specs:
        head, tokens = _tokens(spec)
        expanded.append((head, [[t for _, t in _sweep(token, spec)] for token in tokens]))
    count = sum(math.prod(len(c) for c in choices) for _, choices in expanded)
    if count > MAX_CANDIDATES:
        raise InputError(f"the schedules make {count:,} candidates, more than {MAX_CANDIDATES}; sweep "
                         "fewer values (KEY=A..B/N gives N)")
    return [":".join([head, *combo]) for head, choices in expanded for combo in itertools.product(*choices)]


@dataclass(frozen=True)
class Sweep:
    """One key of one spec swept over values: the candidate spec of each value."""

    spec: str
    key: str
    values: tuple[float, ...]
    specs: tuple[str, ...]


def sweeps(specs: list[str]) -> list[Sweep]:
    """The specs that sweep exactly one key over at least two values (a spec sweeping two keys is a
    grid, with no one axis to draw)."""
    out = []
    for spec in specs:
        head, tokens = _tokens(spec)
        choices = [_sweep(token, spec) for token in tokens]
        swept = [i for i, c in enumerate(choices) if len(c) > 1]
        if len(swept) == 1:
            i = swept[0]
            key = canonical_key(tokens[i].partition("=")[0])
            out.append(Sweep(spec, key, tuple(v for v, _ in choices[i]),
                             tuple(":".join([head, *tokens[:i], t, *tokens[i + 1:]]) for _, t in choices[i])))
    return out


def _tokens(spec: str) -> tuple[str, list[str]]:
    """A spec's name and its KEY=VALUE tokens (none for file:, whose path may hold '..')."""
    head, *tokens = spec.split(":")
    return (spec, []) if head.strip().lower() == "file" else (head, tokens)


def _sweep(token: str, spec: str) -> list[tuple[float | None, str]]:
    """Each value of a swept `KEY=A..B[/N]` with its token `KEY=VALUE`, or [(None, token)] if the
    token sweeps nothing."""
    key, eq, text = token.partition("=")
    if not eq or ".." not in text:
        return [(None, token)]
    bounds, _, count = text.partition("/")
    low, _, high = bounds.partition("..")
    name = canonical_key(key)
    a, b = parse_number(low, name, spec), parse_number(high, name, spec)
    n = SWEEP_VALUES
    if count:
        n = parse_number(count, f"{name} count", spec)
        if n != round(n) or not 2 <= n <= MAX_CANDIDATES:
            raise InputError(f"schedule '{spec}': in {token}, the count after / must be a whole number "
                             f"from 2 to {MAX_CANDIDATES} (the values to sweep)")
    values = np.linspace(a, b, int(n))
    if name in INTEGER_KEYS:
        values = np.round(values).astype(np.int64)
    texts = dict.fromkeys(fmt_value(v) for v in values.tolist())  # 0.15, not 0.15000000000000002
    return [(float(t), f"{key}={t}") for t in texts]
