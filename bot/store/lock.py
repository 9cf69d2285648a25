"""One process per data directory: an exclusive lock held while a bot or console runs.

A second bot on the same data directory would answer the same updates (409 conflicts) and,
worse, take the first one's alert leases for dead ones and send duplicates. The lock is an
``flock`` on ``<data_dir>/bot.lock``: the kernel drops it when its process ends, ``kill -9``
included, so a stale file never blocks a restart. Readers (``bot.py ask``, ``bot.py index``)
do not take it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from bot.errors import DataDirLocked

LOCK_FILE = "bot.lock"


class DataDirLock:
    """Held from :meth:`acquire` until :meth:`release` (or the process's end)."""

    def __init__(self, data_dir: Path, fd: int) -> None:
        self.data_dir = data_dir
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, data_dir: Path) -> DataDirLock:
        """Lock ``data_dir`` (created if missing), or raise :class:`DataDirLocked` naming it
        and, when known, the process holding it."""
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            raise DataDirLocked(data_dir, int(holder) if holder.isdigit() else None) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)  # for the second instance's message
        return cls(data_dir, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Give the directory up (closing the file drops the lock); idempotent."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
