"""Wiring of the core services, shared by the command line, the console and Telegram.

What the services hand a front end are dataclasses: :class:`Stats` for ``/stats``,
:class:`ReloadOutcome` for ``/reload`` and the periodic scan, :class:`PruneReport` for the
daily retention job.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.alerts.queue import queue_alerts
from bot.answers.engine import AnswerEngine
from bot.archive import Archive
from bot.config import Config
from bot.search import bm25
from bot.search.index import SearchIndex
from bot.search.lifecycle import Progress, ReloadReport
from bot.sources import Sources
from bot.store import (
    ActivityLog,
    AlertCounts,
    AlertOutbox,
    ArticleKeys,
    DataDirLock,
    QuestionCounts,
    QueueResult,
    StoreConnection,
    StoredQueries,
    SubscriptionStore,
    open_database,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Stats:
    """Usage and index figures for ``/stats``."""

    articles: int
    passages: int
    questions: QuestionCounts
    index_age_s: float
    uptime_s: float
    subscribers: int
    topics: int
    alerts: AlertCounts


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """What a reload did: the new index is live (``report``); its alerts were queued
    (``alerts``), or queueing failed (``alert_error``, the alerts come with the next reload
    or start, since newness is read from the outbox's ledger)."""

    report: ReloadReport
    alerts: QueueResult | None = None
    alert_error: Exception | None = None

    @property
    def queued(self) -> int:
        return self.alerts.queued if self.alerts else 0


@dataclass(frozen=True, slots=True)
class Retention:
    """How long the bot keeps what it records (README, "Retention and privacy")."""

    stored_query_days: float = 7  # questions of answers, for "More" and follow-ups (the text)
    question_log_days: float = 30  # one row per question: chat id, time, answered or not
    finished_alert_days: float = 90  # sent, failed and skipped rows of the alert outbox


@dataclass(frozen=True, slots=True)
class PruneReport:
    stored_queries: int
    question_log: int
    finished_alerts: int


def _warm_up(archive: Archive) -> None:
    archive.manager.preload()  # first: a few hundredths of a second
    bm25.warm_up()


@dataclass(slots=True)
class Services:
    """Everything a chat front end needs: the archive and the bot's database.

    Opening takes the data directory's lock: one bot or console per data directory, so the
    alert leases recovered at start belong to no live process.
    """

    config: Config
    archive: Archive
    db: StoreConnection
    subscriptions: SubscriptionStore
    outbox: AlertOutbox
    activity: ActivityLog
    queries: StoredQueries
    article_keys: ArticleKeys
    dir_lock: DataDirLock
    sources: Sources
    retention: Retention = Retention()
    started_at: float = field(default_factory=time.time)
    _reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _next_reload: asyncio.Future | None = None  # a refresh waiting to start, which others join

    def __post_init__(self) -> None:
        self.sources.take_in = self.refresh

    @classmethod
    def open(cls, config: Config) -> Services:
        """Lock the data directory, open the index (building it if needed) and the database;
        blocking. Raises :class:`~bot.errors.DataDirLocked` if another process has it.

        Alerts for articles added while the bot was down are a separate step:
        :meth:`catch_up_alerts`.
        """
        dir_lock = DataDirLock.acquire(config.data_dir)
        try:
            archive, _ = Archive.open(config)
            db = open_database(config.database_path)
        except BaseException:
            dir_lock.release()
            raise
        outbox = AlertOutbox(db)
        services = cls(
            config,
            archive,
            db,
            SubscriptionStore(db),
            outbox,
            ActivityLog(db),
            StoredQueries(db),
            ArticleKeys(db),
            dir_lock,
            Sources.open(config, db, outbox),  # follows BOT_FEEDS; polled by the front end
        )
        # Rows a killed process left mid-send are due again; safe, as the lock says no other
        # live process can hold their leases.
        services.outbox.recover()
        # Long-running: compile the fast query kernel, map in the postings and merge small
        # segments, all in the background (questions are answered meanwhile, by the numpy
        # kernel at first).
        threading.Thread(target=_warm_up, args=(archive,), name="warm-up", daemon=True).start()
        archive.manager.merge_in_background()
        return services

    def close(self) -> None:
        """Close the database once no worker thread is inside a store call (a cancelled
        task's thread finishes its transaction first), then give up the data directory."""
        with self.db.lock:
            self.db.close()
        self.dir_lock.release()

    @property
    def engine(self) -> AnswerEngine:
        return self.archive.engine

    @property
    def current_index(self) -> Callable[[], SearchIndex]:
        """The archive's ``current_index`` callable (pass it on, call it to read)."""
        return self.archive.current_index

    @property
    def reloading(self) -> bool:
        """A reload (or the start-up catch-up) is running; another one would wait for it."""
        return self._reload_lock.locked()

    def _queue_alerts(self) -> QueueResult:
        """The one place alerts are queued: the articles committed since alerts were last
        queued (every article after a rebuild; the outbox's ledger then says which are new)
        get their alerts. Blocking: run it in a worker thread."""
        manager = self.archive.manager
        marker = manager.marker()
        new_ids = manager.added_since(self.outbox.alert_marker())
        result = queue_alerts(
            self.current_index(), self.archive.analyzer, self.subscriptions, self.outbox, new_ids
        )
        self.outbox.set_alert_marker(marker)
        return result

    async def catch_up_alerts(self) -> QueueResult:
        """Start-up step: queue alerts for articles added while the bot was down (the very
        first start only records the corpus as seen). Serialised with reloads; the sources
        write nothing before it is done."""
        try:
            async with self._reload_lock:
                return await asyncio.to_thread(self._queue_alerts)
        finally:
            self.sources.ready.set()  # sources may write articles from now on

    async def reload(self, progress: Progress | None = None) -> ReloadOutcome:
        """Rescan and rebuild off the event loop (questions keep being answered), then queue
        alerts. Serialised: a second reload waits for the first and then rescans.

        Raises whatever the rebuild raised (the previous index stays in service); a failure
        to queue alerts once the new index is live is part of the outcome.
        """
        async with self._reload_lock:
            return await self._reload_locked(progress)

    async def _reload_locked(self, progress: Progress | None = None) -> ReloadOutcome:
        report = await asyncio.to_thread(self.archive.manager.reload, progress)
        try:
            alerts = await asyncio.to_thread(self._queue_alerts)
        except Exception as exc:
            log.exception("the index was reloaded, but its alerts could not be queued")
            return ReloadOutcome(report, alert_error=exc)
        return ReloadOutcome(report, alerts)

    async def refresh(self) -> ReloadOutcome:
        """A reload for files just written (a polling round, a channel post, /add): callers
        that come while one waits to start join it, so a burst of writes (an album's posts)
        costs one reload, and every caller's files are in the reload it gets back."""
        if self._next_reload is None:
            self._next_reload = asyncio.ensure_future(self._refresh_once())
        return await asyncio.shield(self._next_reload)

    async def _refresh_once(self) -> ReloadOutcome:
        async with self._reload_lock:
            self._next_reload = None  # what is written from now on needs another reload
            return await self._reload_locked()

    def stats(self, today: dt.date | None = None) -> Stats:
        """Blocking (database reads): async callers run it in a worker thread."""
        index = self.current_index()
        today = today or dt.datetime.now(dt.UTC).date()
        return Stats(
            articles=index.article_count,
            passages=len(index),
            questions=self.activity.question_counts(today),
            index_age_s=time.time() - index.built_at,
            uptime_s=time.time() - self.started_at,
            subscribers=self.subscriptions.count_subscribers(),
            topics=self.subscriptions.count_topics(),
            alerts=self.outbox.counts(),
        )

    def prune(self, now: float | None = None) -> PruneReport:
        """Forget what the retention periods say is no longer needed (blocking)."""
        days = self.retention
        return PruneReport(
            stored_queries=self.queries.purge_older_than(days.stored_query_days, now),
            question_log=self.activity.prune_older_than(days.question_log_days, now),
            finished_alerts=self.outbox.prune_finished_older_than(days.finished_alert_days, now),
        )
