"""Pictures for people: forecasts, comparisons and backtests drawn to PNG or SVG with matplotlib,
an optional extra (`pip install 'lrforecast[plot]'`), imported only when a picture is asked for.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .atomic import replacing
from .backtest import Backtest
from .charts import extremes, percent_off
from .errors import InputError
from .forecast import Comparison, Prediction, sweep_points
from .law import Law
from .sweep import Sweep

PLOT_BINS = 5000  # a PNG is about 1,000 pixels wide: the points drawn are thinned to this


def check_plot_path(path: Path) -> None:
    """Refuse early what save_plot cannot write."""
    if path.suffix.lower() not in (".png", ".svg"):
        raise InputError(f"--plot {path}: write a .png or .svg file")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise InputError("--plot needs matplotlib: pip install 'lrforecast[plot]'") from None


def _two_panels(path: Path, sharex: bool = True):
    """A figure of a tall top and a short bottom panel (sharing the step axis), for `path`."""
    check_plot_path(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(2, 1, figsize=(8, 6), sharex=sharex, gridspec_kw={"height_ratios": [3, 1]})


def _finish(fig, top, bottom, y_range: tuple[float, float], labels: tuple[str, str, str], path: Path
            ) -> None:
    """Limit the top panel to `y_range` (padded), label (title, top, bottom), save and close."""
    import matplotlib.pyplot as plt

    lo, hi = y_range
    top.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
    top.set_title(labels[0])
    top.set_ylabel(labels[1])
    top.legend(fontsize="small")
    bottom.set_ylabel(labels[2])
    bottom.set_xlabel("step")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        with replacing(path) as tmp:
            fig.savefig(tmp)
    finally:
        plt.close(fig)


def _title(law: Law) -> str:
    return f"{law.name} law (fitted peak LR {law.peak_lr:.3g})"


def save_plot(cmp: Comparison, path: Path) -> None:
    """Predicted curves (top) and their schedules (bottom) to a PNG or SVG file; for a comparison
    that sweeps a key, the ranking loss against the swept value instead (save_sweep_plot)."""
    if cmp.sweeps:
        save_sweep_plot(cmp, cmp.sweeps[0], path)
        return
    fig, (top, bottom) = _two_panels(path)
    for rank, p in enumerate(cmp.ranked, start=1):
        line, = top.plot(p.steps, p.loss, label=f"{rank}. {p.name}  {p.final_loss:.4f}")
        bottom.plot(p.steps, p.lr, color=line.get_color())
    late = [p.loss[p.steps >= 0.15 * p.steps[-1]] for p in cmp.ranked]
    _finish(fig, top, bottom, (min(x.min() for x in late), max(x.max() for x in late)),
            (_title(cmp.law), "predicted loss", "LR"), path)


def save_sweep_plot(cmp: Comparison, sweep: Sweep, path: Path) -> None:
    """The ranking loss against a swept key's value with its range over the refits, the other
    candidates as level lines (top), and the swept schedules (bottom), to a PNG or SVG file."""
    pts = sweep_points(cmp, sweep)
    fig, (top, bottom) = _two_panels(path, sharex=False)
    x = pts["values"]
    line, = top.plot(x, pts["y"], marker="o", label=sweep.spec)
    if np.isfinite(pts["low"]).all():
        top.fill_between(x, pts["low"], pts["high"], color=line.get_color(), alpha=0.25, lw=0,
                         label="lowest to highest over the refits")
    for i, (name, value) in enumerate(pts["levels"], start=1):  # colours C1, C2, ... after the sweep's C0
        top.axhline(value, ls="--", lw=1, color=f"C{i % 10}", label=f"{name}  {value:.4f}")
    top.set_xlabel(sweep.key)
    by_name = {p.name: p for p in cmp.predictions}
    for name in pts["names"]:
        bottom.plot(by_name[name].steps, by_name[name].lr, lw=1)
    shown = np.concatenate([pts["y"], pts["low"], pts["high"], [v for _, v in pts["levels"]]])
    _finish(fig, top, bottom, (float(np.nanmin(shown)), float(np.nanmax(shown))),
            (_title(cmp.law), pts["label"], "LR"), path)


def save_prediction_plot(law: Law, pred: Prediction, path: Path) -> None:
    """One forecast (top) with its range and its refits' spread shaded, when the law has them, and its
    schedule (bottom) to a PNG or SVG file."""
    fig, (top, bottom) = _two_panels(path)
    line, = top.plot(pred.steps, pred.loss, label=f"{pred.name}  {pred.final_loss:.4f}")
    shown = [pred.loss]
    for band, label, alpha in ((pred.interval, "range (refits and held-out end error)", 0.15),
                               (pred.band, "refits' spread", 0.35)):
        if band is not None:
            top.fill_between(pred.steps, *band, color=line.get_color(), alpha=alpha, lw=0, label=label)
            shown += list(band)
    bottom.plot(pred.steps, pred.lr, color=line.get_color())
    late = np.concatenate([c[pred.steps >= 0.15 * pred.steps[-1]] for c in shown])
    _finish(fig, top, bottom, (float(late.min()), float(late.max())), (_title(law), "predicted loss", "LR"),
            path)


def save_backtest_plot(law: Law, results: list[Backtest], path: Path) -> None:
    """Observed points and the law's curve for each run (top, from `evaluate`) and the error in
    percent of the observed loss (bottom) to a PNG or SVG file: where a law misses, and how."""
    fig, (top, bottom) = _two_panels(path)
    from matplotlib import patheffects
    from matplotlib.colors import to_rgb

    for r in results:
        label = f"{r.name}  PredE {100 * r.metrics['PredE']:.3g}%"
        # the law's line over the points, darker and with a white edge, so a dense noisy log
        # cannot hide it
        line, = top.plot(r.steps, r.predicted, label=label, lw=1.8, zorder=3)
        colour = line.get_color()
        line.set_color(tuple(0.55 * c for c in to_rgb(colour)))
        line.set_path_effects([patheffects.withStroke(linewidth=3.5, foreground="white")])
        seen, err = extremes(r.observed, PLOT_BINS), percent_off(r)
        top.scatter(r.steps[seen], r.observed[seen], s=4, alpha=0.3, color=colour, zorder=2, linewidths=0)
        off = extremes(err, PLOT_BINS)
        bottom.plot(r.steps[off], err[off], color=colour, lw=0.8)
    bottom.axhline(0.0, color="black", lw=0.5)
    values = np.concatenate([np.r_[r.observed, r.predicted] for r in results])
    lo, hi = np.percentile(values, [0.5, 99.5])  # a noisy log's spikes do not flatten the curves
    _finish(fig, top, bottom, (float(lo), float(hi)),
            (f"{law.name} law", "loss (points observed, line the law)", "error %"), path)
