"""Hugging Face `trainer_state.json`: the `log_history` list (eval and summary entries carry no loss)."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from .records import Series, columns_to_series, records_to_columns


def looks_like_trainer_state(head: bytes) -> bool:
    return head.lstrip().startswith(b"{") and b'"log_history"' in head


def read_trainer_state(path: Path, step_key: str | None = None) -> tuple[Series, str]:
    try:
        state = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise InputError(f"{path}: not valid JSON ({str(e)[:120]}); if it was copied while the trainer "
                         "wrote it, copy it again, or use the trainer_state.json of a finished "
                         "checkpoint") from None
    history = state.get("log_history") if isinstance(state, dict) else None
    if not isinstance(history, list):
        raise InputError(f"{path}: no 'log_history' list; is this a trainer_state.json?")
    records = [r for r in history if isinstance(r, dict)]
    if not records:
        raise InputError(f"{path}: its log_history is empty (saved before the first logging step?); "
                         "use a later checkpoint's trainer_state.json")
    return columns_to_series(records_to_columns(records), str(path), step_key)
