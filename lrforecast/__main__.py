"""`python -m lrforecast` and the `lrforecast` command. Ctrl-C while numpy, scipy and pyarrow
load (about half a second) ends the program quietly, as it does once the CLI runs."""

import sys


def run() -> None:
    try:
        from .cli import run_main
    except KeyboardInterrupt:
        sys.exit(130)
    run_main()


if __name__ == "__main__":
    run()
