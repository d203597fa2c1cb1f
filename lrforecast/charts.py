"""Terminal charts (plotille): forecasts, sweeps, a log's loss and a backtest's error, drawn in
text for a terminal or a CI log. PNG/SVG pictures are plots.py's; tables and JSON report.py's.
"""

from __future__ import annotations

import numpy as np
import plotille

from .backtest import Backtest
from .forecast import Prediction
from .run import Run
from .sweep import Sweep

CHART_BINS = 1000  # a terminal chart is about 112 dots wide: the points drawn are thinned to this


def _figure(width: int, height: int, color: bool) -> plotille.Figure:
    fig = plotille.Figure()
    fig.width, fig.height = width, height
    fig.x_label, fig.y_label = "step", "loss"
    fig.color_mode = "names"
    fig.with_colors = color
    fig.y_ticks_fkt = lambda lo, hi: f"{lo:.3f}"
    fig.x_ticks_fkt = lambda lo, hi: f"{lo:.0f}"
    return fig


def _step_axis(fig: plotille.Figure, first: int, last: int) -> int:
    """Set the step axis from `first` to `last`, at least one step wide (plotille refuses an empty
    range: a log or a forecast of one point); return where it ends."""
    last = max(int(last), int(first) + 1)
    fig.set_x_limits(min_=int(first), max_=last)
    return last


def chart(predictions: list[Prediction], width: int = 56, height: int = 15, color: bool = False,
          target: float | None = None) -> str:
    """A terminal line chart of predicted loss against step, one colour per curve, and a level line
    at `target` if given. Without colour (a pipe, a CI log) each curve carries its number at a few
    points, staggered, and the legend says which number is which."""
    fig = _figure(width, height, color)
    colours = ["red", "green", "blue", "yellow", "magenta", "cyan", "white"]
    lo = min([float(np.nanmin(p.loss)) for p in predictions] + ([] if target is None else [target]))
    hi = max(float(np.nanmax(p.loss[p.steps >= 0.15 * p.steps[-1]])) for p in predictions)
    if hi <= lo:  # one point (a schedule that ends where the fitted window starts)
        lo, hi = lo - 1e-3 * abs(lo), hi + 1e-3 * abs(hi) + 1e-9
    fig.set_y_limits(min_=lo - (0.02 if target is None else 0.08) * (hi - lo), max_=hi)
    last = _step_axis(fig, 0, max(int(p.steps[-1]) for p in predictions))
    legend = []
    if target is not None:
        fig.plot([0, last], [target, target], lc="white")
        legend.append(f"---  target {target:g}")
    for i, p in enumerate(predictions):
        lc = colours[i % len(colours)]
        fig.plot(p.steps, p.loss, lc=lc, label=p.name)
        if color:
            legend.append(plotille.color(f"⠤⠤ {p.name}", fg=lc, mode="names"))
        else:
            mark = str(i + 1) if i < 9 else chr(ord("a") + i - 9)
            at = ((np.array([0.3, 0.55, 0.8]) + 0.06 * (i % 4)) * (p.steps.size - 1)).astype(int)
            fig.scatter(p.steps[at], p.loss[at], marker=mark)
            legend.append(f"{mark}  {p.name}")
    return fig.show() + "\n\n" + "\n".join(legend)


def _round_ticks(lo: float, hi: float, width: int) -> tuple[float, float, int]:
    """Axis limits around [lo, hi], and a chart width at most `width`, at which plotille's ticks
    (one every 10 characters) fall on round values: 0.1, 0.2, ... rather than 0.1, 0.1304, ..."""
    if hi <= lo:
        return lo, lo + 1.0, width
    for exp in range(int(np.floor(np.log10((hi - lo) * 10.0 / width))) - 1, 20):
        for mantissa in (1, 2, 2.5, 5):
            step = mantissa * 10.0**exp
            start = float(np.floor(lo / step + 1e-9) * step)
            if start + step * width / 10.0 >= hi - 1e-12 * abs(hi):
                fits = max(30, min(width, int(np.ceil(10.0 * (hi - start) / step - 1e-9)) + 1))
                return start, start + step * fits / 10.0, fits
    return lo, hi, width


def sweep_chart(sweep: Sweep, pts: dict, width: int = 56, height: int = 15, color: bool = False) -> str:
    """A terminal chart of what a sweep measures (sweep_points, plan_sweep_points) against the swept
    value, with its range (`-`) and the other candidates as level lines: where the lowest lies and
    how flat the curve is around it."""
    x, y = pts["values"], pts["y"]
    shown = np.concatenate([y, pts["low"], pts["high"], [v for _, v in pts["levels"]]])
    if not np.isfinite(y).any():
        return f"{sweep.spec}: no value of {sweep.key} gives a result to draw"
    lo, hi = float(np.nanmin(shown)), float(np.nanmax(shown))
    pad = max(0.05 * (hi - lo), 1e-4 * abs(hi))
    fig = _figure(width, height, color)
    fig.x_label, fig.y_label = sweep.key, pts["label"]
    fig.x_ticks_fkt = lambda a, b: f"{a:,.0f}" if abs(x).min() >= 1000 else f"{a:.4g}"
    if pts["label"] == "steps":
        fig.y_ticks_fkt = lambda a, b: f"{a:,.0f}"
    start, end, fig.width = _round_ticks(float(x.min()), float(x.max()), width)
    fig.set_x_limits(min_=start, max_=end)
    fig.set_y_limits(min_=lo - pad, max_=hi + pad)
    legend = [f"*  {sweep.spec}"]
    ranged = np.isfinite(pts["low"]) & np.isfinite(pts["high"])
    if ranged.any():
        fig.scatter(np.r_[x[ranged], x[ranged]], np.r_[pts["low"][ranged], pts["high"][ranged]],
                    lc="red", marker="-")
        legend.append("-  its range")
    ok = np.isfinite(y)
    fig.plot(x[ok], y[ok], lc="red", marker="*")
    for i, (name, value) in enumerate(pts["levels"]):
        mark = str(i + 1) if i < 9 else chr(ord("a") + i - 9)
        fig.plot(x[[0, -1]], [value, value], lc=["green", "blue", "yellow", "magenta", "cyan"][i % 5])
        fig.scatter([x[len(x) // 2]], [value], marker=mark)
        legend.append(f"{mark}  {name}")
    best = int(np.nanargmin(y))
    value = f"{y[best]:,.0f} steps" if pts["label"] == "steps" else f"{y[best]:.4f}"
    return (fig.show() + "\n\n" + "\n".join(legend)
            + f"\nlowest at {sweep.key}={x[best]:g} ({pts['names'][best]}): {value}")


def extremes(values: np.ndarray, bins: int = CHART_BINS) -> np.ndarray:
    """Indices that draw the same line as all of `values` at chart resolution: the lowest and
    highest point of each of `bins` runs of points (so a spike stays), and the first and last.
    A chart of two million points took about 35 s to draw; of these, well under a second."""
    n = values.size
    if n <= 2 * bins:
        return np.arange(n)
    width = n // bins
    block = np.arange(bins * width).reshape(bins, width)
    rows = np.arange(bins)
    kept = [block[rows, values[block].argmin(axis=1)], block[rows, values[block].argmax(axis=1)],
            np.arange(bins * width, n), [0, n - 1]]
    return np.unique(np.concatenate(kept))


def loss_chart(run: Run, width: int = 56, height: int = 10, color: bool = False) -> str:
    """A terminal chart of an observed run's loss."""
    fig = _figure(width, height, color)
    _step_axis(fig, run.steps[0], run.steps[-1])
    lo, hi = np.percentile(run.loss, [0, 99])
    fig.set_y_limits(min_=float(lo), max_=float(hi) if hi > lo else float(lo) + 1)
    keep = extremes(run.loss)
    fig.plot(run.steps[keep], run.loss[keep], label=run.name)
    return fig.show()


def percent_off(result: Backtest) -> np.ndarray:
    """A backtest's error at each point: (observed - predicted) / observed, in percent."""
    return 100.0 * (result.observed - result.predicted) / result.observed


def backtest_chart(result: Backtest, width: int = 56, height: int = 10, color: bool = False) -> str:
    """A terminal chart of the backtest's error, (observed - predicted) / observed in percent, by
    step: where the law runs high (below 0) or low (above 0). The curves themselves overlap."""
    steps = result.steps
    err = percent_off(result)
    fig = _figure(width, height, color)
    fig.y_label = "error %"
    _step_axis(fig, steps[0], steps[-1])
    lo, hi = np.percentile(err, [1, 99])
    pad = max(0.1 * (hi - lo), 1e-3)
    fig.set_y_limits(min_=min(float(lo), 0.0) - pad, max_=max(float(hi), 0.0) + pad)
    fig.plot(steps[[0, -1]], [0.0, 0.0], lc="white")
    keep = extremes(err)
    fig.plot(steps[keep], err[keep], lc="red")
    return "observed - predicted, % of observed (above 0: the forecast is too low)\n" + fig.show()


def watch_chart(run: Run, pred: Prediction, target: float | None = None, color: bool = True) -> str:
    """watch's picture: the run's losses so far beside the forecast of the whole schedule."""
    seen = Prediction("observed", "observed", run.steps, np.full(run.steps.size, np.nan), run.loss)
    return chart([seen, pred], color=color, target=target)

