"""End to end: feeds, links and the newsroom's channel through the real bot, the fake Bot
API server and a feed server, both on 127.0.0.1."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from feed_server import FeedServer, Item, article_page, rss
from helpers import ADMIN, alerts, all_handled, blockquotes, eventually, reply_to, settle

from bot.store import AlertCounts, transaction

BODY = [
    "Firefighters contained the wildfire north of the reservoir late on Sunday, after "
    "crews cut a firebreak along the old railway line through the pine forest.",
    "About 300 residents of the valley spent the night in the school gym, where volunteers "
    "served soup and the Red Cross handed out blankets.",
    "The regional fire chief said the blaze had most likely been started by a discarded "
    "barbecue, and urged hikers to respect the ban on open fires.",
]
CHANNEL = -1001234567890
READER, FAN, OTHER = 501, 502, 503


@pytest.fixture
async def server():
    async with FeedServer() as running:
        yield running


@pytest.fixture
async def bot(api, start_bot):
    app = await start_bot(fetch_allow_private=True, fetch_timeout=2.0)
    return api, app, app.bot_data.services


def story(server: FeedServer, n: int, title: str, paragraphs=BODY) -> Item:
    link = server.set(f"/news/{n}", article_page(title, paragraphs), content_type="text/html")
    return Item(title, link, guid=f"g{n}", description="A short teaser.")


async def make_due(services) -> None:
    def update() -> None:
        with transaction(services.db) as conn:
            conn.execute("UPDATE feeds SET next_poll_at = 0")

    await asyncio.to_thread(update)


async def command(api, text: str, user: int = ADMIN, done: str = "") -> dict:
    """Send a command; return the bot's reply once it says ``done`` (edited status)."""
    reply = await reply_to(api, user, text)
    if done:
        await api.wait_for(lambda: done in reply["text"], timeout=10)
    return reply


async def test_a_feed_entry_alerts_each_matching_subscriber_once(bot, server):
    api, app, services = bot
    for chat, topic in ((READER, ""), (FAN, "wildfire"), (OTHER, "football")):
        assert (await reply_to(api, chat, f"/subscribe {topic}".rstrip()))["text"].startswith(
            "Subscribed"
        )
    url = server.set("/feed.xml", rss([story(server, 1, "Council votes on budget")]))
    status = await command(api, f"/feed add {url}", done="Following")
    assert "1 article archived" in status["text"]
    server.set("/feed.xml", rss([story(server, 2, "Wildfire near the reservoir contained"),
                                 story(server, 1, "Council votes on budget")]))  # fmt: skip
    [job] = app.job_queue.get_jobs_by_name("feeds")
    await make_due(services)  # as if BOT_FEED_INTERVAL had passed
    await job.run(app)
    await api.wait_for(lambda: alerts(api, READER) and alerts(api, FAN), timeout=10)
    await settle(app)
    [alert] = alerts(api, READER)
    assert "Wildfire near the reservoir contained" in alert["text"]
    assert "Firefighters contained the wildfire" in alert["text"]  # the page's lede
    assert [len(alerts(api, c)) for c in (READER, FAN, OTHER)] == [1, 1, 0]
    # Answerable with a quote from the page body, not the feed's teaser.
    answer = await reply_to(api, READER, "Where did the residents spend the night?")
    assert any("school gym" in quote for quote in blockquotes(answer))
    # Nothing new: nothing sent.
    await make_due(services)
    await job.run(app)
    await eventually(lambda: not app.bot_data.services.sources.poller.polling, timeout=10)
    await settle(app)
    assert [len(alerts(api, c)) for c in (READER, FAN, OTHER)] == [1, 1, 0]
    listing = await command(api, "/feeds")
    assert "1. Test Wire" in listing["text"] and "2 articles" in listing["text"]


async def test_restart_sends_no_duplicates(api, start_bot, server, tmp_path):
    data = tmp_path / "data"
    app = await start_bot(data_dir=data, fetch_allow_private=True)
    await reply_to(api, READER, "/subscribe")
    url = server.set("/feed.xml", rss([story(server, 1, "Council votes on budget")]))
    await command(api, f"/feed add {url}", done="Following")
    server.set("/feed.xml", rss([story(server, 2, "Wildfire contained"),
                                 story(server, 1, "Council votes on budget")]))  # fmt: skip
    report = await app.bot_data.services.sources.poll_due(everything=True)
    assert report.reload.queued == 1
    await settle(app)
    from helpers import stop_bot

    await stop_bot(app)
    app = await start_bot(data_dir=data, fetch_allow_private=True)
    report = await app.bot_data.services.sources.poll_due(everything=True)
    assert report.written == 0
    await settle(app)
    assert len(alerts(api, READER)) == 1
    assert app.bot_data.services.outbox.counts() == AlertCounts(sent=1)


async def test_sources_are_for_admins_only(bot, server):
    api, _app, services = bot
    url = server.set("/feed.xml", rss([story(server, 1, "Council votes on budget")]))
    page = server.url("/news/1")
    for text in (f"/feed add {url}", f"/add {page}", "/feeds", f"/feed remove {url}"):
        reply = await reply_to(api, READER, text)
        assert reply["text"] == "Sorry, only the newsroom's editors can use this command."
    reply = await reply_to(api, READER, page)  # a reader's link is a question like any other
    assert "editors" not in reply["text"]
    await all_handled(api)
    assert server.requests == [] and services.sources.feeds.listing() == []


async def test_an_admin_adds_one_article_by_link(bot, server, corpus_dir: Path):
    api, app, _services = bot
    await reply_to(api, READER, "/subscribe")
    page = server.set("/news/7", article_page("Wildfire contained", BODY), content_type="text/html")
    status = await command(api, f"/add {page}", done="Added")
    assert "Added: Wildfire contained" in status["text"]
    assert "2 May 2024" in status["text"] and "3 paragraphs" in status["text"]
    await settle(app)
    [alert] = alerts(api, READER)
    assert "Wildfire contained" in alert["text"]
    # The same link again, sent bare in a private chat: updated in place, not announced.
    status = await command(api, page, done="Updated")
    assert "Updated: Wildfire contained" in status["text"]
    [path] = (corpus_dir / "links").rglob("*.md")
    assert "source: Test Wire" in path.read_text() and f"url: {page}" in path.read_text()
    await settle(app)
    assert len(alerts(api, READER)) == 1
    status = await command(api, f"/add {server.url('/nothing')}", done="Could not")
    assert "HTTP 404" in status["text"]


async def test_private_addresses_are_refused_without_the_allow_setting(api, start_bot, server):
    app = await start_bot()  # BOT_FETCH_ALLOW_PRIVATE unset
    url = server.set("/feed.xml", rss([story(server, 1, "Council votes on budget")]))
    status = await command(api, f"/feed add {url}", done="Not followed")
    assert "loopback address" in status["text"]
    status = await command(api, f"/add {server.url('/news/1')}", done="Could not")
    assert "loopback address" in status["text"]
    status = await command(api, "/feed add http://localhost:9/feed", done="Not followed")
    assert "localhost is a loopback address" in status["text"]
    status = await command(api, "/add http://169.254.169.254/latest/meta-data/", done="Could")
    assert "link-local (or cloud metadata) address" in status["text"]
    assert server.requests == []
    assert app.bot_data.services.sources.feeds.listing() == []


async def test_a_failing_feed_is_reported_to_admins_once(bot, server):
    api, app, services = bot
    url = server.set("/feed.xml", rss([story(server, 1, "Council votes on budget")]))
    await command(api, f"/feed add {url}", done="Following")
    server.set("/feed.xml", "down", status=500)
    [job] = app.job_queue.get_jobs_by_name("feeds")
    for n in range(1, 7):
        await make_due(services)  # as if each back-off had passed
        await job.run(app)
        await eventually(lambda n=n: services.sources.feeds.get(1).failures == n, timeout=10)
    await eventually(lambda: not services.sources.poller.polling)
    notices = [m for m in api.sent_messages(ADMIN) if "is failing" in m["text"]]
    assert len(notices) == 1 and "HTTP 500" in notices[0]["text"]
    listing = await command(api, "/feeds")
    assert "FAILING, 6 failures in a row" in listing["text"]


# --------------------------------------------------------------------------- the channel


async def test_channel_posts_new_edited_and_albums_are_archived_and_answerable(
    bot, server, corpus_dir: Path
):
    api, app, services = bot
    await reply_to(api, READER, "/subscribe")
    post = api.send_channel_post(
        CHANNEL,
        "Wildfire near the reservoir contained\n"
        "Firefighters cut a firebreak along the old railway line overnight.",
    )
    await eventually(lambda: services.current_index().article_count == 2, timeout=10)
    answer = await reply_to(api, READER, "Where did firefighters cut a firebreak?")
    assert any("old railway line" in q for q in blockquotes(answer))
    assert "https://t.me/newsroom/" in answer["html"]
    # Edited: the article follows.
    api.edit_channel_post(
        CHANNEL,
        post["message_id"],
        "Wildfire near the reservoir contained\n"
        "Firefighters cut a firebreak along the disused quarry road overnight.",
    )

    def edited() -> bool:
        quotes = services.engine.ask("firebreak along the disused quarry road").quotes
        return bool(quotes) and "quarry" in quotes[0].text

    await eventually(edited, timeout=10)
    assert services.current_index().article_count == 2  # the same article, updated
    # An album: three photos, the caption on the first, one article.
    caption = "Flood barriers go up\nSoldiers filled sandbags along the embankment all day."
    api.send_channel_album(CHANNEL, [caption, None, None])
    await eventually(lambda: len(list((corpus_dir / "channels").rglob("*.md"))) == 2, timeout=10)
    await eventually(lambda: services.current_index().article_count == 3, timeout=10)
    answer = await reply_to(api, READER, "Who filled sandbags along the embankment?")
    assert any("Soldiers filled sandbags" in q for q in blockquotes(answer))
    await all_handled(api)
    await settle(app)
    assert alerts(api, READER) == []  # channel readers already saw the posts
    listing = await command(api, "/feeds")
    assert "Newsroom: 4 posts" in listing["text"]


async def test_a_link_in_a_channel_post_brings_the_page_text(bot, server, corpus_dir: Path):
    api, _app, services = bot
    page = server.set("/news/9", article_page("Wildfire", BODY), content_type="text/html")
    api.send_channel_post(
        CHANNEL,
        "Wildfire contained: read the full story",
        entities=[{"type": "text_link", "offset": 19, "length": 20, "url": page}],
    )
    await eventually(lambda: services.current_index().article_count == 2, timeout=10)
    [path] = (corpus_dir / "channels").rglob("*.md")
    text = path.read_text()
    assert "volunteers served soup" in text and f"linked_url: {page}" in text


async def test_channels_outside_bot_channels_are_not_archived(api, start_bot, corpus_dir):
    app = await start_bot(channels=frozenset({"newsroom"}), channel_alerts=True)
    await reply_to(api, READER, "/subscribe")
    api.send_channel_post(-1009999999999, "Other channel\nNot ours.", username="other")
    api.send_channel_post(CHANNEL, "Harbour bridge opens\nThe bridge opened today.")
    await api.wait_for(lambda: alerts(api, READER), timeout=10)
    await settle(app)
    [alert] = alerts(api, READER)  # BOT_CHANNEL_ALERTS=1: announced
    assert "Harbour bridge opens" in alert["text"]
    listing = await command(api, "/feeds")
    assert "not archived (not in BOT_CHANNELS)" in listing["text"]
    assert [p.parent.name for p in (corpus_dir / "channels").rglob("*.md")] == ["newsroom"]
