"""Turn results into what people and machines read: rich tables, JSON, markdown, CSV/Parquet
(terminal charts are charts.py's, PNG/SVG pictures plots.py's).

Every number comes from the result objects (Law, Prediction, Comparison), so the formats agree.
This module builds renderables and dicts; printing is the CLI's job.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from rich.table import Table

from . import __version__
from .atomic import replacing
from .backtest import Backtest
from .errors import InputError
from .forecast import Comparison, Prediction, merge_warnings, sweep_points
from .law import Law, RunFit
from .metrics import METRICS
from .planning import Reach, plan_sweep_points
from .ranges import blind_to_decay, forecast_range, held_out_end_error, held_out_error
from .readers import Source
from .run import Run
from .sweep import Sweep


def _g(x: float, digits: int = 4) -> str:
    return f"{x:.{digits}g}" if abs(x) < 1e-3 or abs(x) >= 1e4 else f"{x:.{digits}f}"


SCHEMA_VERSION = 1  # of the commands' JSON output (a law file's own is law.SCHEMA_VERSION)


def _held_out(law: Law) -> dict | None:
    return None if law.held_out is None else asdict(law.held_out)


def law_summary(law: Law) -> dict:
    """The law as it appears inside other JSON outputs."""
    return {"name": law.name, "params": dict(law.params), "warmup_mode": law.warmup_mode,
            "peak_lr": law.peak_lr, "warmup": law.warmup}


NAME_WIDTH = 12  # a name column folds onto more lines no narrower than this


def _add_rows(t: Table, rows: list[list[str]]) -> Table:
    """Add `rows` so that on a narrow console (80 columns in a CI log) no number is cut short: a
    right-aligned column is as wide as its widest cell, and names fold onto more lines instead."""
    for r in rows:
        t.add_row(*r)
    for i, col in enumerate(t.columns):
        widest = max([len(r[i]) for r in rows] + [1])
        col.no_wrap, col.overflow = False, "fold"  # a header may take two lines
        col.min_width = widest if col.justify == "right" else min(widest, NAME_WIDTH)
    return t


def law_description(law: Law) -> list[str]:
    """What a law file holds, in a few lines: what it was fitted on, how sure it is, its notes."""
    runs = ", ".join(r.name for r in law.runs)
    lines = [f"{law.name} law fitted on {len(law.runs)} run(s) ({runs}) from step "
             f"{law.fit_window.from_step} to {law.horizon}; peak LR {law.peak_lr:g}, warmup "
             f"{law.warmup} (mode {law.warmup_mode}); forecasts default to {law.total} steps"]
    if (err := held_out_error(law)) is not None:
        held = law.held_out
        end = held_out_end_error(law)
        lines.append(f"held-out error: {100 * err:.3g}% of the loss on average"
                     + (f", {100 * end:.3g}% at the end of a held-out run" if end is not None else "")
                     + f" ({held.how}); {len(law.refits)} refit(s) for the range"
                     + blind_to_decay(law))
    else:
        lines.append("no held-out error: the law was not cross-validated, so its forecasts have no range")
    if law.selection is not None:
        lines.append(f"chosen by law auto: {law.selection.rule}")
    return lines + list(law.notes)


def params_table(law: Law) -> Table:
    t = Table(title=f"{law.name} law (warmup {law.warmup_mode}, from step "
                    f"{law.fit_window.from_step})", title_justify="left")
    for k in law.params:
        t.add_column(k, justify="right")
    return _add_rows(t, [[_g(v, 5) for v in law.params.values()]])


def metrics_table(rows: list[RunFit] | list[Backtest], title: str) -> Table:
    """One row per run (the law's fit on it, or a backtest): name, points and the five metrics."""
    t = Table(title=title, title_justify="left")
    t.add_column("run")
    t.add_column("points", justify="right")
    for m in METRICS:
        t.add_column(m, justify="right")
    return _add_rows(t, [[r.name, str(r.points), *(f"{r.metrics[m]:.5f}" for m in METRICS)] for r in rows])


def evaluation_json(law: Law, result: Backtest) -> dict:
    """The backtest without its per-point curve (write that with `predict`)."""
    return {"schema_version": SCHEMA_VERSION, "tool_version": __version__, "law": law_summary(law),
            **result.to_dict()}


def prediction_json(law: Law, pred: Prediction) -> dict:
    """The forecast as columns (the CSV's: with the forecast range and the refit band when the law
    has them)."""
    table = prediction_table(pred)
    return {"schema_version": SCHEMA_VERSION, "tool_version": __version__, "law": law_summary(law),
            "schedule": pred.spec, "final_loss": pred.final_loss, "held_out": _held_out(law),
            "warnings": pred.warnings,
            "curve": {name: table.column(name).to_pylist() for name in table.column_names}}


def comparison_rows(cmp: Comparison) -> list[dict]:
    best = cmp.key(cmp.best)
    rows = []
    for rank, p in enumerate(cmp.ranked, start=1):
        row = {"name": p.name, "spec": p.spec, "final_loss": p.final_loss, "rank": rank,
               "gap": cmp.key(p) - best, "steps": int(p.steps[-1]) + 1}
        if cmp.at is not None:
            row["loss_at"] = p.loss_at(cmp.at)
        spread = cmp.spread(p)
        if (interval := forecast_range(cmp.law, *(spread or (cmp.key(p), cmp.key(p))), p.lr)) is not None:
            row["range"] = [float(v) for v in interval]
        if spread is not None:
            wins, n = cmp.first_in_refits(p)
            row["refits"] = {"range": list(spread), "first_in": wins, "of": n}
            row["p_lower_than"] = {q.name: cmp.p_lower(p, q) for q in cmp.ranked if q is not p}
        rows.append(row)
    return rows


def comparison_json(cmp: Comparison, expectation: dict | None = None) -> dict:
    out = {"schema_version": SCHEMA_VERSION, "tool_version": __version__,
           "law": law_summary(cmp.law), "at": cmp.at, "schedules": comparison_rows(cmp),
           "best": cmp.best.name, "held_out": _held_out(cmp.law),
           "sweeps": [sweep_json(cmp, s) for s in cmp.sweeps],
           "warnings": cmp.warnings, "notes": list(cmp.law.notes)}
    if expectation is not None:
        out["expectation"] = expectation
    return out


def sweep_json(cmp: Comparison, sweep: Sweep) -> dict:
    """A swept key's values, each one's ranking loss, and the value where it is lowest."""
    pts = sweep_points(cmp, sweep)
    y = pts["y"]
    best = int(np.argmin(y))
    close = None if held_out_error(cmp.law) is None else pts["values"][cmp.cannot_tell(y[best], y)].tolist()
    return {"schedule": sweep.spec, "key": sweep.key, "values": pts["values"].tolist(), "loss": y.tolist(),
            "best": float(pts["values"][best]), "best_name": pts["names"][best], "within_error": close}


def sweep_line(s: dict) -> str:
    """One sentence on a sweep (sweep_json): where it is lowest, and which values the law's held-out
    error cannot tell from that."""
    text = f"{s['schedule']}: lowest at {s['key']}={s['best']:g}"
    if s["within_error"] is not None and len(s["within_error"]) > 1:
        text += (f"; {s['key']} from {min(s['within_error']):g} to {max(s['within_error']):g} lie within the "
                 "law's held-out error of it")
    return text


def _refit_caption(law: Law) -> str:
    """What the refit columns mean (selection.py: leave-one-run-out refits, or with a single run
    the law fitted on the run's first third)."""
    n = len(law.refits)
    if len(law.runs) == 1:
        how = "the law fitted again on the first third of its run"
    else:
        how = f"the law fitted {n} more time{'s' if n > 1 else ''}, leaving out one run each time"
    return f"refits: {how}; how far the forecast moves, and how often it ranks first"


def _captions(law: Law, refits: bool) -> list[str]:
    """The lines under a comparison: what the refit columns mean and the law's held-out error."""
    out = [_refit_caption(law)] if refits else []
    if (err := held_out_error(law)) is not None:
        out.append(f"held-out error of this law: {100 * err:.3f}% of the loss on average "
                   f"({law.held_out.how}){blind_to_decay(law)}")
    return out


def _gap_cell(row: dict) -> str:
    return "best" if row["rank"] == 1 else f"+{row['gap']:.4f}"


def _refit_cells(row: dict) -> list[str]:
    """The refit range and how often the candidate ranks first, as table cells."""
    lo, hi = row["refits"]["range"]
    return [f"{lo:.4f}-{hi:.4f}", f"{row['refits']['first_in']}/{row['refits']['of']}"]


def _p_next_cell(row: dict, below: str | None) -> str:
    """The probability that the candidate ends lower than the one ranked next (`below`)."""
    p = None if below is None else row["p_lower_than"][below]
    return "–" if p is None else f"{p:.2f}"


P_NEXT = "P(<next)"
P_CAPTION = ("P(<next): the probability that a candidate ends lower than the one ranked after it, "
             "from their paired difference under the law and its refits and part of its held-out error "
             "(--json: every pair)")


def comparison_markdown(cmp: Comparison, expectation: dict | None = None) -> str:
    """A report for a pull request or a CI step summary ($GITHUB_STEP_SUMMARY)."""
    if expectation is None:
        head = "### lrforecast compare"
    else:
        verdict = "passed" if expectation["passed"] else "FAILED"
        head = (f"### lrforecast compare: {verdict} (expected '{expectation['expect_best']}' "
                + ("first" if expectation["max_gap"] is None
                   else f"within {expectation['max_gap']:g} of the best") + ")")
    law = cmp.law
    params = ", ".join(f"{k} {_g(v, 4)}" for k, v in law.params.items())
    lines = [head, "", f"{law.name} law ({params}); peak LR {law.peak_lr:g}, warmup {law.warmup}, "
             f"fitted on {len(law.runs)} run(s) up to step {law.horizon}.", ""]
    rows = comparison_rows(cmp)
    refits = bool(rows) and "refits" in rows[0]
    key = "final loss" if cmp.at is None else f"loss at {cmp.at}"
    lines.append(f"| rank | schedule | steps | {key} | gap |"
                 + (f" refit range | first in | {P_NEXT} |" if refits else ""))
    lines.append("|---:|---|---:|---:|---:|" + ("---:|---:|---:|" if refits else ""))
    for i, r in enumerate(rows):
        value = r["final_loss"] if cmp.at is None else r["loss_at"]
        name = f"`{r['spec']}`" if r["name"] == r["spec"] else f"{r['name']} (`{r['spec']}`)"
        cells = [str(r["rank"]), name, str(r["steps"]), f"{value:.4f}", _gap_cell(r)]
        if refits:
            cells += [*_refit_cells(r), _p_next_cell(r, rows[i + 1]["name"] if i + 1 < len(rows) else None)]
        lines.append("| " + " | ".join(cells) + " |")
    for caption in _captions(law, refits) + ([P_CAPTION] if refits else []):
        lines += ["", caption]
    for sweep in cmp.sweeps:
        lines += ["", sweep_line(sweep_json(cmp, sweep)) + "."]
    for w in cmp.warnings:
        lines.append(f"\n> warning: {w}")
    return "\n".join(lines) + "\n"


def comparison_table(cmp: Comparison) -> Table:
    rows = comparison_rows(cmp)
    lengths = {r["steps"] for r in rows}
    same = len(lengths) == 1
    where = "final loss" if cmp.at is None else f"loss at step {cmp.at}"
    t = Table(title=f"Candidates ranked by predicted {where}"
                    + (f" ({lengths.pop()} steps)" if same else ""), title_justify="left")
    t.add_column("#", justify="right")
    t.add_column("schedule")
    if not same:
        t.add_column("steps", justify="right")
    t.add_column("final loss", justify="right")
    if cmp.at is not None:
        t.add_column(f"loss @ {cmp.at}", justify="right")
    t.add_column("gap", justify="right")
    refits = bool(rows) and "refits" in rows[0]
    if refits:
        t.add_column("refit range", justify="right")
        t.add_column("1st", justify="right")
    lines = [*_captions(cmp.law, refits), p_best_line(rows) if refits else ""]
    t.caption = "\n".join(filter(None, lines)) or None
    cells = []
    for r in rows:
        cells.append([str(r["rank"]), r["name"]] + ([] if same else [str(r["steps"])]))
        cells[-1].append(f"{r['final_loss']:.4f}")
        if cmp.at is not None:
            cells[-1].append(f"{r['loss_at']:.4f}")
        cells[-1].append(_gap_cell(r))
        if refits:
            cells[-1] += _refit_cells(r)
    return _add_rows(t, cells)


def p_best_line(rows: list[dict]) -> str:
    """The probability that the best ends lower than the runner-up, and than the rest (at least)."""
    if len(rows) < 2 or None in rows[0]["p_lower_than"].values():
        return ""
    p = rows[0]["p_lower_than"]
    second, *rest = (r["name"] for r in rows[1:])
    text = f"P(the best ends lower than '{second}'): {p[second]:.2f}"
    if rest:
        text += f"; than each of the rest: at least {min(p[n] for n in rest):.2f}"
    return text + " (paired over the law's refits; --json: every pair)"


def plan_rows(reaches: list[Reach]) -> list[dict]:
    """The candidates fewest steps first, each with how many more steps than the best it needs."""
    best = reaches[0].steps if reaches else None
    return [{"rank": i, "name": r.name, "spec": r.spec, "steps": r.steps, "final_loss": r.final_loss,
             "more_steps": None if r.steps is None or best is None else r.steps / best - 1.0,
             "steps_range": None if r.steps_range is None else list(r.steps_range), "warnings": r.warnings}
            for i, r in enumerate(reaches, start=1)]


def plan_json(law: Law, reaches: list[Reach], target: float, max_steps: int,
              swept: list[Sweep] = ()) -> dict:
    return {"schema_version": SCHEMA_VERSION, "tool_version": __version__, "law": law_summary(law),
            "target_loss": target, "max_steps": max_steps, "schedules": plan_rows(reaches),
            "best": reaches[0].name if reaches and reaches[0].steps is not None else None,
            "sweeps": [plan_sweep_json(reaches, s) for s in swept],
            "held_out": _held_out(law), "notes": list(law.notes)}


def plan_sweep_json(reaches: list[Reach], sweep: Sweep) -> dict:
    """A swept key's values, the steps each needs (None: not reached), and the value needing fewest."""
    pts = plan_sweep_points(reaches, sweep)
    steps = [None if np.isnan(n) else int(n) for n in pts["y"]]
    best = None if all(n is None for n in steps) else int(np.nanargmin(pts["y"]))
    return {"schedule": sweep.spec, "key": sweep.key, "values": pts["values"].tolist(), "steps": steps,
            "best": None if best is None else float(pts["values"][best]),
            "best_name": None if best is None else pts["names"][best]}


def _markdown_rows(t: Table) -> list[str]:
    """A rich table's header and cells as the lines of a markdown table."""
    cells = [[str(c.header) for c in t.columns]] + [list(map(str, row)) for row in
                                                     zip(*(c.cells for c in t.columns), strict=True)]
    rule = ["---:" if c.justify == "right" else "---" for c in t.columns]
    return ["| " + " | ".join(row) + " |" for row in cells[:1] + [rule] + cells[1:]]


def plan_markdown(law: Law, reaches: list[Reach], target: float, max_steps: int,
                  expect_best: str | None = None, passed: bool | None = None, swept: list[Sweep] = ()) -> str:
    """The plan as a report for a pull request or a CI step summary."""
    head = f"### lrforecast plan: steps to reach a loss of {target:g}"
    if expect_best is not None:
        head += f": {'passed' if passed else 'FAILED'} (expected '{expect_best}' to need the fewest)"
    t = plan_table(law, reaches, target, max_steps)
    lines = [head, "", f"{law.name} law, peak LR {law.peak_lr:g}, warmup {law.warmup}, fitted on "
             f"{len(law.runs)} run(s) up to step {law.horizon}; lengths searched up to {max_steps}.", ""]
    lines += _markdown_rows(t)
    if t.caption:
        lines += ["", str(t.caption)]
    for sweep in (plan_sweep_json(reaches, s) for s in swept):
        if sweep["best"] is not None:
            steps = sweep["steps"][sweep["values"].index(sweep["best"])]
            lines += ["", f"{sweep['schedule']}: fewest steps at {sweep['key']}={sweep['best']:g} "
                      f"({steps:,})."]
    lines += [f"\n> warning: {w}" for w in merge_warnings([(r.name, r.warnings) for r in reaches])]
    return "\n".join(lines) + "\n"


def plan_table(law: Law, reaches: list[Reach], target: float, max_steps: int) -> Table:
    rows = plan_rows(reaches)
    t = Table(title=f"Steps to reach a loss of {target:g} (searched up to {max_steps})", title_justify="left")
    err = held_out_end_error(law)
    columns = [("#", "right"), ("schedule", "left"), ("steps", "right"), ("more steps", "right")]
    columns += [("range", "right")] if err is not None else []
    for name, just in columns + [("final loss", "right")]:
        t.add_column(name, justify=just)
    if err is not None:
        under = " and its refits" if law.refits else ""
        t.caption = (f"range: the steps if the final loss were {100 * err:.2f}% higher or lower (the law's "
                     f"largest error at the end of a run it was not fitted on), under the law{under}"
                     f"{blind_to_decay(law)}")

    def count(n: int | None) -> str:
        return "none" if n is None else f"{n:,}"

    cells = []
    for r in rows:
        more = ("" if r["more_steps"] is None else "best" if r["rank"] == 1
                else f"+{100 * r['more_steps']:.1f}%")
        cells.append([str(r["rank"]), r["name"], count(r["steps"]), more])
        if err is not None:
            cells[-1].append(" - ".join(count(n) for n in r["steps_range"]))
        cells[-1].append(f"{r['final_loss']:.4f}")
    return _add_rows(t, cells)


def prediction_summary(pred: Prediction, rows: int = 12) -> Table:
    """A few evenly spaced steps of a forecast (the last included), with its range when it has one."""
    at = np.unique(np.linspace(0, pred.steps.size - 1, rows).astype(np.int64))
    t = Table(title=f"Forecast of {pred.name} ({int(pred.steps[-1]) + 1} steps)", title_justify="left")
    for name in ("step", "lr", "predicted loss") + (("range",) if pred.interval is not None else ()):
        t.add_column(name, justify="right")
    cells = []
    for i in at:
        cells.append([f"{int(pred.steps[i]):,}", f"{pred.lr[i]:.3g}", f"{pred.loss[i]:.4f}"])
        if pred.interval is not None:
            cells[-1].append(f"{pred.interval[0][i]:.4f}-{pred.interval[1][i]:.4f}")
    return _add_rows(t, cells)


def prediction_table(pred: Prediction) -> pa.Table:
    """step, lr, predicted_loss, low / high (the forecast range) when the law has a held-out error,
    and refit_low / refit_high when it has refits."""
    columns = {"step": pa.array(pred.steps, pa.int64()), "lr": pred.lr, "predicted_loss": pred.loss}
    if pred.interval is not None:
        columns["low"], columns["high"] = pred.interval
    if pred.band is not None:
        columns["refit_low"], columns["refit_high"] = pred.band
    return pa.table(columns)


def write_prediction(pred: Prediction, path: str | None) -> str | None:
    """Write CSV or Parquet to `path` (by its suffix), or return CSV text when path is None."""
    table = prediction_table(pred)
    if path is None:
        formats = {"step": "{}", "lr": "{:.8g}"}
        cols = [(name, formats.get(name, "{:.6f}"), table.column(name).to_numpy())
                for name in table.column_names]
        lines = [",".join(table.column_names)]
        lines += [",".join(f.format(v[i]) for _, f, v in cols) for i in range(table.num_rows)]
        return "\n".join(lines) + "\n"
    out = Path(path)
    if out.suffix.lower() not in (".parquet", ".pq", ".csv", ".txt", ""):
        raise InputError(f"-o {path}: write .csv or .parquet")
    with replacing(out) as tmp:
        if out.suffix.lower() in (".parquet", ".pq"):
            pq.write_table(table, tmp)
        else:
            pacsv.write_csv(table, tmp)
    return None


def source_json(src: Source, run: Run | None, schedule: str | None = None) -> dict:
    """What a source holds and which run and fields were chosen (None: several runs, none chosen),
    with the schedule `log` makes of the chosen run's LR (resolve.log_schedule)."""
    return {"schema_version": SCHEMA_VERSION, "tool_version": __version__, "source": src.path,
            "format": src.format, "step_field": src.step_field, "notes": src.notes,
            "runs": {name: {tag: {"points": int(s.size), "first_step": int(s.min()),
                                  "last_step": int(s.max())} for tag, (s, _) in series.items()}
                     for name, series in src.runs.items()},
            "chosen": None if run is None else {
                "run": run.name, "fields": run.notes[0] if run.notes else "",
                "points": int(run.steps.size), "cleaning": run.notes[1:], "lr_logged": run.lr is not None,
                "lr_every_step": run.logged_lr_every_step() is not None, "schedule": schedule}}


def source_table(src: Source, runs: list[Run]) -> Table:
    """Every run and series of a source, the fields each run would use marked."""
    t = Table(title=f"{src.path}: {src.format}, {len(src.runs)} run(s)", title_justify="left")
    for col, just in (("run", "left"), ("series", "left"), ("points", "right"), ("steps", "right"),
                      ("", "left")):
        t.add_column(col, justify=just)
    used_tags = {r.name: {r.fields.get("loss"), r.fields.get("lr")} - {None} for r in runs}
    rows = []
    for name, series in src.runs.items():
        for tag, (s, _) in series.items():
            used = tag in used_tags.get(name, set())
            rows.append([name, tag, str(s.size), f"{s.min()}-{s.max()}", "<- used" if used else ""])
    return _add_rows(t, rows)


def watch_json(u) -> dict:
    """One update of `watch` (watching.Update) as JSON."""
    return {"schema_version": SCHEMA_VERSION, "tool_version": __version__, **u.to_dict()}


def watch_line(u) -> str:
    """One line on a watched run's forecast (watching.Update)."""
    text = f"step {u.step:,} ({u.points} points, last loss {u.last_loss:.4f}): {u.law} law, final loss at " \
           f"step {u.final_step:,} {u.final_loss:.4f}"
    if u.final_range is not None:
        text += f" (range {u.final_range[0]:.4f}-{u.final_range[1]:.4f})"
    if u.target is not None:
        if u.target_step is None:
            text += f"; does not reach {u.target:g} by the end"
        else:
            lo, hi = u.target_steps or (None, None)
            span = f" (range {_step_or_never(lo)} to {_step_or_never(hi)})" if u.target_steps else ""
            text += f"; reaches {u.target:g} at step {u.target_step:,}{span}"
    return text + ("; the run has reached its last step" if u.done else "")


def _step_or_never(step: int | None) -> str:
    return "never" if step is None else f"{step:,}"

