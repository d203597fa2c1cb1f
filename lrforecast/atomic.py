"""Output files are written whole or not at all: a full disk, a killed CI job or an error half-way
leaves the file as it was (or absent), never half a law, curve or chart."""

from __future__ import annotations

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
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)  # as a plain open() would have made it, not mkstemp's 0600
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
