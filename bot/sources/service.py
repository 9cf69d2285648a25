"""The live sources as one service for the front ends: following feeds, polling them,
adding an article by link, archiving channel posts, and listing it all.

Whatever writes articles hands them to ``take_in`` (``Services.refresh``: one reload that
later writes join, which queues the alerts) and returns the reload's outcome with its
own result, so a front end can say what happened and start the delivery.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.errors import SourceError
from bot.store import (
    AlertOutbox,
    Channel,
    ChannelListing,
    ChannelPost,
    ChannelStore,
    Feed,
    FeedListing,
    FeedStore,
    StoreConnection,
)

from .channels import ChannelArchive, ChannelRules, PostArchived
from .fetch import Fetcher, FetchPolicy, check_url
from .files import remove_article, slug
from .links import LinkAdded, fetch_link
from .pages import Page
from .poller import FeedPoll, FeedPoller, PollingRules, PollStatus, RoundReport

if TYPE_CHECKING:
    from bot.config import Config
    from bot.services import ReloadOutcome

log = logging.getLogger(__name__)

FEEDS_FOLDER = "feeds"
TakeIn = Callable[[], Awaitable["ReloadOutcome"]]


@dataclass(frozen=True, slots=True)
class FeedAdded:
    """``/feed add``: the feed (None if the URL was refused outright), its first poll, and
    whether it was new; ``error`` when it is not followed."""

    url: str
    feed: Feed | None = None
    poll: FeedPoll | None = None
    created: bool = False
    error: str = ""
    reload: ReloadOutcome | None = None


@dataclass(frozen=True, slots=True)
class FeedRemoved:
    feed: Feed
    purged: int = 0  # article files deleted (``--purge``)
    reload: ReloadOutcome | None = None


@dataclass(frozen=True, slots=True)
class LinkOutcome:
    """``/add <url>``: the article written, or why not."""

    url: str
    added: LinkAdded | None = None
    error: str = ""
    reload: ReloadOutcome | None = None


@dataclass(frozen=True, slots=True)
class SourcesListing:
    feeds: list[FeedListing]
    channels: list[ChannelListing]


def feed_folder(url: str) -> str:
    """``feeds/<host and path>``: where a feed's articles go (unique per feed)."""
    parts = urlsplit(url)
    host = parts.hostname or "feed"
    return f"{FEEDS_FOLDER}/{slug(host + parts.path)}"


class Sources:
    def __init__(
        self,
        corpus_dir: Path,
        feeds: FeedStore,
        channels: ChannelStore,
        outbox: AlertOutbox,
        fetcher: Fetcher,
        rules: PollingRules = PollingRules(),
        channel_rules: ChannelRules = ChannelRules(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.corpus_dir = corpus_dir
        self.feeds = feeds
        self.fetcher = fetcher
        self.poller = FeedPoller(corpus_dir, feeds, outbox, fetcher, rules, clock)
        self.channels = ChannelArchive(corpus_dir, channels, outbox, channel_rules)
        self.take_in: TakeIn | None = None  # set by Services
        # Set once the start-up alert catch-up is done (Services.catch_up_alerts): until
        # then nothing is written, since the first entry in the alert ledger is what makes
        # the catch-up of a new data dir record the corpus instead of announcing it.
        self.ready = asyncio.Event()

    @classmethod
    def open(cls, config: Config, db: StoreConnection, outbox: AlertOutbox) -> Sources:
        policy = FetchPolicy(
            allow_private=config.fetch_allow_private, total_timeout=config.fetch_timeout
        )
        sources = cls(
            config.corpus_dir,
            FeedStore(db),
            ChannelStore(db),
            outbox,
            Fetcher(policy),
            PollingRules(interval=config.feed_interval),
            ChannelRules(config.channels, config.channel_alerts),
        )
        sources.follow(config.feeds, from_config=True)
        return sources

    async def _take_in(self) -> ReloadOutcome | None:
        if self.take_in is None:
            return None
        try:
            return await self.take_in()
        except Exception:  # the files are in the corpus: the next reload takes them in
            log.exception("reloading after new source articles failed")
            return None

    # -- feeds ------------------------------------------------------------------------------

    def follow(self, urls: Iterable[str], *, from_config: bool = False) -> list[Feed]:
        """Follow feeds without polling them (``BOT_FEEDS`` at start-up): idempotent, and
        each is polled, and primed, by the next round (blocking)."""
        return [self.feeds.add(url, feed_folder(url), from_config=from_config)[0] for url in urls]

    async def add_feed(self, url: str, added_by: int | None = None) -> FeedAdded:
        """Follow ``url`` (a feed, or a page announcing one) and poll it at once: what it
        holds now is archived, not announced. A URL that gives no feed is not followed."""
        url = url.strip()
        try:
            check_url(url)
        except Exception as error:
            return FeedAdded(url, error=str(error))
        await self.ready.wait()
        feed, created = await asyncio.to_thread(
            self.feeds.add, url, feed_folder(url), added_by=added_by
        )
        if not created:
            return FeedAdded(url, feed, created=False)
        poll = await self.poller.poll_one(feed.id)
        if poll.status is PollStatus.FAILED:
            await asyncio.to_thread(self.feeds.delete, feed.id)
            return FeedAdded(url, feed, poll, created=True, error=poll.error)
        reload = await self._take_in() if poll.written else None
        feed = await asyncio.to_thread(self.feeds.get, feed.id) or feed
        return FeedAdded(url, feed, poll, created=True, reload=reload)

    async def remove_feed(self, ref: str, *, purge: bool = False) -> FeedRemoved | None:
        """Stop following a feed (by number, URL or the URL it was added by); its articles
        stay unless ``purge``. None if no feed matches."""
        feed = await asyncio.to_thread(self.feeds.find, ref)
        if feed is None:
            return None
        paths = await asyncio.to_thread(self.feeds.remove, feed.id, purge=purge)
        purged = sum(
            await asyncio.to_thread(lambda: [remove_article(self.corpus_dir, p) for p in paths])
        )
        reload = await self._take_in() if purged else None
        return FeedRemoved(feed, purged, reload)

    async def poll_due(self, *, everything: bool = False) -> RoundReport:
        """A polling round, and one reload if it wrote anything."""
        await self.ready.wait()
        report = await self.poller.poll_due(everything=everything)
        if report.written:
            report.reload = await self._take_in()
        return report

    # -- links and channels -----------------------------------------------------------------

    async def add_link(self, url: str) -> LinkOutcome:
        """Fetch the article at ``url`` into the corpus and take it in (it is announced)."""
        await self.ready.wait()
        try:
            added = await fetch_link(self.fetcher, self.corpus_dir, url.strip())
        except SourceError as error:
            return LinkOutcome(url, error=str(error))
        except Exception as error:  # a bug or a full disk: said, and logged
            log.exception("adding %s failed", url)
            return LinkOutcome(url, error=f"{type(error).__name__}: {error}")
        return LinkOutcome(url, added, reload=await self._take_in())

    async def archive_post(
        self, channel: Channel, post: ChannelPost
    ) -> tuple[PostArchived | None, ReloadOutcome | None]:
        """A new or edited channel post into the corpus, then taken in."""
        await self.ready.wait()
        archived = await self.channels.archive(channel, post, self._fetch_page)
        return archived, (await self._take_in() if archived else None)

    async def _fetch_page(self, url: str) -> Page | None:
        async with self.fetcher.session() as session:
            return await self.poller.fetch_page(session, url)

    def listing(self) -> SourcesListing:
        """Blocking (database reads)."""
        return SourcesListing(self.feeds.listing(), self.channels.store.listing())
