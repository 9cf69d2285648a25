"""Polling feeds from a real HTTP server on 127.0.0.1 into a real corpus, index and
database (no Telegram): conditional GETs, hints, back-off, redirects, bad feeds, dedupe
keys, full text, priming, restarts and crash windows."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path

import pytest
import yaml
from feed_server import FeedServer, Item, article_page, atom, rdf, rss

from bot.articles.markdown import read_markdown
from bot.config import Config
from bot.services import Services
from bot.sources import PollStatus
from bot.sources import poller as poller_module
from bot.store import AlertCounts
from bot.store.feeds import FeedStore

BODY = [
    "The harbour authority said on Thursday that the new suspension bridge will open to "
    "traffic next spring, after four years of construction and repeated storm delays.",
    "Engineers told reporters that the steel cables had been tested to twice the load "
    "expected on the busiest summer weekends, and that the deck passed its inspection.",
    "The mayor said tolls would be waived for cyclists during the first month of service, "
    "a measure the council approved unanimously last week.",
]
SUMMARY = "The bridge opens in spring."


class Killed(BaseException):
    """The process dying at that point (a BaseException: nothing on the way catches it)."""


@pytest.fixture
async def server():
    async with FeedServer() as running:
        yield running


@pytest.fixture
def config(corpus_dir: Path, tmp_path: Path) -> Config:
    return Config(
        corpus_dir=corpus_dir,
        data_dir=tmp_path / "data",
        fetch_allow_private=True,
        fetch_timeout=1.0,
        feed_interval=60.0,
    )


@pytest.fixture
async def services(config: Config):
    opened = Services.open(config)
    await opened.catch_up_alerts()
    opened.subscriptions.subscribe(7, "")  # every new article
    opened.subscriptions.subscribe(8, "football")  # none of these
    yield opened
    opened.close()


def page(server: FeedServer, path: str, title: str, paragraphs=BODY, **options) -> str:
    return server.set(path, article_page(title, paragraphs), content_type="text/html", **options)


def item(server: FeedServer, n: int, title: str | None = None, **fields) -> Item:
    link = page(server, f"/news/{n}", title or f"Story {n}")
    return Item(title or f"Story {n}", link, guid=f"story-{n}", description=SUMMARY, **fields)


async def add(services: Services, url: str):
    added = await services.sources.add_feed(url, added_by=1)
    assert not added.error, added.error
    return added


def feed_files(corpus: Path) -> list[Path]:
    return sorted((corpus / "feeds").rglob("*.md"))


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("render", [rss, atom, rdf], ids=["rss2", "atom", "rdf"])
async def test_each_format_is_archived_with_the_page_text(server, services, corpus_dir, render):
    url = server.set("/feed", render([item(server, 1, "Harbour bridge opens in spring")]))
    added = await add(services, url)
    assert added.poll.added == 1 and added.poll.primed
    [path] = feed_files(corpus_dir)
    article = read_markdown(path.read_text(encoding="utf-8"), "x.md")
    assert article.title == "Harbour bridge opens in spring"
    assert article.paragraphs == BODY  # the page's body: no nav, ads, sidebar or footer
    assert article.url == server.url("/news/1") and article.date == dt.date(2024, 5, 2)
    assert services.current_index().article(added.reload.report.added[0].id) is not None
    answer = services.engine.ask("When will the new suspension bridge open to traffic?")
    assert "open to traffic next spring" in answer.quotes[0].text
    assert services.outbox.counts() == AlertCounts()  # primed: archived, not announced


async def test_json_feed_with_full_content_needs_no_page(server, services, corpus_dir):
    content = "".join(f"<p>{p}</p>" for p in BODY * 2)
    url = server.set(
        "/feed.json",
        '{"version": "https://jsonfeed.org/version/1.1", "title": "JSON Wire", "items": ['
        '{"id": "j1", "url": "https://news.example.com/j1", "title": "Bridge",'
        f' "content_html": "{content}", "date_published": "2024-05-02T09:00:00Z",'
        ' "authors": [{"name": "Ann Lee"}], "tags": ["transport"]}]}',
        content_type="application/feed+json",
    )
    await add(services, url)
    [path] = feed_files(corpus_dir)
    fields = front_matter(path)
    assert fields["source"] == "JSON Wire" and fields["author"] == "Ann Lee"
    assert fields["tags"] == ["transport"] and "partial" not in fields
    assert [p for p, _h, _s in server.requests] == ["/feed.json"]  # no page fetched


# --------------------------------------------------------------------------- polite polling


async def test_304_and_unchanged_bodies_cost_no_parse(server, services, monkeypatch):
    url = server.set("/feed", rss([item(server, 1)]))
    await add(services, url)
    parses = []
    original = poller_module.parse_feed
    monkeypatch.setattr(
        poller_module, "parse_feed", lambda *a, **k: parses.append(1) or original(*a, **k)
    )
    report = await services.sources.poll_due(everything=True)
    assert report.polls[0].status is PollStatus.NOT_MODIFIED and report.parsed == 0
    headers, status = server.hits("/feed")[-1]
    assert status == 304 and headers["If-None-Match"].startswith('"')
    assert headers["User-Agent"].startswith("NewsroomQABot/")
    # A server without validators sends the same body again: not parsed either.
    server.set("/feed", rss([item(server, 1)]), validators=False)
    report = await services.sources.poll_due(everything=True)
    assert report.polls[0].status is PollStatus.UNCHANGED and report.parsed == 0
    assert parses == []
    # A new ETag (a new body) is parsed and its new entry archived.
    server.set("/feed", rss([item(server, 2), item(server, 1)]))
    report = await services.sources.poll_due(everything=True)
    assert report.polls[0].status is PollStatus.CHANGED and report.polls[0].added == 1
    assert parses == [1] and report.reload.queued == 1  # chat 7 only


async def test_gzip_ttl_and_max_age_hints(server, services):
    url = server.set("/feed", rss([item(server, 1)], ttl=30), gzip=True)
    started = time.time()
    await add(services, url)
    assert server.hits("/feed")[0][0]["Accept-Encoding"].startswith("gzip")
    feed = services.sources.feeds.get(1)
    assert feed.title == "Test Wire"
    assert 30 * 60 - 5 <= feed.next_poll_at - started <= 30 * 60 + 5  # ttl 30 min > 60 s
    server.set("/feed", rss([item(server, 1)]), headers={"Cache-Control": "max-age=86400"})
    await services.sources.poll_due(everything=True)
    feed = services.sources.feeds.get(1)
    assert feed.next_poll_at - time.time() == pytest.approx(3600, abs=5)  # capped at 1 h


async def test_errors_back_off_report_failing_once_and_recover(server, services):
    url = server.set("/feed", rss([item(server, 1)]))
    await add(services, url)
    server.set("/feed", "oops", status=500, content_type="text/plain")
    waits = []
    for _ in range(6):
        before = time.time()
        report = await services.sources.poll_due(everything=True)
        waits.append(round((services.sources.feeds.get(1).next_poll_at - before) / 60))
        assert report.polls[0].status is PollStatus.FAILED
    assert waits == [1, 2, 4, 8, 16, 32]  # the interval (60 s) doubled per failure
    assert [p for p in [report.polls[0]] if p.now_failing] == []  # told at the 5th only
    feed = services.sources.feeds.get(1)
    assert feed.failures == 6 and feed.failing_notified and "HTTP 500" in feed.last_error
    server.set("/feed", "busy", status=503, headers={"Retry-After": "7200"})
    await services.sources.poll_due(everything=True)
    assert services.sources.feeds.get(1).next_poll_at - time.time() > 7000
    server.set("/feed", rss([item(server, 2), item(server, 1)]))
    report = await services.sources.poll_due(everything=True)
    assert report.polls[0].added == 1
    feed = services.sources.feeds.get(1)
    assert feed.failures == 0 and not feed.failing_notified and feed.last_error is None


async def test_the_fifth_failure_in_a_row_is_reported_once(server, services):
    url = server.set("/feed", rss([item(server, 1)]))
    await add(services, url)
    server.set("/feed", "oops", status=500)
    told = []
    for _ in range(7):
        report = await services.sources.poll_due(everything=True)
        told.append(bool(report.now_failing))
    assert told == [False, False, False, False, True, False, False]


async def test_permanent_redirects_move_the_feed_temporary_ones_do_not(server, services):
    for code, moves in ((302, False), (307, False), (301, True), (308, True)):
        target = server.set(f"/feed-{code}", rss([item(server, code)]))
        old = server.set(f"/old-{code}", "", status=code, headers={"Location": f"/feed-{code}"})
        added = await add(services, old)
        assert services.sources.feeds.get(added.feed.id).url == (target if moves else old)
    # A chain of permanent redirects moves the feed to its end; one temporary hop does not.
    server.set("/a", "", status=308, headers={"Location": "/b"})
    server.set("/b", "", status=301, headers={"Location": "/feed-c"})
    server.set("/feed-c", rss([item(server, 9)]))
    added = await add(services, server.url("/a"))
    assert services.sources.feeds.get(added.feed.id).url == server.url("/feed-c")
    server.set("/x", "", status=301, headers={"Location": "/y"})
    server.set("/y", "", status=302, headers={"Location": "/feed-z"})
    server.set("/feed-z", rss([item(server, 10)]))
    added = await add(services, server.url("/x"))
    assert services.sources.feeds.get(added.feed.id).url == server.url("/y")
    server.set("/loop", "", status=301, headers={"Location": "/loop"})
    assert "more than 5 redirects" in (await services.sources.add_feed(server.url("/loop"))).error


async def test_a_slow_a_huge_and_a_malformed_feed_stop_no_other(server, services, config):
    good = server.set("/good", rss([item(server, 1)]))
    slow = server.set("/slow", rss([item(server, 2)]), trickle=True)
    huge = server.set("/huge", b"<rss>" + b" " * (6 * 1024 * 1024), content_type="text/xml")
    broken = server.set("/broken", "<rss><channel><title>Broken</ti", content_type="text/xml")
    html = server.set("/page", "<html><body><p>Just a page.</p></body></html>",
                      content_type="text/html")  # fmt: skip
    services.sources.follow([good, slow, huge, broken, html])
    started = time.perf_counter()
    report = await services.sources.poll_due()
    assert time.perf_counter() - started < 3 * config.fetch_timeout
    by_url = {p.url: p for p in report.polls}
    assert by_url[good].added == 1
    assert "timed out" in by_url[slow].error
    assert "too large" in by_url[huge].error
    assert "malformed feed" in by_url[broken].error or "not a feed" in by_url[broken].error
    assert "announces none" in by_url[html].error
    assert len(feed_files(services.config.corpus_dir)) == 1


async def test_content_types_and_schemes_are_checked(server, services):
    image = server.set("/feed.png", b"\x89PNG\r\n", content_type="image/png")
    added = await services.sources.add_feed(image)
    assert "not a feed: the server sent image/png" in added.error
    assert services.sources.feeds.listing() == []  # a failed add is not followed
    added = await services.sources.add_feed("file:///etc/passwd")
    assert added.feed is None and "only http and https" in added.error


# --------------------------------------------------------------------------- entries


async def test_duplicate_guids_stay_separate_articles(server, services, corpus_dir):
    same = "https://news.example.com/"  # a CMS that gives every item the site's URL as guid
    items = [
        Item(f"Story {n}", page(server, f"/news/{n}", f"Story {n}"), guid=same, description=SUMMARY)
        for n in (1, 2, 3)
    ]
    url = server.set("/feed", rss(items))
    added = await add(services, url)
    assert added.poll.added == 3 and len(feed_files(corpus_dir)) == 3
    # The same three again, and a fourth: one new entry, nothing rewritten.
    items.insert(0, Item("Story 4", page(server, "/news/4", "Story 4"), guid=same))
    server.set("/feed", rss(items))
    report = await services.sources.poll_due(everything=True)
    assert (report.polls[0].added, report.polls[0].updated) == (1, 0)
    assert report.reload.queued == 1


async def test_an_entry_edited_in_place_updates_its_article_once(server, services, corpus_dir):
    url = server.set("/feed", rss([item(server, 1)]))
    await add(services, url)
    server.set("/feed", rss([item(server, 2), item(server, 1)]))
    assert (await services.sources.poll_due(everything=True)).reload.queued == 1
    [_, second] = sorted(feed_files(corpus_dir), key=lambda p: "story-2" in p.read_text())
    edited = Item("Story 2 (corrected)", server.url("/news/2"), guid="story-2",
                  description="Corrected.")  # fmt: skip
    page(server, "/news/2", "Story 2 (corrected)", [*BODY, "Correction: the date was wrong."])
    server.set("/feed", rss([edited, item(server, 1)]))
    report = await services.sources.poll_due(everything=True)
    assert (report.polls[0].added, report.polls[0].updated) == (0, 1)
    assert len(report.reload.report.changed) == 1 and report.reload.queued == 0
    article = read_markdown(second.read_text(encoding="utf-8"), "x.md")
    assert article.title == "Story 2 (corrected)" and "Correction" in article.paragraphs[-1]
    assert services.outbox.counts().pending == 1  # the first alert only


async def test_entries_without_guid_are_keyed_by_link_then_title_and_date(server, services):
    items = [
        Item("Linked", "https://news.example.com/a?utm_source=rss", description="x " * 200),
        Item("Unlinked", "", description="y " * 200),
    ]
    url = server.set("/feed", rss(items))
    await add(services, url)
    keys = sorted(e.key for e in FeedStore(services.db).entries(1))
    assert keys[0].startswith("hash:") and keys[1] == "link:https://news.example.com/a"
    # The tracking parameter changes: the same entry.
    items[0] = Item("Linked", "https://news.example.com/a?utm_source=mail", description="x " * 200)
    server.set("/feed", rss(items))
    report = await services.sources.poll_due(everything=True)
    assert report.polls[0].added == 0


async def test_a_paywall_teaser_falls_back_to_the_summary_marked_partial(
    server, services, corpus_dir
):
    teaser = article_page(
        "Exclusive: the budget",
        ["The council's budget holds a surprise.", "Subscribe to continue reading this story."],
        extra_head='<script type="application/ld+json">{"@type": "NewsArticle",'
        ' "isAccessibleForFree": "False"}</script>',
    )
    link = server.set("/paywalled", teaser, content_type="text/html")
    summary = "The council's budget doubles the money for libraries."
    url = server.set("/feed", rss([Item("Exclusive: the budget", link, guid="p1",
                                        description=summary)]))  # fmt: skip
    await add(services, url)
    [path] = feed_files(corpus_dir)
    assert front_matter(path)["partial"] is True
    article = read_markdown(path.read_text(encoding="utf-8"), "x.md")
    assert article.paragraphs == [summary]
    assert "Subscribe" not in article.text


async def test_a_page_that_fails_leaves_the_summary_marked_partial(server, services, corpus_dir):
    url = server.set(
        "/feed", rss([Item("Gone", server.url("/missing"), guid="g", description=SUMMARY)])
    )
    await add(services, url)
    [path] = feed_files(corpus_dir)
    assert front_matter(path)["partial"] is True
    assert read_markdown(path.read_text(encoding="utf-8"), "x.md").paragraphs == [SUMMARY]


async def test_a_page_url_is_searched_for_its_feed(server, services):
    server.set("/rss.xml", rss([item(server, 1)]))
    home = server.set(
        "/",
        '<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml">'
        "</head><body><p>Home</p></body></html>",
        content_type="text/html",
    )
    added = await add(services, home)
    assert added.feed.url == server.url("/rss.xml") and added.poll.added == 1


# --------------------------------------------------------------------------- state


async def test_bot_feeds_are_followed_idempotently_and_primed(server, config, corpus_dir):
    url = server.set("/feed", rss([item(server, 1)]))
    configured = Config(**{**config.__dict__, "feeds": (url,)})
    for _ in range(2):  # two starts
        services = Services.open(configured)
        try:
            await services.catch_up_alerts()
            services.subscriptions.subscribe(7, "")
            await services.sources.poll_due()
            assert [f.feed.url for f in services.sources.feeds.listing()] == [url]
            assert services.outbox.counts() == AlertCounts()
        finally:
            services.close()
    assert len(feed_files(corpus_dir)) == 1


async def test_remove_keeps_the_articles_unless_purged(server, services, corpus_dir):
    url = server.set("/feed", rss([item(server, 1), item(server, 2)]))
    await add(services, url)
    removed = await services.sources.remove_feed("1")
    assert removed.purged == 0 and len(feed_files(corpus_dir)) == 2
    assert services.sources.feeds.listing() == []
    assert await services.sources.remove_feed("1") is None
    await add(services, url)  # followed again: primed again, nothing announced
    removed = await services.sources.remove_feed(url, purge=True)
    assert removed.purged == 2 and feed_files(corpus_dir) == []
    assert len(removed.reload.report.removed) == 2
    assert services.outbox.counts() == AlertCounts()


async def test_restart_announces_nothing_twice(server, config):
    url = server.set("/feed", rss([item(server, 1)]))
    services = Services.open(config)
    try:
        await services.catch_up_alerts()
        services.subscriptions.subscribe(7, "")
        await add(services, url)
        server.set("/feed", rss([item(server, 2), item(server, 1)]))
        assert (await services.sources.poll_due(everything=True)).reload.queued == 1
    finally:
        services.close()
    services = Services.open(config)
    try:
        assert (await services.catch_up_alerts()).queued == 0
        report = await services.sources.poll_due(everything=True)
        assert report.written == 0 and services.outbox.counts().pending == 1
    finally:
        services.close()


async def test_a_crash_between_files_and_commit_announces_once(server, config, monkeypatch):
    """The files are written, the process dies before the entries commit: after the
    restart the new entry is announced once, and re-polling it changes nothing."""
    url = server.set("/feed", rss([item(server, 1)]))
    services = Services.open(config)
    await services.catch_up_alerts()
    services.subscriptions.subscribe(7, "")
    await add(services, url)
    server.set("/feed", rss([item(server, 2), item(server, 1)]))

    def crash(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(FeedStore, "record_success", crash)
    with pytest.raises(Killed):
        await services.sources.poll_due(everything=True)
    services.close()
    monkeypatch.undo()

    services = Services.open(config)  # the new file is read at open ...
    try:
        assert (await services.catch_up_alerts()).queued == 1  # ... and announced
        report = await services.sources.poll_due(everything=True)
        assert report.polls[0].added == 1  # the entry is recorded now, same file
        assert report.reload.queued == 0 and services.outbox.counts().pending == 1
    finally:
        services.close()


async def test_a_crash_while_priming_announces_nothing(server, config, monkeypatch):
    """Priming marks the articles seen before writing them: a crash in between, and the
    next start's poll writes them without announcing them."""
    url = server.set("/feed", rss([item(server, 1), item(server, 2)]))
    services = Services.open(config)
    await services.catch_up_alerts()
    services.subscriptions.subscribe(7, "")

    def crash(*args):
        raise Killed

    monkeypatch.setattr(poller_module, "write_article", crash)
    services.sources.follow([url])
    with pytest.raises(Killed):
        await services.sources.poll_due()
    services.close()
    monkeypatch.undo()
    services = Services.open(config)
    try:
        await services.catch_up_alerts()
        report = await services.sources.poll_due(everything=True)
        assert report.polls[0].added == 2 and report.reload.queued == 0
        assert services.outbox.counts() == AlertCounts()
    finally:
        services.close()


async def test_sources_wait_for_the_start_up_catch_up(server, config):
    """On a new data dir the first entry in the alert ledger decides that the corpus is
    recorded, not announced: a feed primed before the catch-up would have had the whole
    seed corpus announced."""
    url = server.set("/feed", rss([item(server, 1)]))
    services = Services.open(config)
    try:
        services.subscriptions.subscribe(7, "")
        services.sources.follow([url])
        polling = asyncio.create_task(services.sources.poll_due())
        await asyncio.sleep(0.05)  # room for it to run, were it not waiting
        assert not polling.done() and server.arrivals == []
        assert (await services.catch_up_alerts()).first_scan
        assert (await polling).polls[0].added == 1
        assert services.outbox.counts() == AlertCounts()
    finally:
        services.close()
