"""The console's source commands (/feed, /feeds, /add) on the same core as Telegram, with
the feed server running in its own thread (the console runs one event loop per command)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from feed_server import FeedServer, Item, article_page, rss

from bot.config import Config
from bot.console import Console
from bot.services import Services

BODY = [
    "The harbour authority said the new bridge would open next spring, after four years of "
    "construction and a long dispute over the cost of its steel cables.",
    "Engineers said the cables had been tested to twice the expected load, and that the "
    "deck had passed its final inspection on Monday morning.",
]


@pytest.fixture
def server():
    loop = asyncio.new_event_loop()
    running = FeedServer()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(running.__aenter__(), loop).result(10)
    yield running
    asyncio.run_coroutine_threadsafe(running.__aexit__(None, None, None), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_console_feeds_and_links(server, corpus_dir, tmp_path):
    out: list[str] = []
    config = Config(corpus_dir=corpus_dir, data_dir=tmp_path / "data", fetch_allow_private=True)
    services = Services.open(config)
    try:
        asyncio.run(services.catch_up_alerts())
        console = Console(services, out.append)
        console.handle("/feeds")
        assert out[-1] == "No feeds or channels yet. /feed add <url> follows a feed."
        page = server.set("/news/1", article_page("Bridge opens", BODY), content_type="text/html")
        feed = server.set("/feed.xml", rss([Item("Bridge opens", page, guid="1")]))
        console.handle(f"/feed add {feed}")
        assert out[-1].startswith("Following Test Wire.") and "1 article archived" in out[-1]
        console.handle("/feeds")
        assert "1. Test Wire" in out[-1] and "1 article" in out[-1]
        console.handle(f"/add {page}")
        assert out[-1].startswith("Added: Bridge opens") and "2 paragraphs" in out[-1]
        console.handle("/add file:///etc/passwd")
        assert "only http and https" in out[-1]
        console.handle("/feed remove 1 --purge")
        assert "Deleted its 1 article" in out[-1]
        console.handle("/feed")
        assert out[-1].startswith("Usage: /feed add <url>")
        assert services.current_index().article_count == 2  # the seed and the link
    finally:
        services.close()
