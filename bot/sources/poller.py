"""Polling the followed feeds: one round polls every feed that is due, concurrently (at most
``per_host`` requests at once per server, ``max_connections`` in all), and writes what is new
or changed into the corpus; the caller then reloads once.

Per feed:

1. a conditional GET (the stored ETag and Last-Modified). A 304, or a body identical to the
   last one parsed (servers without validators), costs nothing more: no parse, no write;
2. the document is parsed (a page, for a feed just added, is searched for its feed); each
   item gets its dedupe key (``entries.assign_keys``); items archived before and unchanged
   are skipped; new and changed ones get their full text (``entries.compose``) and are
   written as Markdown files (``files.write_article``);
3. the entries and the feed's state commit together after the files are written. The first
   successful poll of a feed "primes" it: its articles are marked seen in the alert ledger
   *before* their files exist, so what the feed held when it was added is archived and
   never announced, even after a crash in between.

The next poll is ``interval`` seconds later, raised by the feed's own hints (RSS ``ttl``,
Cache-Control ``max-age``) up to ``max_hint``; a failure waits ``interval`` doubled per
failure in a row (up to ``max_backoff``), or the server's Retry-After if longer; after
``failing_after`` failures in a row the feed is reported failing, once until it recovers.
A permanent redirect (301, 308) moves the feed to its new URL. One feed's failure,
whatever it is, never stops the others.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.articles.model import article_id
from bot.errors import FetchFailed, NotASource, SourceError
from bot.store import AlertOutbox, Feed, FeedEntry, FeedStore, PollSuccess

from .entries import KeyedItem, assign_keys, canonical_link, compose, entry_path, needs_page
from .feeds import ParsedFeed, discover_feeds, looks_like_html, parse_feed
from .fetch import Fetcher, Kind, Response, Session
from .files import ArticleDraft, write_article
from .pages import Page, decode_html, extract_page

if TYPE_CHECKING:
    from bot.services import ReloadOutcome

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PollingRules:
    interval: float = 300.0  # BOT_FEED_INTERVAL
    max_hint: float = 3600.0  # a feed's ttl or max-age slows its polling down to this at most
    max_backoff: float = 6 * 3600.0
    max_retry_after: float = 24 * 3600.0
    failing_after: int = 5  # failures in a row before admins are told
    max_items: int = 200  # of one document (a feed of 10,000 items is read 200 at a time)


class PollStatus(enum.Enum):
    CHANGED = "changed"  # a new body, parsed (it may still hold nothing new)
    UNCHANGED = "unchanged"  # the same body as last time: not parsed
    NOT_MODIFIED = "not modified"  # 304
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FeedPoll:
    """What polling one feed did."""

    feed_id: int
    url: str
    title: str
    status: PollStatus
    added: int = 0  # entries archived for the first time
    updated: int = 0  # archived entries rewritten (edited in the feed)
    primed: bool = False  # the first fetch: archived without alerts
    error: str = ""
    failures: int = 0  # in a row, this one included
    now_failing: bool = False  # just reached failing_after: tell the admins

    @property
    def written(self) -> int:
        return self.added + self.updated


@dataclass(slots=True)
class RoundReport:
    """One polling round: each feed's poll and what the round cost."""

    polls: list[FeedPoll] = field(default_factory=list)
    seconds: float = 0.0
    requests: int = 0
    bytes_received: int = 0
    parsed: int = 0  # documents parsed (a 304 or an unchanged body is not)
    reload: ReloadOutcome | None = None  # of what the round wrote (by Sources.poll_due)

    @property
    def written(self) -> int:
        return sum(p.written for p in self.polls)

    @property
    def now_failing(self) -> list[FeedPoll]:
        return [p for p in self.polls if p.now_failing]


@dataclass(frozen=True, slots=True)
class _Write:
    keyed: KeyedItem
    path: str
    draft: ArticleDraft


class FeedPoller:
    def __init__(
        self,
        corpus_dir: Path,
        feeds: FeedStore,
        outbox: AlertOutbox,
        fetcher: Fetcher,
        rules: PollingRules = PollingRules(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.corpus_dir = corpus_dir
        self.feeds = feeds
        self.outbox = outbox
        self.fetcher = fetcher
        self.rules = rules
        self.clock = clock
        self._round = asyncio.Lock()

    @property
    def polling(self) -> bool:
        return self._round.locked()

    async def poll_due(self, *, everything: bool = False) -> RoundReport:
        """Poll the feeds that are due (``everything``: all of them); one round at a time."""
        async with self._round:
            feeds = await asyncio.to_thread(self.feeds.due, self.clock(), everything=everything)
            return await self._poll_all(feeds)

    async def poll_one(self, feed_id: int) -> FeedPoll:
        """Poll one feed now (a feed just added), in turn with the rounds."""
        async with self._round:
            feed = await asyncio.to_thread(self.feeds.get, feed_id)
            if feed is None:
                raise LookupError(f"no feed {feed_id}")
            return (await self._poll_all([feed])).polls[0]

    async def _poll_all(self, feeds: list[Feed]) -> RoundReport:
        started = time.perf_counter()
        report = RoundReport()
        if feeds:
            async with self.fetcher.session() as session:
                polls = await asyncio.gather(
                    *(self._poll_safely(session, f, report) for f in feeds)
                )
            report.polls = list(polls)
            report.requests = session.traffic.requests
            report.bytes_received = session.traffic.bytes_received
        report.seconds = time.perf_counter() - started
        return report

    async def _poll_safely(self, session: Session, feed: Feed, report: RoundReport) -> FeedPoll:
        try:
            return await self._poll(session, feed, report)
        except SourceError as error:
            return await self._failed(feed, error)
        except Exception as error:  # a bug or a parser crash: this feed only
            log.exception("polling feed %s failed", feed.url)
            return await self._failed(feed, error)

    async def _failed(self, feed: Feed, error: Exception) -> FeedPoll:
        rules = self.rules
        now = self.clock()
        wait = min(rules.interval * 2**feed.failures, rules.max_backoff)
        retry_after = getattr(error, "retry_after", None)
        if retry_after:
            wait = max(wait, min(retry_after, rules.max_retry_after))
        message = (
            str(error) if isinstance(error, SourceError) else f"{type(error).__name__}: {error}"
        )
        failures, now_failing = await asyncio.to_thread(
            self.feeds.record_failure,
            feed.id,
            message,
            now + wait,
            failing_after=rules.failing_after,
            now=now,
        )
        log.info("feed %s failed (%d in a row): %s", feed.url, failures, message)
        return FeedPoll(
            feed.id,
            feed.url,
            feed.title,
            PollStatus.FAILED,
            error=message,
            failures=failures,
            now_failing=now_failing,
        )

    def _next_poll(self, now: float, *hints: float | None) -> float:
        hint = max((h for h in hints if h), default=0.0)
        return now + max(self.rules.interval, min(hint, self.rules.max_hint))

    async def _poll(self, session: Session, feed: Feed, report: RoundReport) -> FeedPoll:
        response = await session.get(
            feed.url, Kind.FEED, etag=feed.etag, last_modified=feed.last_modified
        )
        now = self.clock()
        moved = await asyncio.to_thread(self._moved_to, feed, response)
        if response.not_modified or _digest(response.body) == feed.body_digest:
            success = PollSuccess(
                self._next_poll(now, response.max_age),
                url=moved,
                etag=response.etag,
                last_modified=response.last_modified,
            )
            await asyncio.to_thread(self.feeds.record_success, feed.id, success, (), now)
            status = PollStatus.NOT_MODIFIED if response.not_modified else PollStatus.UNCHANGED
            return FeedPoll(feed.id, moved or feed.url, feed.title, status)
        report.parsed += 1
        try:
            parsed = await asyncio.to_thread(
                parse_feed, response.body, response.url, response.content_type
            )
        except NotASource:
            if feed.primed or not looks_like_html(response.body, response.content_type):
                raise
            response, parsed = await self._discover(session, feed, response)
            moved = response.url
            report.parsed += 1
        stored = await asyncio.to_thread(self.feeds.entries, feed.id)
        writes = await self._compose_all(session, feed, parsed, stored)
        success = PollSuccess(
            self._next_poll(now, parsed.ttl, response.max_age),
            url=moved,
            title=parsed.title or None,
            etag=response.etag,
            last_modified=response.last_modified,
            body_digest=_digest(response.body),
        )
        priming = not feed.primed
        await asyncio.to_thread(self._archive, feed, writes, success, priming, now)
        added = sum(w.keyed.stored is None for w in writes)
        if parsed.warning:
            log.info("feed %s: %s", feed.url, parsed.warning)
        return FeedPoll(
            feed.id,
            moved or feed.url,
            parsed.title or feed.title,
            PollStatus.CHANGED,
            added=added,
            updated=len(writes) - added,
            primed=priming,
        )

    def _moved_to(self, feed: Feed, response: Response) -> str | None:
        """The permanent redirect's target, unless another feed is polled from there."""
        target = response.permanent_url
        if not target or target == feed.url or self.feeds.url_taken(target, feed.id):
            return None
        return target

    async def _discover(
        self, session: Session, feed: Feed, page: Response
    ) -> tuple[Response, ParsedFeed]:
        """A page given for a feed just added: the first feed it announces."""
        html = decode_html(page.body, page.content_type)
        candidates = await asyncio.to_thread(discover_feeds, html, page.url)
        if not candidates:
            raise NotASource("this page is not a feed and announces none")
        url = candidates[0]
        if await asyncio.to_thread(self.feeds.url_taken, url, feed.id):
            raise NotASource(f"this page's feed ({url}) is followed already")
        response = await session.get(url, Kind.FEED)
        if response.not_modified:
            raise FetchFailed("the feed answered 304 to a request without validators")
        parsed = await asyncio.to_thread(
            parse_feed, response.body, response.url, response.content_type
        )
        return response, parsed

    async def _compose_all(
        self, session: Session, feed: Feed, parsed: ParsedFeed, stored: list[FeedEntry]
    ) -> list[_Write]:
        keyed = assign_keys(parsed.items[: self.rules.max_items], stored)
        changed = [k for k in keyed if k.stored is None or k.stored.digest != k.item.digest]
        title = parsed.title or feed.title
        drafts = await asyncio.gather(
            *(self._compose(session, k, title, parsed.language, feed.url) for k in changed)
        )
        return [
            _Write(k, k.stored.path if k.stored else entry_path(feed.folder, k.item, k.key), d)
            for k, d in zip(changed, drafts, strict=True)
            if d is not None
        ]

    async def _compose(
        self, session: Session, keyed: KeyedItem, feed_title: str, language: str, feed_url: str
    ) -> ArticleDraft | None:
        item = keyed.item
        page = await self.fetch_page(session, item.link) if needs_page(item) else None
        origin = {"feed": feed_url}
        if item.guid:
            origin["guid"] = item.guid
        return compose(item, page, feed_title=feed_title, language=language, origin=origin)

    async def fetch_page(self, session: Session, url: str) -> Page | None:
        """The article page at ``url``, or None if it cannot be had (logged: the entry falls
        back to the feed's text, marked partial)."""
        try:
            response = await session.get(url, Kind.PAGE)
            return await asyncio.to_thread(
                extract_page, response.body, response.url, response.content_type
            )
        except SourceError as error:
            log.info("page %s not used: %s", url, error)
        except Exception:
            log.exception("reading page %s failed", url)
        return None

    def _archive(
        self, feed: Feed, writes: list[_Write], success: PollSuccess, priming: bool, now: float
    ) -> None:
        """Files first, then the entries and the feed's state in one transaction; when
        priming, the alert ledger before the files (see the module doc)."""
        if priming and writes:
            self.outbox.record_new_articles(
                [(article_id(w.path), w.draft.title) for w in writes], now
            )
        for write in writes:
            write_article(self.corpus_dir, write.path, write.draft)
        entries = [
            FeedEntry(
                w.keyed.key,
                w.keyed.item.guid,
                w.keyed.item.link and canonical_link(w.keyed.item.link),
                w.path,
                w.keyed.item.digest,
                w.draft.partial,
            )
            for w in writes
        ]
        self.feeds.record_success(feed.id, success, entries, now)


def _digest(body: bytes) -> str:
    return hashlib.sha1(body).hexdigest()
