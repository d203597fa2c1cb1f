"""One error type for all a user can get wrong: a message saying how to mend it, and an exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_EXPECTATION = 1  # a CI expectation (--expect-best, --max-gap) failed
EXIT_INPUT = 2  # bad usage or bad input
EXIT_FIT = 3  # the fit failed (non-finite or degenerate parameters)


class LRForecastError(Exception):
    """A problem the user can mend; `str(err)` is the one line printed to stderr."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str, *, exit_code: int | None = None, param: str | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
        self.param = param  # the Python parameter at fault, which the CLI names by its flag


class InputError(LRForecastError):
    """Bad input: a file, a spec, an option value."""

    exit_code = EXIT_INPUT


class FitError(LRForecastError):
    """The fit did not produce finite, non-degenerate parameters."""

    exit_code = EXIT_FIT


class ForecastError(LRForecastError):
    """A forecast no loss can have (non-finite, at or below zero, below the law's floor): the law is
    used where it says nothing, and the forecast is refused rather than printed."""

    exit_code = EXIT_FIT
