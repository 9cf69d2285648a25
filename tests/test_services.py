"""The services front ends share (``bot.services``): their typed results, the start-up
catch-up as its own step, reload outcomes and retention."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from helpers import write_article

from bot.commands import reload_text, stats_text
from bot.config import Config
from bot.i18n import texts_for
from bot.services import ReloadOutcome, Retention, Services
from bot.store import AlertCounts, QuestionCounts, StoredQuery
from bot.store.db import query

DAY = 86400.0


@pytest.fixture
def config(corpus_dir: Path, tmp_path: Path) -> Config:
    return Config(corpus_dir=corpus_dir, data_dir=tmp_path / "data")


@pytest.fixture
def services(config: Config):
    opened = Services.open(config)
    asyncio.run(opened.catch_up_alerts())
    opened.subscriptions.subscribe(7, "")
    yield opened
    opened.close()


def test_open_announces_nothing_until_the_catch_up_step(config: Config, corpus_dir: Path):
    first = Services.open(config)
    asyncio.run(first.catch_up_alerts())  # the first start records the corpus
    first.subscriptions.subscribe(7, "")
    first.close()
    write_article(corpus_dir, "new.txt", "Harbour bridge opens", "The bridge opened today.")

    services = Services.open(config)  # the new article is served ...
    try:
        assert services.current_index().article_count == 2
        assert services.outbox.counts() == AlertCounts()  # ... but not yet announced
        caught_up = asyncio.run(services.catch_up_alerts())
        assert caught_up.queued == 1 and services.outbox.counts() == AlertCounts(pending=1)
    finally:
        services.close()


def test_stats_are_a_dataclass_the_front_ends_read(services: Services):
    services.activity.record_question(7, answered=True)
    stats = services.stats()
    assert (stats.articles, stats.passages) == (1, len(services.current_index()))
    assert stats.questions == QuestionCounts(1, 0, 1, 0)
    assert (stats.subscribers, stats.topics, stats.alerts) == (1, 1, AlertCounts())
    text = stats_text(stats, texts_for("en"))
    assert f"Articles: 1, passages: {stats.passages}" in text
    assert "Questions today: 1 answered, 0 unanswered" in text
    assert "Alerts: 0 sent, 0 pending, 0 failed" in text


class FailingQueue(Services):
    def _queue_alerts(self):
        raise OSError("disk I/O error")


def test_a_reload_whose_alerts_fail_is_one_outcome(config: Config, corpus_dir: Path):
    first = Services.open(config)
    asyncio.run(first.catch_up_alerts())  # the first start records the corpus
    first.close()
    services = FailingQueue.open(config)
    write_article(corpus_dir, "new.txt", "Harbour bridge opens", "The bridge opened today.")
    try:
        outcome = asyncio.run(services.reload())
    finally:
        services.close()
    assert isinstance(outcome, ReloadOutcome) and outcome.alerts is None
    assert isinstance(outcome.alert_error, OSError) and outcome.queued == 0
    assert [a.title for a in outcome.report.added] == ["Harbour bridge opens"]  # it is live
    text = reload_text(outcome, texts_for("en"))
    assert "Added 1" in text and "alerts could not be queued (disk I/O error)" in text


def test_reloading_is_true_while_a_reload_runs(services: Services):
    started, release = threading.Event(), threading.Event()
    manager_reload = services.archive.manager.reload

    def slow(progress=None):
        started.set()
        release.wait(10)
        return manager_reload(progress)

    async def run() -> tuple[bool, bool, ReloadOutcome]:
        before = services.reloading
        task = asyncio.create_task(services.reload(lambda done, total: None))
        await asyncio.to_thread(started.wait, 10)
        during = services.reloading
        release.set()
        return before, during, await task

    services.archive.manager.reload = slow
    before, during, outcome = asyncio.run(run())
    assert (before, during, services.reloading) == (False, True, False)
    assert reload_text(outcome, texts_for("en")).startswith("No corpus file changed: 1 article,")


def test_prune_keeps_what_the_retention_periods_say(services: Services):
    assert services.retention == Retention(
        stored_query_days=7, question_log_days=30, finished_alert_days=90
    )
    now = services.started_at
    for age in (40, 10):
        services.activity.record_question(7, answered=True, now=now - age * DAY)
        services.queries.save(f"token{age:03d}", StoredQuery(7, age, "q"), now - age * DAY)
    report = services.prune(now=now)
    assert (report.stored_queries, report.question_log, report.finished_alerts) == (2, 1, 0)
    assert query(services.db, "SELECT COUNT(*) FROM question_log")[0][0] == 1
    assert services.stats().questions.answered_total == 2  # the daily counts stay
