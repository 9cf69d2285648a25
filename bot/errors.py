"""The project's exceptions, in one place.

BotError
├── ConfigError      bad or missing configuration (message is shown to the operator as is)
├── AlertQueueError  the index was reloaded, but queueing its alerts failed (carries the report)
└── IndexDamaged     a stored index file is missing, truncated or fails its checksum
"""


class BotError(Exception):
    """Base of the project's own errors."""


class ConfigError(BotError):
    """Configuration is missing or invalid; the message says which variable and why."""


class AlertQueueError(BotError):
    """Raised by a reload whose new index is live but whose alerts could not be queued."""

    def __init__(self, report: object, cause: Exception) -> None:
        super().__init__(f"the index was reloaded, but alerts could not be queued: {cause}")
        self.report = report


class IndexDamaged(BotError):
    """A stored index is unusable as it is (a file missing, truncated, or failing its checksum):
    it is reported and rebuilt from the corpus, never read further."""
