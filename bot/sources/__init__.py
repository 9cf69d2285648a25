"""Live sources: the newsroom's feeds, single articles by link, and its Telegram channel,
written into the corpus as Markdown files (``feeds/``, ``links/``, ``channels/``) that the
corpus readers and reloads take in like any other file.

Modules: ``fetch`` (safe, polite HTTP), ``feeds`` (feed documents to plain data, feed
discovery), ``pages`` (article pages, paywall teasers), ``entries`` (dedupe keys, full
text), ``files`` (Markdown files, written atomically), ``poller`` (polling rounds),
``links`` (/add), ``channels`` (channel posts), ``service`` (all of it for the front
ends), ``texts`` (what admins are told). Imports nothing from Telegram.
"""

from bot.errors import FetchFailed, NotASource, SourceError, UnsafeURL

from .channels import ChannelRules, PostArchived
from .fetch import Fetcher, FetchPolicy
from .poller import FeedPoll, PollingRules, PollStatus, RoundReport
from .service import FeedAdded, FeedRemoved, LinkOutcome, Sources, SourcesListing

__all__ = [
    "ChannelRules",
    "FeedAdded",
    "FeedPoll",
    "FeedRemoved",
    "FetchFailed",
    "FetchPolicy",
    "Fetcher",
    "LinkOutcome",
    "NotASource",
    "PollStatus",
    "PollingRules",
    "PostArchived",
    "RoundReport",
    "SourceError",
    "Sources",
    "SourcesListing",
    "UnsafeURL",
]
