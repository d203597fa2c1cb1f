"""`python -m lrforecast` and the `lrforecast` command. Ctrl-C while numpy, scipy and pyarrow
load (about half a second) ends the program quietly, as it does once the CLI runs."""

import sys


def run() -> None:
    if sys.argv[1:] == ["--version"]:  # without importing the CLI and numpy (a second of start-up)
        from . import __version__

        print(f"lrforecast {__version__}")
        return
    try:
        from .cli import run_main
    except KeyboardInterrupt:
        sys.exit(130)
    run_main()


if __name__ == "__main__":
    run()
