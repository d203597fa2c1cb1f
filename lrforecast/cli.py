"""The command line: parse options, call the library, hand results to report. No maths here."""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from typer._click.exceptions import ClickException

# Only what the options and --help need is imported here; the library modules that read logs,
# fit and report (numpy's heavier users, scipy, pyarrow, matplotlib) are imported by the commands
# that use them, so that `lrforecast --help` answers at once.
from . import __version__
from .areas import DEFAULT_WARMUP_MODE, WARMUP_MODES
from .errors import EXIT_EXPECTATION, InputError, LRForecastError
from .laws import LAWS
from .run import ALL_RUNS, Run
from .schedules import (
    ALIASES,
    BUILTIN,
    KEY_ALIASES,
    MAX_FACTOR,
    load_presets,
    parse_schedule,
    split_specs,
)
from .sweep import SWEEP_VALUES, sweeps

if TYPE_CHECKING:
    from .backtest import Backtest
    from .law import Law

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Forecast a training run's loss curve under any learning-rate schedule.")
# markup off: run names, field names and paths are printed as they are (rich took `loss[avg]` for a tag)
out = Console(markup=False)
if not out.is_terminal:  # a CI log or a file: no terminal to fit, so tables need not squeeze to 80
    out = Console(width=120, markup=False)
err = Console(stderr=True, soft_wrap=True, markup=False)  # notes stay one line each in CI logs
PIPE_CLOSED = 141  # as a shell reports a program ended by SIGPIPE (`lrforecast compare | head -3`)

PeakOpt = Annotated[float | None, typer.Option("--peak-lr", help="Default peak LR for schedules.")]
WarmupOpt = Annotated[int | None, typer.Option("--warmup", help="Default warmup steps for schedules.")]
MinOpt = Annotated[float | None, typer.Option("--min-lr", help="Default final LR (else 10% of peak).")]
StepsOpt = Annotated[int | None, typer.Option("--steps", help="Default total steps for schedules.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout, nothing else.")]
FormatOpt = Annotated[str | None, typer.Option("--format", help="Log format (default: detect).")]
StepKey = Annotated[str | None, typer.Option("--step-key", help="Field holding the step.")]
LossKey = Annotated[str | None, typer.Option("--loss-key", help="Field holding the loss.")]
LrKey = Annotated[str | None, typer.Option("--lr-key", help="Field holding the learning rate.")]
DupOpt = Annotated[str, typer.Option("--duplicates", help="Repeated steps: last|first|mean|error.")]
RunOpt = Annotated[str | None, typer.Option("--run", help="Which run of a multi-run source.")]
RunsOpt = Annotated[list[str] | None, typer.Option(
    "--run", help=f"Which run of a multi-run source; repeat to fit several together, or '{ALL_RUNS}'.")]
NEEDS_PLOT = "(needs lrforecast\\[plot])"  # rich would take a bare [plot] for markup and drop it
PlotOpt = Annotated[Path | None, typer.Option(
    "--plot", help=f"Also draw observed and fitted curves and the error to a .png or .svg {NEEDS_PLOT}.")]
MarkdownOpt = Annotated[Path | None, typer.Option(
    "--markdown", help="Also write a markdown report; $GITHUB_STEP_SUMMARY is appended to.")]
ChartOpt = Annotated[bool, typer.Option("--chart/--no-chart", help="Terminal chart of the curves.")]
AllowOpt = Annotated[bool, typer.Option(
    "--allow-untrusted", help="Let a gate pass on a law whose own fit doubts it (a floor below zero, a "
    "rising loss).")]
PatternOpt = Annotated[str | None, typer.Option(
    "--pattern", help="Regex with named groups step, loss, lr for a text log.")]


def _annotation(level: str, text: str) -> str | None:
    """Under GitHub Actions, `text` as a workflow command (an annotation on the run and the pull
    request; the runner reads stderr too); elsewhere None."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return None
    data = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::{level} title=lrforecast::{data}"


def _emit(level: str, style: str, text: str) -> None:
    """One line on stderr: 'level: text', or a GitHub annotation of that level."""
    line = _annotation(level, text)
    if line is None:
        err.print(f"[{style}]{level}:[/] {escape(text)}", highlight=False, markup=True)
    else:
        err.print(line, highlight=False)


def _to_terminal() -> bool:
    """Whether standard output is a terminal (a person), not a pipe or a file (a program)."""
    return sys.stdout.isatty()


def _warn(lines: list[str]) -> None:
    for text in lines:
        _emit("warning", "yellow", text)


def _note(lines: list[str]) -> None:
    for line in lines:
        err.print(f"note: {line}", highlight=False)


class _Progress:
    """Progress on stderr once the work has taken more than a second: a bar on a terminal, and in a
    log (CI, a file) a plain line at most every PLAIN_EVERY seconds."""

    PLAIN_EVERY = 5.0

    def __init__(self, label: str) -> None:
        self.label, self.start, self.bar, self.task = label, time.monotonic(), None, None
        self.said = self.start

    def __call__(self, done: int, total: int) -> None:
        from rich.progress import Progress
        now = time.monotonic()
        if now - self.start < 1.0:
            return
        if not err.is_terminal:
            if now - self.said >= self.PLAIN_EVERY or self.said == self.start:
                self.said = now
                err.print(f"{self.label}: {done} of {total} ({now - self.start:.0f} s)", highlight=False)
            return
        if self.bar is None:
            self.bar = Progress(console=err, transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        self.bar.update(self.task, completed=done, total=total)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def _describe(runs: list[Run], by_name: bool = False) -> list[str]:
    """One line per run: what was read and what cleaning did."""
    return [f"{r.name if by_name else r.source}: {len(r.steps)} points, steps {r.steps[0]}-{r.steps[-1]}; "
            + "; ".join(r.notes) for r in runs]


def _load_law(path: str | None) -> Law:
    from .law import Law
    from .reference import default_law
    if path is None:
        law = default_law()
        _note([law.notes[-1]])
        return law
    return Law.load(path)


def _check_output(path: Path | None, inputs: list[Path], option: str = "-o") -> None:
    if path is None:
        return
    target = path.resolve()
    if any(target == p.resolve() for p in inputs):
        raise InputError(f"{option} {path} would overwrite an input file; write somewhere else")
    if target.is_dir():
        raise InputError(f"{option} {path} is a directory; give a file name in it")
    if not target.parent.is_dir():
        raise InputError(f"{option} {path}: the directory {path.parent} does not exist; create it first")


def _schedule_files(specs: list[str]) -> list[Path]:
    """The files `file:PATH` schedules read: inputs that an output must not overwrite."""
    parsed = [parse_schedule(s) for s in specs if s.strip().lower().startswith("file:")]
    return [Path(sched.params["path"]) for sched in parsed]


def _check_plot(path: Path | None, inputs: list[Path]) -> None:
    """Refuse a --plot path before the work: an input, a missing folder, a format or matplotlib."""
    from . import plots
    _check_output(path, inputs, "--plot")
    if path is not None:
        plots.check_plot_path(path)


def _law_defaults(weight: str, centre: str | None = None) -> str:
    """Each law's default for a pull, for --help: 'multipower 0.3 towards 4.2%'."""
    return ", ".join(f"{name} {getattr(m, weight):g}"
                     + (f" towards {100 * getattr(m, centre):g}%" if centre else "")
                     for name, m in LAWS.items() if getattr(m, weight, None) is not None)


@app.command("fit")
def fit_cmd(
    runs: Annotated[list[Path], typer.Argument(help="Loss logs, fitted jointly.")],
    schedule: Annotated[list[str] | None, typer.Option(
        "--schedule", "-s", help="Schedule of each run, in order (default: its logged LR, or, logged "
        "every few steps, the standard schedule it follows).")] = None,
    law: Annotated[str, typer.Option(
        "--law", help=f"Law: {', '.join(LAWS)}, or auto (the best by cross-validation).")] = "auto",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the law (JSON).")] = None,
    json_out: JsonOpt = False,
    plot: PlotOpt = None,
    warmup_mode: Annotated[str, typer.Option(
        "--warmup-mode", help=f"Warmup LRs in the areas: {', '.join(WARMUP_MODES)}.")] = DEFAULT_WARMUP_MODE,
    lam: Annotated[float | None, typer.Option("--lam", "--lambda", help="Fix the momentum decay.")] = None,
    from_step: Annotated[int | None, typer.Option("--from-step", help="First step fitted.")] = None,
    robust: Annotated[bool, typer.Option(
        "--robust/--squares", help="Huber loss (delta 1e-3) or squares of the relative residuals.")] = True,
    prior: Annotated[float | None, typer.Option(
        "--prior", help="Pull of a law's shape parameters towards its prior (default "
        f"{_law_defaults('PRIOR_WEIGHT')}; 0: none).")] = None,
    gain: Annotated[float | None, typer.Option(
        "--gain-prior", help="Pull of a law's annealing gain towards its share of the loss per unit "
        f"of peak LR (default {_law_defaults('GAIN_WEIGHT', 'GAIN_PRIOR')}; 0: none).")] = None,
    peak_lr: PeakOpt = None, warmup: WarmupOpt = None, min_lr: MinOpt = None, steps: StepsOpt = None,
    fmt: FormatOpt = None, step_key: StepKey = None, loss_key: LossKey = None, lr_key: LrKey = None,
    duplicates: DupOpt = "last", run: RunsOpt = None, pattern: PatternOpt = None,
) -> None:
    """Fit a law on one or more runs; print its parameters and how well it fits each run."""
    from . import plots, report
    from .backtest import evaluate as evaluate_law
    from .readers import read_runs
    from .resolve import resolve
    from .selection import fit
    read = [*runs, *_schedule_files(schedule or [])]
    _check_output(output, read)
    _check_plot(plot, read)
    defaults = {"peak": peak_lr, "warmup": warmup, "min": min_lr, "total": steps}
    specs = [parse_schedule(s, defaults) for s in schedule or []]
    observed = read_runs(runs, runs=run or [], format=fmt, step_key=step_key, loss_key=loss_key,
                         lr_key=lr_key, duplicates=duplicates, pattern=pattern)
    if len(specs) > len(observed):
        raise InputError(f"{len(specs)} --schedule options for {len(observed)} runs; give one per run")
    parsed = specs + [parse_schedule("log", defaults) for _ in observed[len(specs):]]
    if specs and len(specs) < len(observed):  # a run left to its log: say why it failed, if it does
        for i in range(len(specs), len(observed)):
            try:
                parsed[i] = resolve(parsed[i], observed[i])
            except InputError as e:
                raise InputError(f"{e} ({len(specs)} --schedule given for {len(observed)} runs: they go to "
                                 "the runs in order, one each; the rest use their logged LR)") from None
    with _Progress("fitting") as bar:
        result = fit(observed, parsed, law=law, validate=True, warmup_mode=warmup_mode, lam=lam,
                     from_step=from_step, robust=robust, prior=prior, gain_prior=gain, progress=bar)
    if output is not None:
        result.save(output)
    if plot is not None:
        fitted = [evaluate_law(result, r, s) for r, s in zip(observed, parsed, strict=True)]
        plots.save_backtest_plot(result, fitted, plot)
        err.print(f"chart written to {plot}", highlight=False)
    if json_out:
        print(json.dumps(result.to_dict(), indent=2))
        return
    _note(_describe(observed) + list(result.notes))
    out.print(report.params_table(result))
    out.print(report.metrics_table(result.runs, "Fit on each run"))
    if output is not None:
        err.print(f"law written to {output}", highlight=False)


@app.command("predict")
def predict_cmd(
    law: Annotated[str, typer.Argument(help="Law file from 'lrforecast fit -o'.")],
    schedule: Annotated[str, typer.Option("--schedule", "-s", help="Schedule spec to forecast.")],
    every: Annotated[int | None, typer.Option("--every", help="Keep every K-th step (default 1).")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write .csv or .parquet.")] = None,
    json_out: JsonOpt = False,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help=f"Also draw the forecast and its range to a .png or .svg {NEEDS_PLOT}.")
    ] = None,
    tensorboard: Annotated[Path | None, typer.Option(
        "--tensorboard", help="Also write the forecast as TensorBoard scalars (forecast/loss, /low, "
        "/high) into this run folder, beside the run's own.")] = None,
    peak_lr: PeakOpt = None, warmup: WarmupOpt = None, min_lr: MinOpt = None, steps: StepsOpt = None,
) -> None:
    """Forecast the loss at every step (or every K) of one schedule: CSV on stdout, or a file. At a
    terminal, without -o or --every: a table of a few steps and a chart."""
    from . import charts, plots, report
    from .forecast import law_defaults
    from .forecast import predict as predict_schedule
    from .law import Law
    read = [Path(law), *_schedule_files([schedule])]
    _check_output(output, read)
    _check_plot(plot, read)
    fitted = Law.load(law)
    sched = parse_schedule(schedule, law_defaults(fitted, peak_lr, warmup, min_lr, steps))
    pred = predict_schedule(fitted, sched, every=every or 1)
    _warn(pred.warnings)
    if plot is not None:
        plots.save_prediction_plot(fitted, pred, plot)
        err.print(f"chart written to {plot}", highlight=False)
    if tensorboard is not None:
        from .events import write_forecast  # here: only this option needs it

        err.print(f"TensorBoard scalars written to {write_forecast(fitted, pred, tensorboard)}",
                  highlight=False)
    if json_out:
        if output is not None:
            report.write_prediction(pred, str(output))
        print(json.dumps(report.prediction_json(fitted, pred)))
        return
    if output is None and every is None and _to_terminal():  # a person reads it, not a program
        out.print(report.prediction_summary(pred))
        print(charts.chart([pred], color=out.is_terminal))
        _note(["every step as CSV: -o curve.csv (or .parquet), --every 1, or pipe it (| head)"])
        return
    text = report.write_prediction(pred, None if output is None else str(output))
    if text is not None:
        sys.stdout.write(text)


@app.command("compare")
def compare_cmd(
    law: Annotated[str | None, typer.Argument(help="Law file (default: fit the bundled runs).")] = None,
    schedules: Annotated[str, typer.Option(
        "--schedules", help="Candidates, comma-separated; KEY=A..B (or A..B/N) sweeps a value.")] = (
        "cosine,wsd"),
    at: Annotated[int | None, typer.Option("--at", help="Also rank by the loss at this step.")] = None,
    json_out: JsonOpt = False,
    expect_best: Annotated[str | None, typer.Option(
        "--expect-best", help="CI gate: this schedule must rank first.")] = None,
    max_gap: Annotated[float | None, typer.Option(
        "--max-gap", help="CI gate: --expect-best may trail the best by at most this loss.")] = None,
    confidence: Annotated[float | None, typer.Option(
        "--confidence", help="CI gate: --expect-best must end lower than every other candidate with "
        "at least this probability (else: cannot tell, exit 1).")] = None,
    chart: ChartOpt = True,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help=f"Also draw the curves to a .png or .svg {NEEDS_PLOT}.")] = None,
    markdown: MarkdownOpt = None,
    allow_untrusted: AllowOpt = False,
    peak_lr: PeakOpt = None, warmup: WarmupOpt = None, min_lr: MinOpt = None, steps: StepsOpt = None,
) -> None:
    """Forecast several schedules with one law and rank them; a CI gate with --expect-best."""
    from . import charts, plots, report
    from .forecast import compare as compare_schedules
    from .forecast import expect_best as gate_best
    from .forecast import law_defaults, sweep_points
    if max_gap is not None and expect_best is None:
        raise InputError("--max-gap needs --expect-best NAME (the schedule allowed to trail the best)")
    if confidence is not None and expect_best is None:
        raise InputError("--confidence needs --expect-best NAME (the schedule that must end lowest)")
    _check_output(markdown, [Path(law)] if law else [], "--markdown")
    _check_plot(plot, [Path(law)] if law else [])
    fitted = _load_law(law)
    with _Progress("forecasting") as bar:
        cmp = compare_schedules(fitted, split_specs(schedules), at=at,
                                defaults=law_defaults(fitted, peak_lr, warmup, min_lr, steps), progress=bar)
    expectation = (None if expect_best is None
                   else gate_best(cmp, expect_best, max_gap, allow_untrusted, confidence))
    _warn(cmp.warnings)
    if plot is not None:
        plots.save_plot(cmp, plot)
        err.print(f"chart written to {plot}", highlight=False)
    if markdown is not None:
        _write_markdown(markdown, report.comparison_markdown(cmp, expectation))
    if json_out:
        print(json.dumps(report.comparison_json(cmp, expectation), indent=2))
    else:
        out.print(report.comparison_table(cmp))
        if chart:
            for sweep in cmp.sweeps:
                print(charts.sweep_chart(sweep, sweep_points(cmp, sweep), color=out.is_terminal))
            if not cmp.sweeps:
                print(charts.chart(cmp.ranked, color=out.is_terminal))
    if expectation is not None:
        limit = f"within {max_gap:g} of the best" if max_gap is not None else "ranked first"
        rank, gap = expectation["rank"], expectation["gap"]
        what = f"'{expect_best}' must be {limit}; it ranks {rank} (gap {gap:+.4f})"
        if confidence is not None:
            least = expectation["p_lowest"]
            what += (f", and end lowest with probability >= {confidence:g}: "
                     + ("unknown without refits" if least is None else f"{least:.2f}")
                     + ("" if least is not None and least >= confidence else ", so the forecast cannot tell"))
        _expectation(expectation["passed"], what + _doubted(expectation["untrusted"]))


def _write_markdown(path: Path, text: str) -> None:
    """Write a markdown report; GitHub's step summary is appended to, as other steps write to it too."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    append = summary is not None and path.resolve() == Path(summary).resolve()
    with path.open("a" if append else "w") as f:
        f.write(text)


def _doubted(doubts: list[str]) -> str:
    """A failed gate's reason when the law's own fit doubts it."""
    return ("; and the law is not to be trusted: " + "; ".join(doubts)
            + " (--allow-untrusted gates on it anyway)") if doubts else ""


def _expectation(passed: bool, what: str) -> None:
    """Say whether a CI expectation held (an error annotation under GitHub Actions when it failed)
    and exit with EXIT_EXPECTATION when it did not."""
    text = f"expectation {'passed' if passed else 'FAILED'}: {what}"
    line = None if passed else _annotation("error", text)
    err.print(line or text, highlight=False)
    if not passed:
        raise typer.Exit(EXIT_EXPECTATION)


@app.command("plan")
def plan_cmd(
    law: Annotated[str | None, typer.Argument(help="Law file (default: the bundled runs' law).")] = None,
    target: Annotated[float, typer.Option("--target-loss", help="The loss to reach.")] = ...,
    schedules: Annotated[str, typer.Option(
        "--schedules",
        help="Candidates without a total, comma-separated; KEY=A..B (or A..B/N) sweeps a value.",
    )] = "cosine,wsd",
    max_steps: Annotated[int | None, typer.Option(
        "--max-steps", help=f"Longest length to try (default {MAX_FACTOR}x the longest fitted run).")] = None,
    json_out: JsonOpt = False,
    expect_best: Annotated[str | None, typer.Option(
        "--expect-best", help="CI gate: this schedule must need the fewest steps.")] = None,
    markdown: MarkdownOpt = None,
    chart: ChartOpt = True,
    allow_untrusted: AllowOpt = False,
    peak_lr: PeakOpt = None, warmup: WarmupOpt = None, min_lr: MinOpt = None,
) -> None:
    """How many steps each schedule needs to reach a target loss; fewest first."""
    from . import charts, report
    from .forecast import law_defaults, merge_warnings, untrusted
    from .planning import curves as plan_curves
    from .planning import needs_fewest, plan_sweep_points, search_limit
    from .planning import plan as plan_lengths
    _check_output(markdown, [Path(law)] if law else [], "--markdown")
    if not target > 0:
        raise InputError(f"--target-loss must be a loss > 0, got {target}")
    if max_steps is not None and max_steps < 2:
        raise InputError(f"--max-steps must be at least 2, got {max_steps}")
    fitted = _load_law(law)
    longest = search_limit(fitted, max_steps)
    specs = split_specs(schedules)
    with _Progress("searching lengths") as bar:
        reaches = plan_lengths(fitted, specs, target,
                               defaults=law_defaults(fitted, peak_lr, warmup, min_lr), max_steps=longest,
                               progress=bar)
    _warn(merge_warnings([(r.name, r.warnings) for r in reaches]))
    swept = sweeps(specs)
    doubts = [] if allow_untrusted else untrusted(fitted)
    passed = None if expect_best is None else needs_fewest(reaches, expect_best) and not doubts
    if markdown is not None:
        _write_markdown(markdown, report.plan_markdown(fitted, reaches, target, longest, expect_best, passed,
                                                       swept))
    if json_out:
        print(json.dumps(report.plan_json(fitted, reaches, target, longest, swept), indent=2))
    else:
        out.print(report.plan_table(fitted, reaches, target, longest))
        for sweep in swept if chart else ():
            print(charts.sweep_chart(sweep, plan_sweep_points(reaches, sweep), color=out.is_terminal))
        if chart and not swept and (drawn := plan_curves(fitted, reaches)):
            print(charts.chart(drawn, color=out.is_terminal, target=target))
    if expect_best is not None:
        _expectation(passed, f"'{expect_best}' must need the fewest steps; "
                     + (f"'{reaches[0].name}' does" if reaches[0].steps else f"none reaches {target:g}")
                     + _doubted(doubts))


@app.command("evaluate")
def evaluate_cmd(
    law: Annotated[str, typer.Argument(help="Law file from 'lrforecast fit -o'.")],
    run: Annotated[Path, typer.Argument(help="An observed run to backtest on.")],
    schedule: Annotated[str | None, typer.Option(
        "--schedule", "-s", help="The run's schedule (default: as for fit).")] = None,
    json_out: JsonOpt = False,
    chart: Annotated[bool, typer.Option("--chart/--no-chart", help="Terminal chart of the backtest.")] = True,
    plot: PlotOpt = None,
    expect_in_range: Annotated[bool, typer.Option(
        "--expect-in-range", help="CI gate: the run's latest loss must lie in the forecast range.")] = False,
    from_step: Annotated[int | None, typer.Option(
        "--from-step", help="Score only the steps from this one (default: the end of warmup).")] = None,
    allow_untrusted: AllowOpt = False,
    fmt: FormatOpt = None, step_key: StepKey = None, loss_key: LossKey = None, lr_key: LrKey = None,
    duplicates: DupOpt = "last", which: RunOpt = None, pattern: PatternOpt = None,
) -> None:
    """Backtest a law on an observed run: R2, MAE, RMSE, PredE, WorstE, and a chart; with
    --expect-in-range, a gate on whether a run in progress is still where the forecast said."""
    from . import plots, report
    from .backtest import evaluate as evaluate_law
    from .forecast import law_defaults, untrusted
    from .law import Law
    from .readers import read_run
    _check_plot(plot, [Path(law), run])
    fitted = Law.load(law)
    sched = parse_schedule(schedule or "log", law_defaults(fitted) | {"total": None})
    observed = read_run(run, format=fmt, step_key=step_key, loss_key=loss_key, lr_key=lr_key,
                        duplicates=duplicates, run=which, pattern=pattern)
    result = evaluate_law(fitted, observed, sched, from_step=from_step)
    held = result.range
    if expect_in_range and held is None:
        raise InputError(f"--expect-in-range: {law} has no forecast range (no held-out error); fit it "
                         "with 'lrforecast fit', which cross-validates the law")
    doubts = [] if allow_untrusted else untrusted(fitted)
    expectation = None if not expect_in_range else {
        "expect_in_range": True, "passed": bool(held["end_held"] and not doubts), "loss": held["end"],
        "range": held["end_range"], "untrusted": doubts}
    if plot is not None:
        plots.save_backtest_plot(fitted, [result], plot)
        err.print(f"chart written to {plot}", highlight=False)
    if json_out:
        print(json.dumps(report.evaluation_json(fitted, result) | (
            {"expectation": expectation} if expectation else {}), indent=2))
    else:
        _evaluation_text(fitted, observed, result, chart)
    if expectation is not None:
        _expectation(expectation["passed"], _in_range(held, int(result.steps[-1])) + _doubted(doubts))


def _evaluation_text(fitted: Law, observed: Run, result: Backtest, chart: bool) -> None:
    """evaluate's table, notes and chart."""
    from . import charts, report
    _note(_describe([observed]))
    _warn(result.warnings)
    out.print(report.metrics_table([result], f"{fitted.name} law on {observed.name}"))
    m = result.metrics
    if m["TrendE"] < 0.9 * m["PredE"]:
        _note([f"against the run's trend the error is {100 * m['TrendE']:.3g}% of the loss; PredE "
               f"({100 * m['PredE']:.3g}%) also counts the log's point-to-point scatter"])
    _note([f"at the run's end (step {int(result.steps[-1])}) the forecast is off by "
           f"{100 * m['EndE']:.3g}% of the loss"])
    if (held := result.range) is not None:
        _note([f"the forecast range holds {100 * held['held']:.0f}% of the run's trend and "
               f"{'' if held['end_held'] else 'not '}its final loss"])
    if chart:
        print(charts.backtest_chart(result, color=out.is_terminal))


def _in_range(held: dict, step: int) -> str:
    """Where a run's latest loss lies against the forecast range there (evaluate's `range`)."""
    lo, hi = held["end_range"]
    where = ("inside" if held["end_held"] else "above (behind the forecast)" if held["end"] > hi
             else "below (ahead of the forecast)")
    return f"the run's latest loss {held['end']:.4f} (step {step}) lies {where} the range {lo:.4f}-{hi:.4f}"


@app.command("watch")
def watch_cmd(
    log: Annotated[Path, typer.Argument(help="A run's log (any format inspect reads), growing.")],
    schedule: Annotated[str, typer.Option(
        "--schedule", "-s", help="The run's whole schedule, with its total steps.")],
    target: Annotated[float | None, typer.Option(
        "--target-loss", help="Also say at which step the run reaches this loss.")] = None,
    law: Annotated[str, typer.Option("--law", help=f"Law: {', '.join(LAWS)}, or auto.")] = "auto",
    once: Annotated[bool, typer.Option("--once", help="Forecast once and exit (for cron and CI).")] = False,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between reads of the log.")] = 30.0,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per update on stdout.")] = False,
    tensorboard: Annotated[Path | None, typer.Option(
        "--tensorboard", help="Also write each forecast as TensorBoard scalars into this folder.")] = None,
    peak_lr: PeakOpt = None, warmup: WarmupOpt = None, min_lr: MinOpt = None, steps: StepsOpt = None,
    fmt: FormatOpt = None, step_key: StepKey = None, loss_key: LossKey = None, lr_key: LrKey = None,
    which: RunOpt = None, pattern: PatternOpt = None,
) -> None:
    """Follow a run as its log grows: refit when new points arrive and say where it will end (with
    its range) and when it reaches --target-loss. Ends at the schedule's last step, or on Ctrl-C."""
    from . import report
    from .watching import follow  # here: only this command needs it

    if not interval > 0:
        raise InputError(f"--interval must be a number of seconds > 0, got {interval}")
    sched = parse_schedule(schedule, {"peak": peak_lr, "warmup": warmup, "min": min_lr, "total": steps})

    def read(path):
        from .readers import read_run
        return read_run(path, format=fmt, step_key=step_key, loss_key=loss_key, lr_key=lr_key, run=which,
                        pattern=pattern)

    last, live, written = None, None, None
    if not json_out and not once and _to_terminal():  # a person watches: one view, redrawn
        from rich.live import Live

        live = Live(console=out, auto_refresh=False)
        live.start()
    try:
        for run, fitted, pred, update in follow(log, sched, interval=interval, once=once, read=read,
                                                law=law, target=target):
            last = update
            if json_out:
                print(json.dumps(report.watch_json(update)), flush=True)
            elif live is not None:
                live.update(_watch_view(run, pred, update), refresh=True)
            else:
                out.print(report.watch_line(update), highlight=False)
            if tensorboard is not None:
                from .events import write_forecast

                written = write_forecast(fitted, pred, tensorboard, replace=written)
    except KeyboardInterrupt:
        if last is not None and not json_out:
            err.print("stopped; the last forecast: " + report.watch_line(last), highlight=False)
        raise
    finally:
        if live is not None:
            live.stop()


def _watch_view(run: Run, pred, update):
    """watch's live view: the latest forecast in words, and the run so far beside the forecast."""
    from rich.console import Group
    from rich.text import Text

    from . import charts, report

    picture = charts.watch_chart(run, pred, target=update.target)
    return Group(Text(report.watch_line(update)), Text.from_ansi(picture))


@app.command("inspect")
def inspect_cmd(
    source: Annotated[Path, typer.Argument(help="A log file or directory, or a law file.")],
    json_out: JsonOpt = False,
    fmt: FormatOpt = None, step_key: StepKey = None, loss_key: LossKey = None, lr_key: LrKey = None,
    duplicates: DupOpt = "last", run: RunOpt = None, pattern: PatternOpt = None,
    verify_crc: Annotated[bool, typer.Option("--verify-crc", help="Check TensorBoard CRCs.")] = False,
) -> None:
    """Show what a log holds: format, runs, series, the chosen fields, cleaning, and a chart; or,
    for a law file, what it was fitted on and how sure it is."""
    from . import charts, report
    from .law import Law
    from .readers import read_source, to_run
    from .readers.detect import is_law_path
    from .resolve import log_schedule
    if is_law_path(source):
        fitted = Law.load(source)
        if json_out:
            print(json.dumps(fitted.to_dict(), indent=2))
            return
        out.print(report.params_table(fitted))
        out.print(report.metrics_table(fitted.runs, "Fit on each run"))
        _note(report.law_description(fitted))
        return
    src = read_source(source, format=fmt, step_key=step_key, pattern=pattern, verify=verify_crc)
    if run is None and len(src.runs) > 1:  # show them all; fit and evaluate need --run
        runs = []
        for name in src.runs:
            try:
                runs.append(to_run(src, run=name, loss_key=loss_key, lr_key=lr_key, duplicates=duplicates))
            except InputError:
                pass
        if json_out:
            print(json.dumps(report.source_json(src, None), indent=2))
            return
        out.print(report.source_table(src, runs))
        hint = (f"{len(src.runs)} runs: fit or evaluate one with --run NAME; fit several together with "
                f"more --run, or --run {ALL_RUNS}")
        _note(_describe(runs, by_name=True) + [hint])
        return
    chosen = to_run(src, run=run, loss_key=loss_key, lr_key=lr_key, duplicates=duplicates)
    schedule = log_schedule(chosen)
    if json_out:
        print(json.dumps(report.source_json(src, chosen, schedule), indent=2))
        return
    out.print(report.source_table(src, [chosen]))
    _note(_describe([chosen]))
    if schedule not in (None, "logged"):
        _note([f"{chosen.name}: the LR is logged every few steps and follows {schedule}"])
    print(charts.loss_chart(chosen, color=out.is_terminal))


@app.command("schedules")
def schedules_cmd() -> None:
    """List the schedule names and presets, with a line of description each."""
    from rich.table import Table

    t = Table(title="Schedules (spec grammar NAME(:KEY=VALUE)*, lists with '/')", title_justify="left")
    t.add_column("name", no_wrap=True)
    t.add_column("preset of", overflow="fold")
    t.add_column("description", overflow="fold")
    for name in BUILTIN:
        t.add_row(name, "(built in)", _BUILTIN_HELP[name])
    for name, p in load_presets().items():
        t.add_row(name, p["spec"], p["description"])
    t.caption = ("also understood: " + ", ".join(f"{a} ({n})" for a, n in ALIASES.items())
                 + "; keys " + ", ".join(f"{a} ({k})" for a, k in KEY_ALIASES.items())
                 + f". In compare and plan, KEY=A..B sweeps {SWEEP_VALUES} values from A to B "
                 "(A..B/N: N values), e.g. wsd:decay=0.05..0.5")
    out.print(t)


_BUILTIN_HELP = {
    "constant": "peak after linear warmup",
    "cosine": "cosine from peak to min (default 10% of peak) at total",
    "linear": "linear from peak to min at total",
    "wsd": "constant, then decay=0.2 (or decay_steps=N, decay_start=S) with shape=linear|cosine|exp|1-sqrt",
    "step": "constant, then jumps: at=S1/S2:to=LR1/LR2",
    "inverse_sqrt": "peak/sqrt((t-warmup+timescale)/timescale) after warmup",
    "polynomial": "min + (peak-min)(1-q)^power after warmup (min default 1e-7, as Hugging Face's lr_end)",
    "restarts": "cosine to min (default 0) restarting at peak cycles=N times (cosine_with_restarts)",
    "onecycle": "PyTorch's OneCycleLR: cosine up from peak/div_factor, then down; pct_start=0.3",
    "file": "file:PATH, one LR per step, step,lr columns, or any log with an LR field",
    "log": "the run's own logged LR, or the standard schedule it follows when logged every few steps",
}


def _version(value: bool) -> None:
    if value:
        print(f"lrforecast {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version.")] = False) -> None:
    """Forecast a training run's loss curve under any learning-rate schedule."""


def main(argv: list[str] | None = None) -> int:
    """Entry point: one line on stderr and an exit code for every error, never a traceback (nor a
    numpy or matplotlib warning: what the user should know, the commands say themselves)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rc = app(args=argv, prog_name="lrforecast", standalone_mode=False)
        return rc if isinstance(rc, int) else 0
    except LRForecastError as e:
        _emit("error", "red", _flagged(e))
        return e.exit_code
    except ClickException as e:
        _emit("error", "red", f"{e.format_message()} (see 'lrforecast --help')")
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except (BrokenPipeError, SystemExit) as e:
        # the reader of stdout left (`| head`); click and rich then exit 1, our failed expectation
        if not isinstance(e, BrokenPipeError) and not isinstance(e.__context__, BrokenPipeError):
            raise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush
        return PIPE_CLOSED
    except OSError as e:  # the file system refused (permissions, a full disk): not a bug
        where = f"{e.filename}: " if e.filename else ""
        _emit("error", "red", f"{where}{e.strerror or e}; check the path and its permissions")
        return 2
    except Exception as e:  # a bug: one line, full traceback only when asked
        if os.environ.get("LRFORECAST_DEBUG"):
            raise
        err.print(f"[red]internal error:[/] {type(e).__name__}: {escape(str(e))} (set LRFORECAST_DEBUG=1 "
                  "for details)", highlight=False, markup=True)
        return 4


# the library names its parameters; on the command line they are these flags
FLAGS = {"confidence": "--confidence", "prior": "--prior", "gain_prior": "--gain-prior", "lam": "--lam",
         "from_step": "--from-step", "every": "--every", "at": "--at", "max_steps": "--max-steps",
         "target": "--target-loss"}


def _flagged(e: LRForecastError) -> str:
    """The error's message with the library parameter it names (`prior must be ...`) called by its
    command-line flag (`--prior must be ...`)."""
    text = str(e)
    flag = FLAGS.get(getattr(e, "param", None) or "")
    return flag + text[len(e.param):] if flag and text.startswith(e.param) else text


def run_main() -> None:
    sys.exit(main())
