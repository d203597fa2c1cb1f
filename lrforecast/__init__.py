"""lrforecast: forecast a language model's loss curve under any learning-rate schedule.

    from lrforecast import read_run, parse_schedule, fit, compare
    law = fit([read_run("trainer_state.json")], [parse_schedule("log")])
    print(compare(law, ["cosine", "wsd"]).best.name)

The names below are the public API; each is imported from its module on first use, so that
`import lrforecast` (and `lrforecast --version`) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_API = {
    # source -> Run
    "read_run": "readers", "read_runs": "readers", "read_source": "readers", "Run": "run",
    # schedules
    "parse_schedule": "schedules", "Schedule": "schedules",
    # fitting -> Law
    "fit": "selection", "fit_law": "fitting", "Law": "law", "LAWS": "laws",
    "default_law": "reference",
    # Law -> forecasts
    "predict": "forecast", "compare": "forecast", "law_defaults": "forecast", "Prediction": "forecast",
    "Comparison": "forecast", "plan": "planning", "Reach": "planning", "evaluate": "backtest",
    # errors
    "LRForecastError": "errors", "InputError": "errors", "FitError": "errors",
}
__all__ = [  # the keys of _API (a test checks they agree), spelled out for tools that read __all__
    "__version__", "read_run", "read_runs", "read_source", "Run", "parse_schedule", "Schedule", "fit",
    "fit_law", "Law", "LAWS", "default_law", "predict", "compare", "law_defaults", "Prediction",
    "Comparison", "plan", "Reach", "evaluate", "LRForecastError", "InputError", "FitError",
]


def __getattr__(name: str):
    if name in _API:
        value = getattr(importlib.import_module(f".{_API[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lrforecast' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # for type checkers and editors; at run time the names load on first use
    from .backtest import evaluate
    from .errors import FitError, InputError, LRForecastError
    from .fitting import fit_law
    from .forecast import Comparison, Prediction, compare, law_defaults, predict
    from .law import Law
    from .laws import LAWS
    from .planning import Reach, plan
    from .readers import read_run, read_runs, read_source
    from .reference import default_law
    from .run import Run
    from .schedules import Schedule, parse_schedule
    from .selection import fit
