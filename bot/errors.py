"""The project's exceptions, in one place (as httpx's ``_exceptions.py`` keeps its own).

BotError
├── ConfigError        bad or missing configuration (message shown to the operator as is)
├── DataDirLocked      another bot or console is running on the same data directory
├── IndexDamaged       a stored index file is missing, truncated or fails its checksum
├── ArticleError       a corpus file (or record) cannot become an article: the reason,
│                      reported as a skipped file, never raised past the corpus scan
├── StoreError         a request the store refuses (message safe to show the user)
│   ├── TopicTooLong   a subscription topic longer than the per-topic limit
│   └── TooManyTopics  a chat that already has as many topics as it may
└── SourceError        a source could not be fetched or read (message safe for admins)
    ├── UnsafeURL      not http(s), or its host resolves to an address the bot may not reach
    ├── FetchFailed    the request failed: HTTP status, timeout, too large, wrong type
    └── NotASource     not what was asked for (no feed in it, no article text)

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


class SourceError(BotError):
    """A source could not be fetched or read; ``str(error)`` says why, for admins."""


class UnsafeURL(SourceError):
    """Refused before any request, or at connection: scheme, host or address."""


class FetchFailed(SourceError):
    """The server did not give a usable answer. ``status`` is the HTTP status (None for
    network errors, timeouts and refused bodies); ``retry_after`` the server's own wait,
    in seconds, when it named one."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class NotASource(SourceError):
    """The document holds no feed (for /feed add, polls) or no article text (pages)."""
