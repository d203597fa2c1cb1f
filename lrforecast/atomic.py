"""Output files are written whole or not at all: a full disk, a killed CI job or an error half-way
leaves the file as it was (or absent), never half a law, curve or chart; the temporary file a
killed writer leaves is removed at the next write to the same file."""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path` (same suffix, so writers that go by it still do) to write;
    it replaces `path` when the block ends without an error and is removed when it does not.
    A symbolic link is followed; a path that is not a regular file (a FIFO) or lies in /dev or
    /proc (/dev/stdout, even when it is redirected to a file) is written directly, never replaced."""
    path = Path(path)
    special = ("/dev/", "/proc/")
    if (path.exists() and not path.is_file()) or str(path.absolute()).startswith(special) \
            or str(path.resolve()).startswith(special):
        yield path
        return
    path = path.resolve()
    _remove_stale(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)  # as a plain open() would have made it, not mkstemp's 0600
        with tmp.open("rb") as f:  # on disk before it takes the name: a crash leaves old or new
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _remove_stale(path: Path) -> None:
    """Temporary files that a killed writer (kill -9) left beside `path`: named for the process
    that made them, removed once that process is gone."""
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.*{glob.escape(path.suffix)}"):
        pid = stale.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
