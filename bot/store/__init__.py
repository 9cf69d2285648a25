"""The bot's own state in SQLite: subscriptions, the alert outbox, stored questions, counts,
article keys, the live sources' state (feeds, their entries, channels), and the data
directory's lock.

Core code: imports nothing from ``telegram``. Open one connection with :func:`open_database`
(it applies migrations), hand it to the store classes, and close it on shutdown.
"""

from .activity import (
    ActivityLog,
    ArticleKeys,
    QuestionCounts,
    StoredQueries,
    StoredQuery,
    article_key,
    new_token,
)
from .alerts import AlertCounts, AlertOutbox, OutboxRow, QueueResult
from .channels import Channel, ChannelListing, ChannelPost, ChannelStore
from .db import StoreConnection, migrate, open_database, transaction
from .feeds import Feed, FeedEntry, FeedListing, FeedStore, PollSuccess
from .lock import DataDirLock
from .subscriptions import SubscriptionStore, normalise_topic

__all__ = [
    "ActivityLog",
    "AlertCounts",
    "AlertOutbox",
    "ArticleKeys",
    "Channel",
    "ChannelListing",
    "ChannelPost",
    "ChannelStore",
    "DataDirLock",
    "Feed",
    "FeedEntry",
    "FeedListing",
    "FeedStore",
    "OutboxRow",
    "PollSuccess",
    "QuestionCounts",
    "QueueResult",
    "StoreConnection",
    "StoredQueries",
    "StoredQuery",
    "SubscriptionStore",
    "article_key",
    "migrate",
    "new_token",
    "normalise_topic",
    "open_database",
    "transaction",
]
