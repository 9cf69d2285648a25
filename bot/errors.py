"""The project's exceptions, in one place.

BotError
├── ConfigError      bad or missing configuration (message is shown to the operator as is)
└── UserError        a reader's or editor's request that cannot be done (message shown to them)
"""


class BotError(Exception):
    """Base of the project's own errors."""


class ConfigError(BotError):
    """Configuration is missing or invalid; the message says which variable and why."""


class UserError(BotError):
    """A request that cannot be carried out; the message is written for the person asking."""
