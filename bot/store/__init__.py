"""The bot's own state in SQLite: subscriptions, the alert outbox, stored questions, counts.

Core code: imports nothing from ``telegram``. Open one connection with :func:`open_database`
(it applies migrations), hand it to the store classes, and close it on shutdown.
"""

from .activity import ActivityLog, StoredQueries, StoredQuery
from .alerts import AlertOutbox, OutboxRow, QueueResult
from .db import StoreConnection, migrate, open_database, transaction
from .errors import StoreError, TooManyTopics, TopicTooLong
from .subscriptions import SubscriptionStore, normalise_topic

__all__ = [
    "ActivityLog",
    "AlertOutbox",
    "OutboxRow",
    "QueueResult",
    "StoreConnection",
    "StoreError",
    "StoredQueries",
    "StoredQuery",
    "SubscriptionStore",
    "TooManyTopics",
    "TopicTooLong",
    "migrate",
    "normalise_topic",
    "open_database",
    "transaction",
]
