"""Progress callbacks: long work reports (done, total) to a callable the caller gives (a bar)."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]


class Counter:
    """A callback that reports one more of `total` steps done to `progress`; `total` may grow as
    more work is found."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)


def counter(progress: Progress | None, total: int) -> Counter:
    """A Counter of `total` steps reporting to `progress`."""
    return Counter(progress, total)
