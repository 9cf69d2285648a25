"""What can go wrong with a source; every message is safe to show an admin as is.

SourceError (a BotError)
├── UnsafeURL     not http(s), or its host resolves to an address the bot may not reach
├── FetchFailed   the request failed: HTTP status, timeout, too large, wrong content type
└── NotASource    the document is not what was asked for (no feed in it, no article text)
"""

from __future__ import annotations

from bot.errors import BotError


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
