"""Wiring of the core services, shared by the command line, the console and Telegram."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from dataclasses import dataclass, field

from bot.alerts.queue import queue_alerts
from bot.answers.engine import AnswerEngine
from bot.config import Config
from bot.errors import AlertQueueError
from bot.search import bm25
from bot.search.index import SearchIndex
from bot.search.lifecycle import IndexManager, Progress, ReloadReport
from bot.store import (
    ActivityLog,
    AlertOutbox,
    QueueResult,
    StoreConnection,
    StoredQueries,
    SubscriptionStore,
    open_database,
)
from bot.text.analysis import Analyzer


@dataclass(slots=True)
class Archive:
    """The corpus as served: the live index and the engine answering from it."""

    manager: IndexManager
    engine: AnswerEngine

    @classmethod
    def open(cls, config: Config, progress: Progress | None = None) -> tuple[Archive, ReloadReport]:
        analyzer = Analyzer()
        manager = IndexManager(config.corpus_dir, config.index_dir, analyzer)
        report = manager.open(progress)
        return cls(manager, AnswerEngine(manager.current_index, analyzer)), report


@dataclass(slots=True)
class Services:
    """Everything a chat front end needs: the archive and the bot's database."""

    config: Config
    archive: Archive
    db: StoreConnection
    subscriptions: SubscriptionStore
    outbox: AlertOutbox
    activity: ActivityLog
    queries: StoredQueries
    started_at: float = field(default_factory=time.time)
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def open(cls, config: Config) -> Services:
        """Open the index (building it if needed) and the database; blocking."""
        archive, _ = Archive.open(config)
        db = open_database(config.database_path)
        services = cls(
            config,
            archive,
            db,
            SubscriptionStore(db),
            AlertOutbox(db),
            ActivityLog(db),
            StoredQueries(db),
        )
        threading.Thread(target=bm25.warm_up, name="warm-up", daemon=True).start()
        archive.manager.merge_in_background()
        services.outbox.recover()  # alerts a killed process left mid-send are due again
        # Articles added while the bot was down are announced now; the very first start only
        # records the corpus as seen.
        services.queue_alerts()
        return services

    def close(self) -> None:
        self.db.close()

    @property
    def engine(self) -> AnswerEngine:
        return self.archive.engine

    @property
    def index(self) -> SearchIndex:
        return self.archive.manager.index

    def queue_alerts(self) -> QueueResult:
        """Alerts for the articles committed since the last time (all of them when the index
        was rebuilt: the ledger then tells which are new)."""
        manager = self.archive.manager
        marker = manager.marker()
        new_ids = manager.added_since(self.outbox.alert_marker())
        result = queue_alerts(
            self.index, self.engine.analyzer, self.subscriptions, self.outbox, new_ids
        )
        self.outbox.set_alert_marker(marker)
        return result

    async def reload(self, progress: Progress | None = None) -> tuple[ReloadReport, QueueResult]:
        """Rescan and rebuild off the event loop (questions keep being answered), then queue
        alerts. Serialised: a second reload waits for the first and then rescans.

        Raises whatever the rebuild raised (the previous index stays in service), or
        :class:`AlertQueueError` when the new index is live but its alerts were not queued.
        """
        async with self.reload_lock:
            report = await asyncio.to_thread(self.archive.manager.reload, progress)
            self.archive.manager.merge_in_background()
            try:
                return report, await asyncio.to_thread(self.queue_alerts)
            except Exception as exc:
                raise AlertQueueError(report, exc) from exc

    def stats(self, today: dt.date | None = None) -> dict[str, object]:
        index = self.index
        today = today or dt.datetime.now(dt.UTC).date()
        return {
            "articles": index.article_count,
            "passages": len(index),
            **self.activity.question_counts(today),
            "index_age_s": time.time() - index.built_at,
            "uptime_s": time.time() - self.started_at,
            "subscribers": self.subscriptions.count_subscribers(),
            "topics": self.subscriptions.count_topics(),
            **{f"alerts_{k}": v for k, v in self.outbox.counts().items()},
        }
