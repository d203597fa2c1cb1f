"""The gain envelope: the part of a forecast's range that says how little the runs pin down what a
decay gains.

A law with a gain prior (the multi-power and root-power laws) takes what a decay gains from that
prior wherever the fitted runs do not show it: a pilot on a constant LR, the stable phase of a WSD
run, the first part of a cosine. The prior is a published average, and runs differ from it: fitted
on the first 30-70% of the decaying runs of ../shared/data (124M, 25M, 100M), the root-power law
over-predicts the final loss by up to 5% where the fit saw no decay (at peak LR 2e-3, where a decay
gains three times what the prior says), rarely under-predicts it, and its range, made of the fold
refits alone, held the final loss in 25-57% of the cases.

So a law whose fitted runs decay less than FULL gets two more refits for its range: its linear
parameters (floor, scale, gain) fitted again with the gain prior's centre moved by each factor of
GAIN_ENVELOPE, the shapes kept. Where the runs pin the gain down, these refits barely move from the
law; where they do not, the range spans the gains the prior's centre could have been.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .fitting import fit_law
from .law import Law
from .laws import LAWS
from .laws.base import shapes
from .run import Run
from .schedules import Schedule

GAIN_ENVELOPE = (0.5, 3.0)  # down to half the prior's gain, up to three times it (module doc)
FULL = 0.8  # fitted runs whose LR falls this share of its peak show what a decay gains (cos10: 0.9)


def with_gain_envelope(law: Law, runs: Sequence[Run], schedules: Sequence[Schedule], options: dict) -> Law:
    """The law with the refits of its gain envelope added (module doc); as it is when its fitted
    runs decay by FULL or more, its gain is not pulled towards a prior, or it has no held-out error
    (then it gives no range for the envelope to widen)."""
    if law.held_out is None or law.config.gain_prior <= 0 or law.fit_window.lr_decay >= FULL:
        return law
    fixed = {p.name: law.params[p.name] for p in shapes(LAWS[law.name])}
    options = {k: v for k, v in options.items() if k not in ("shapes", "lam", "progress")}
    moved = [fit_law(runs, schedules, law=law.name, **options, shapes=fixed, gain_centre=c).params
             for c in GAIN_ENVELOPE]
    return replace(law, refits=(*law.refits, *moved))
