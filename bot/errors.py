"""The project's exceptions, in one place.

BotError
├── ConfigError     bad or missing configuration (message is shown to the operator as is)
├── DataDirLocked   another bot or console is running on the same data directory
└── IndexDamaged    a stored index file is missing, truncated or fails its checksum
"""

from __future__ import annotations

from pathlib import Path


class BotError(Exception):
    """Base of the project's own errors."""


class ConfigError(BotError):
    """Configuration is missing or invalid; the message says which variable and why."""


class DataDirLocked(BotError):
    """The data directory is locked by another running bot or console (``bot.store.lock``)."""

    def __init__(self, data_dir: Path, pid: int | None = None) -> None:
        holder = f"process {pid}" if pid else "another process"
        super().__init__(
            f"the data directory {data_dir} is in use by {holder}: only one bot or console "
            "may run on it (stop the other one, or set BOT_DATA_DIR to another directory)"
        )
        self.data_dir = data_dir
        self.pid = pid


class IndexDamaged(BotError):
    """A stored index is unusable as it is (a file missing, truncated, or failing its checksum):
    it is reported and rebuilt from the corpus, never read further."""
