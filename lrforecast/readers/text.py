"""Plain-text training logs (a job's stdout): built-in line patterns or the user's regex.

Each pattern has a `start` that marks a line as a training-step line and a full regex with named
groups `step`, `loss` and optionally `lr`. A line that starts like a step line but does not match
(another process's output broke it) is skipped and counted, not fatal.

With no built-in pattern matching, lines of `key value` pairs that hold a step key are read as
records (build-nanogpt, fairseq, LitGPT, OLMo-core with its metrics indented under the step line),
and the fields chosen as for JSONL.

Python dicts printed by a training loop are read as records. The Hugging Face Trainer prints them
without the step (`{'loss': 2.31, 'learning_rate': 5e-05, 'epoch': 0.1}`); the step is then the
count of the progress bar (tqdm, on stderr) drawn last before the dict, so such a log needs stderr;
when buffered stdout let the bar run ahead of the dicts, it is the dict's epoch times the steps per
epoch (_steps_from_epochs).
"""

from __future__ import annotations

import ast
import re
import time
from pathlib import Path

import numpy as np

from ..errors import InputError
from .detect import STEP_KEYS
from .records import Series, columns_to_series, records_to_columns

PATTERN_SECONDS = 10.0  # the most a user's --pattern may take on one log
NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf"
PATTERNS = {
    # llm.c's main.log: `s:N trl:X lr:Y norm:Z` (older versions: `s:N trl:X`), validation `s:N tel:X`
    "llmc": (r"^s:\d+ trl:", rf"^s:(?P<step>\d+) trl:(?P<loss>{NUM})(?: lr:(?P<lr>{NUM}))?"),
    "llmc-stdout": (r"^step\s+\d+/\d+ \|",
                    rf"^step\s+(?P<step>\d+)/\d+ \| loss (?P<loss>{NUM}).*?\| lr (?P<lr>{NUM}) \|"),
    "nanogpt": (r"^iter \d+:", rf"^iter (?P<step>\d+): loss (?P<loss>{NUM})"),
    "megatron": (r"^\s*\[?.*iteration\s+\d+/\s*\d+ \|",
                 rf"iteration\s+(?P<step>\d+)/\s*\d+ \|.*?learning rate: (?P<lr>{NUM}) \|"
                 rf".*?lm loss: (?P<loss>{NUM}) \|"),
    "torchtitan": (r"step:\s*\d+\s+loss:",
                   rf"step:\s*(?P<step>\d+)\s+loss:\s*(?P<loss>{NUM})"),
    "build-nanogpt": (r"^\d+ train ", rf"^(?P<step>\d+) train (?P<loss>{NUM})$"),  # its log/log.txt
    "python-dicts": (r"\{'", r"\{'[^{}]*\}"),  # a step field or a progress bar: see _read_dicts
}
# `key value` pairs in free text: `step 10 | loss: 2.31 | lr 6.0e-04`, `num_updates=100, lr=5e-4`,
# `lm loss: 2.3`. A key is one word or two (`learning rate`); a number glued to more (`330ms`) is none.
KEY = r"[A-Za-z_][\w/.-]*"
KEY_VALUE = re.compile(rf"(?<![\w/.-])({KEY})(?:\s+({KEY}))?(?:\s*[:=]\s*|\s+)({NUM})(?![\w.])")
# an indented `name=value` or `name: value` line under a step line, as OLMo-core's and Composer's
# console loggers write their metrics (Composer's as `Train loss/train/total: 2.3`, maybe after a
# rank prefix `0:`)
INDENTED = re.compile(rf"^(?:\d+:)?\s+(?:Train |Eval )?([^=:\s][^=:]*?)\s*[=:]\s*({NUM})\s*$")
LLMC_VAL = re.compile(rf"^s:(?P<step>\d+) tel:(?P<loss>{NUM})")  # llm.c's validation loss
HF_BAR = re.compile(r"\|\s*(\d+)/(\d+) \[")  # tqdm: " 3%|▎    | 10/3000 [00:10<10:00, ..."
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines()  # splits on \r too (progress bars)


def detect_pattern(lines: list[str]) -> str | None:
    """The built-in pattern that matches the most lines, or None."""
    sample = lines if len(lines) < 5000 else lines[:5000]
    best, best_count = None, 0
    for name, (_, full) in PATTERNS.items():
        rx = re.compile(full)
        count = sum(1 for line in sample if rx.search(ANSI.sub("", line))
                    or (name == "llmc" and LLMC_VAL.match(line)))
        if count > best_count:
            best, best_count = name, count
    return best


def read_text(path: Path, pattern: str | None = None) -> tuple[Series, str, str, list[str]]:
    """Series 'loss' and 'lr' over steps from a text log; also the step field, the pattern's name
    and notes."""
    lines = _lines(path)
    deadline = None
    if pattern is not None:
        import regex  # the user's pattern runs under a time bound, which re cannot give

        try:
            full = regex.compile(pattern)
        except regex.error as e:
            raise InputError(f"--pattern is not a valid regular expression ({e})") from None
        deadline = time.monotonic() + PATTERN_SECONDS
        if not {"step", "loss"} <= set(full.groupindex):
            raise InputError("--pattern needs named groups (?P<step>...) and (?P<loss>...); "
                             "(?P<lr>...) is optional")
        start, name = None, "pattern"
    else:
        name = detect_pattern(lines)
        if name is None:
            return _read_key_values(lines, path)
        if name == "python-dicts":
            return _read_dicts(lines, path)
        start, full = (re.compile(x) for x in PATTERNS[name])
    steps, loss, lr, broken = [], [], [], 0
    has_lr = "lr" in full.groupindex
    for line in lines:
        line = ANSI.sub("", line)
        m = full.search(line) if deadline is None else _timed_search(full, line, deadline)
        if m is None:
            if start is not None and start.search(line):
                broken += 1
            continue
        steps.append(int(m.group("step")))
        loss.append(float(m.group("loss")))
        lr.append(float(m.group("lr")) if has_lr and m.group("lr") is not None else np.nan)
    val = _llmc_val(lines) if name == "llmc" else None
    if not steps and val is not None:  # a log of validation losses only: they are the loss
        return {"loss": val}, "step", name, ["the log holds llm.c's validation loss (tel) only"]
    if not steps:
        raise InputError(f"{path}: the pattern matched no line")
    s = np.asarray(steps, dtype=np.int64)
    series: Series = {"loss": (s, np.asarray(loss))}
    if val is not None:
        series["tel"] = val  # --loss-key tel fits the validation loss
    lr_arr = np.asarray(lr)
    if np.isfinite(lr_arr).any():
        series["lr"] = (s, lr_arr)
    notes = [f"skipped {broken} broken step lines"] if broken else []
    return series, "step", name, notes


def _timed_search(pattern, line: str, deadline: float):
    """The user's pattern on one line, within what is left of PATTERN_SECONDS."""
    try:
        return pattern.search(line, timeout=max(deadline - time.monotonic(), 1e-3))
    except TimeoutError:
        raise InputError(f"--pattern took more than {PATTERN_SECONDS} s on this log; simplify it (nested "
                         "repeats such as (a+)+ or (a|aa)+ backtrack without end)") from None


def _llmc_val(lines: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """llm.c's validation losses (`s:N tel:X`) as (steps, losses), or None."""
    found = [(int(m.group("step")), float(m.group("loss"))) for line in lines if (m := LLMC_VAL.match(line))]
    if not found:
        return None
    arr = np.array(found)
    return arr[:, 0].astype(np.int64), arr[:, 1]


def _read_dicts(lines: list[str], path: Path) -> tuple[Series, str, str, list[str]]:
    """Python dicts printed by a training loop. With a step field (`{'step': 10, 'loss': 2.3}`)
    that is the step; without one (the Hugging Face Trainer) each dict takes the progress-bar count
    drawn last before it (in captured logs the bar at the logging step ends the line the dict
    starts on). Quoted numbers ('1.178', as TRL prints them) are numbers."""
    rx = re.compile(rf"{PATTERNS['python-dicts'][1]}|{HF_BAR.pattern}")
    records, bars, broken, last_bar, total = [], [], 0, None, None
    for line in lines:
        for item in rx.finditer(line):
            if not item.group(0).startswith("{"):
                last_bar, total = int(item.group(1)), int(item.group(2))
                continue
            try:
                logs = ast.literal_eval(item.group(0))
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                broken += 1
                continue
            if isinstance(logs, dict):
                records.append(logs)
                bars.append(last_bar)
    if not records:
        raise InputError(f"{path}: none of its {broken} printed dicts could be read; give --pattern")
    notes = [f"skipped {broken} unreadable dicts"] if broken else []
    cols = records_to_columns(records)
    if any(k in cols for k in STEP_KEYS):
        series, step_name = columns_to_series(cols, str(path))
        return series, step_name, "python dicts", notes
    if all(b is None for b in bars):
        raise InputError(f"{path}: Hugging Face Trainer logs without progress-bar counts before them: "
                         "the printed logs carry no step. Capture stderr too (2>&1), or read "
                         "trainer_state.json from the run's checkpoint folder")
    steps = np.array([np.nan if b is None else b for b in bars], dtype=float)
    how = ["steps read from the progress bar"]
    if (fixed := _steps_from_epochs(records, steps, total)) is not None:
        steps, how = fixed
    cols["step"] = (steps, np.isfinite(steps))
    series, _ = columns_to_series(cols, str(path), "step")
    return series, "progress bar", "hf-trainer", how + notes


def _steps_from_epochs(records: list[dict], bars: np.ndarray, total: int | None
                       ) -> tuple[np.ndarray, list[str]] | None:
    """The Trainer's logs as printed on stdout and its bar on stderr reach a file each in its own
    time: stdout is buffered when it is not a terminal, so a log can come out after the bar has run
    on (its bar count is then ahead of its step). The logs' `epoch` is their step / steps per
    epoch, so the bar counts are right only if they are in proportion to it. If they are not, the
    steps are epoch * steps per epoch: the bar's total over the final epoch of the run's closing
    summary (train_runtime), or for an unfinished run the lowest bar / epoch (a count is never
    behind its log, and the last log of each burst of buffered output is printed at its step).
    None: the bar counts are right, or there is no epoch to tell by."""
    epoch = np.array([r.get("epoch") if isinstance(r.get("epoch"), int | float) else np.nan
                      for r in records], dtype=float)
    with np.errstate(invalid="ignore"):
        known = np.isfinite(bars) & np.isfinite(epoch) & (epoch > 0)
    if known.sum() < 2:
        return None
    half = np.array([0.5 * 10.0 ** -_decimals(e) for e in epoch[known]])  # the printed epoch's rounding
    b, e = bars[known], epoch[known]
    # bar counts in proportion to the epochs (within a step and the epochs' rounding): they are right
    if np.max((b - 1) / (e + half)) <= np.min((b + 1) / np.maximum(e - half, 1e-12)):
        return None
    final = [r["epoch"] for r in records if "train_runtime" in r and isinstance(r.get("epoch"), int | float)]
    if total is not None and final and final[-1] > 0:
        per_epoch = total / final[-1]
        source = f"the bar's {total} steps over the run's {final[-1]:g} epochs"
    else:
        per_epoch = float(np.min(b / e))
        source = "the lowest bar count per epoch (the run has no summary yet)"
    steps = np.where(np.isfinite(epoch), np.round(epoch * per_epoch), np.nan)
    off = int(np.max(np.abs(b - steps[known])))
    return steps, [f"steps from the logs' epoch times {per_epoch:.6g} steps per epoch ({source}): the "
                   f"progress bar ran up to {off} steps ahead of the printed logs (stdout buffered apart "
                   "from stderr; PYTHONUNBUFFERED=1 keeps them together, trainer_state.json has the steps)"]


def _decimals(x: float) -> int:
    """How many decimals `repr` gives x: 0.25 -> 2; what a printed value was rounded to."""
    text = repr(float(x))
    if "e" in text:
        mantissa, exp = text.split("e")
        return max(0, len(mantissa.partition(".")[2].rstrip("0")) - int(exp))
    return len(text.partition(".")[2].rstrip("0"))


def _read_key_values(lines: list[str], path: Path) -> tuple[Series, str, str, list[str]]:
    """Lines of `key value` pairs, each with the indented `name=value` lines under it (OLMo-core:
    `[step=100/2000,epoch=0]` then `    train/CE loss=6.23`; Composer: `[epoch=1][batch=5/5]:` then
    `\t Train time/batch: 4`), as records; those with a known step key (`step`, `iter`,
    `num_updates`, `time/batch`, ...) and something else are kept. Fields are then chosen as for
    JSONL."""
    records: list[dict[str, float]] = []
    current: dict[str, float] | None = None
    for line in lines:
        line = ANSI.sub("", line)
        if current is not None and (m := INDENTED.match(line)):
            current.setdefault(m.group(1), float(m.group(2)))
            continue
        pairs = KEY_VALUE.findall(line)
        current = {}
        for first, second, value in pairs:
            current.setdefault(f"{first} {second}" if second else first, float(value))
        records.append(current)  # its indented lines may still bring the step
    records = [r for r in records if len(r) > 1 and any(k in r for k in STEP_KEYS)]
    if not records:
        raise InputError(f"{path}: no training-step lines recognised (llm.c, nanoGPT, build-nanogpt, "
                         "Megatron, torchtitan, OLMo-core, Hugging Face Trainer, or 'step N ... loss X' "
                         "pairs); give --pattern with named groups step, loss and lr")
    series, step_name = columns_to_series(records_to_columns(records), str(path))
    return series, step_name, "key-value pairs", []
