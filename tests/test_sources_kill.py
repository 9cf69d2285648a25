"""kill -9 of a bot process during a feed poll, and during the fan-out of a feed's new
entries: after the restart nothing is lost and nothing is sent twice (save the one send
no local database can guard, between Telegram's acceptance and the outbox's commit)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from feed_server import FeedServer, Item, article_page, rss
from helpers import ROOT, TOKEN, alerts, eventually
from telegram import Bot

from bot.alerts.delivery import AlertDelivery
from bot.config import Config
from bot.services import Services
from bot.telegram_app.alerts import telegram_sender

EVERYTHING = list(range(4000, 4012))  # subscribed to every article
FOOTBALL = [4100, 4101]  # to football: none of these stories
NEW = (2, 3, 4)  # the stories that appear after the feed was added
PARAGRAPHS = [
    "The harbour authority said the new bridge would open next spring after four years of "
    "construction, repeated delays and a long dispute over the cost of its steel cables.",
    "Engineers said the cables had been tested to twice the expected load on the busiest "
    "summer weekends and that the deck had passed its final inspection on Monday.",
]


@pytest.fixture
async def server():
    async with FeedServer() as running:
        yield running


def story(server: FeedServer, n: int, **options) -> Item:
    link = server.set(
        f"/news/{n}",
        article_page(f"Harbour story {n}", [f"Story {n}.", *PARAGRAPHS]),
        content_type="text/html",
        **options,
    )
    return Item(f"Harbour story {n}", link, guid=f"s{n}", description="Teaser.")


async def prepared(server: FeedServer, config: Config, **page_options) -> None:
    """A data dir following a feed (primed with story 1), with subscribers; then the feed
    gains the new stories."""
    services = Services.open(config)
    try:
        await services.catch_up_alerts()
        for chat in EVERYTHING:
            services.subscriptions.subscribe(chat, "")
        for chat in FOOTBALL:
            services.subscriptions.subscribe(chat, "football")
        url = server.set("/feed.xml", rss([story(server, 1)]))
        assert not (await services.sources.add_feed(url)).error
    finally:
        services.close()
    server.set("/feed.xml", rss([story(server, n, **page_options) for n in (*NEW, 1)]))


async def run_child(api, config: Config, tmp_path: Path, rate: float, kill_when) -> int:
    log = (tmp_path / "child.log").open("w")
    try:
        child = subprocess.Popen(  # noqa: ASYNC220 — started once, waited on by signals
            [
                sys.executable,
                str(ROOT / "tests" / "sources_child.py"),
                str(config.corpus_dir),
                str(config.data_dir),
                api.base_url,
                TOKEN,
                str(rate),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            await eventually(kill_when, timeout=60)
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()
            returncode = await asyncio.to_thread(child.wait, 10)
    finally:
        log.close()
    assert returncode == -signal.SIGKILL, (tmp_path / "child.log").read_text()
    return returncode


async def restart_and_finish(api, config: Config) -> None:
    """What the next start does: catch up, poll, reload, deliver."""
    services = Services.open(config)
    try:
        await services.catch_up_alerts()
        await services.sources.poll_due(everything=True)
        async with Bot(TOKEN, base_url=api.base_url) as bot:
            send = telegram_sender(bot, services.current_index)
            await AlertDelivery(services.outbox, services.subscriptions, send).drain()
        assert services.outbox.counts().undelivered == 0
    finally:
        services.close()


def per_story(api) -> dict[int, list[int]]:
    """For each subscriber, how many alerts of each new story it got."""
    return {
        chat: [sum(f"Harbour story {n}" in a["text"] for a in alerts(api, chat)) for n in NEW]
        for chat in EVERYTHING + FOOTBALL
    }


async def test_kill_9_during_a_poll(api, server, corpus_dir, tmp_path):
    config = Config(corpus_dir=corpus_dir, data_dir=tmp_path / "data", fetch_allow_private=True)
    hold = asyncio.Event()  # story 4's page hangs: the child is killed mid-poll
    await prepared(server, config)
    story(server, 4, hold=hold)
    await run_child(api, config, tmp_path, 50.0, lambda: "/news/4" in server.arrivals)
    assert api.sent_messages() == []
    hold.set()
    await restart_and_finish(api, config)
    counts = per_story(api)
    assert all(counts[chat] == [1, 1, 1] for chat in EVERYTHING), counts
    assert all(counts[chat] == [0, 0, 0] for chat in FOOTBALL), counts
    assert len(api.sent_messages()) == 3 * len(EVERYTHING)


async def test_kill_9_during_the_fan_out(api, server, corpus_dir, tmp_path):
    config = Config(corpus_dir=corpus_dir, data_dir=tmp_path / "data", fetch_allow_private=True)
    await prepared(server, config)
    total = 3 * len(EVERYTHING)
    await run_child(api, config, tmp_path, 10.0, lambda: len(api.sent_messages()) >= 8)
    before = len(api.sent_messages())
    assert before < total, "the child finished before it was killed"
    await restart_and_finish(api, config)
    counts = per_story(api)
    lost = [
        (chat, n) for chat in EVERYTHING for n, c in zip(NEW, counts[chat], strict=True) if c == 0
    ]
    duplicates = sum(c - 1 for chat in EVERYTHING for c in counts[chat] if c > 1)
    print(f"kill -9 after {before} of {total} sends: lost {len(lost)}, duplicates {duplicates}")
    assert lost == [] and duplicates <= 1
    assert all(counts[chat] == [0, 0, 0] for chat in FOOTBALL)
