"""The project's exceptions, in one place (as httpx's ``_exceptions.py`` keeps its own).

BotError
├── ConfigError        bad or missing configuration (message shown to the operator as is)
├── DataDirLocked      another bot or console is running on the same data directory
├── IndexDamaged       a stored index file is missing, truncated or fails its checksum
├── ArticleError       a corpus file (or record) cannot become an article: the reason,
│                      reported as a skipped file, never raised past the corpus scan
└── StoreError         a request the store refuses (message safe to show the user)
    ├── TopicTooLong   a subscription topic longer than the per-topic limit
    └── TooManyTopics  a chat that already has as many topics as it may

Everything else that escapes is a bug or the environment (OSError, sqlite3.Error, httpx's and
python-telegram-bot's own errors), handled where it can happen.
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


class ArticleError(BotError, ValueError):
    """Raised by a format reader when a file cannot become an article; the message is
    the human-readable reason that ends up in a ``SkippedFile``."""


class StoreError(BotError):
    """A request the store refuses; ``str(error)`` is a user-presentable explanation."""


class TopicTooLong(StoreError):
    """A subscription topic longer than the per-topic limit."""


class TooManyTopics(StoreError):
    """A chat that already has as many topics as it may."""
