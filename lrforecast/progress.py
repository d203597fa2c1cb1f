"""Progress callbacks: long work reports (done, total) to a callable the caller gives (a bar)."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]


def counter(progress: Progress | None, total: int) -> Callable[[], None]:
    """A callback that reports one more of `total` steps done to `progress`."""
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    return tick
