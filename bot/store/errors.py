"""Errors the store raises on purpose; their message is safe to show to the user as is."""


class StoreError(Exception):
    """A request the store refuses; ``str(error)`` is a user-presentable explanation."""


class TopicTooLong(StoreError):
    """A subscription topic longer than the per-topic limit."""


class TooManyTopics(StoreError):
    """A chat that already has as many topics as it may."""
