"""A real HTTP server on 127.0.0.1 serving feeds and pages to the sources tests and the
feeds benchmark: documents set per path, with ETag/Last-Modified validators (304s),
gzip, redirects, errors with Retry-After, responses that never end, and a log of every
request. ``async with FeedServer() as server: server.set("/feed.xml", rss(...))``."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gzip
import hashlib
from dataclasses import dataclass, field
from email.utils import format_datetime
from html import escape

from aiohttp import web


@dataclass
class Document:
    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    validators: bool = True  # ETag (from the body) and Last-Modified, answering 304s
    gzip: bool = False
    hold: asyncio.Event | None = None  # the answer waits for this (a slow server)
    trickle: bool = False  # headers at once, then the body never ends


class FeedServer:
    def __init__(self) -> None:
        self.documents: dict[str, Document] = {}
        self.requests: list[tuple[str, dict[str, str], int]] = []  # path, headers, status
        self.arrivals: list[str] = []  # paths, as requests come in (before any answer)
        self.request_seen = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._released = asyncio.Event()

    async def __aenter__(self) -> FeedServer:
        app = web.Application()
        app.router.add_route("GET", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._released.set()
        for document in self.documents.values():
            if document.hold is not None:
                document.hold.set()
        assert self._runner is not None
        await self._runner.cleanup()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def set(self, path: str, body: bytes | str, **options) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.documents[path] = Document(data, **options)
        return self.url(path)

    def hits(self, path: str) -> list[tuple[dict[str, str], int]]:
        return [(headers, status) for p, headers, status in self.requests if p == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        if request.query_string:
            path += "?" + request.query_string
        self.arrivals.append(path)
        document = self.documents.get(path)
        headers = dict(request.headers)
        status = 404 if document is None else document.status
        response = await self._respond(request, document)
        self.requests.append((path, headers, response.status if response else status))
        self.request_seen.set()
        return response

    async def _respond(self, request: web.Request, document: Document | None):
        if document is None:
            return web.Response(status=404, text="not found")
        if document.hold is not None:
            await document.hold.wait()
        headers = dict(document.headers)
        if document.validators and document.status == 200:
            etag = '"' + hashlib.sha1(document.body).hexdigest()[:16] + '"'
            headers["ETag"] = etag
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers=headers)
        if document.trickle:
            response = web.StreamResponse(headers={"Content-Type": document.content_type})
            await response.prepare(request)
            await response.write(document.body[:10])
            with contextlib.suppress(ConnectionError):
                await self._released.wait()
            return response
        body = document.body
        if document.gzip and "gzip" in request.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = document.content_type
        return web.Response(status=document.status, body=body, headers=headers)


# -- documents ---------------------------------------------------------------------------


@dataclass
class Item:
    title: str
    link: str = ""
    guid: str | None = None
    description: str = ""
    content: str = ""  # full HTML content (content:encoded / Atom content)
    date: dt.datetime = dt.datetime(2024, 5, 2, 9, 0, tzinfo=dt.UTC)
    author: str = ""


def rss(items: list[Item], *, title: str = "Test Wire", ttl: int | None = None) -> str:
    entries = []
    for item in items:
        parts = [f"<title>{escape(item.title)}</title>"]
        if item.link:
            parts.append(f"<link>{escape(item.link)}</link>")
        if item.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        parts.append(f"<pubDate>{format_datetime(item.date)}</pubDate>")
        if item.description:
            parts.append(f"<description>{escape(item.description)}</description>")
        if item.content:
            parts.append(f"<content:encoded><![CDATA[{item.content}]]></content:encoded>")
        if item.author:
            parts.append(f"<dc:creator>{escape(item.author)}</dc:creator>")
        entries.append("<item>" + "".join(parts) + "</item>")
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{escape(title)}</title><link>https://news.example.com/</link>"
        f"<description>News</description>{ttl_tag}{''.join(entries)}</channel></rss>"
    )


def atom(items: list[Item], *, title: str = "Atom Wire") -> str:
    entries = []
    for item in items:
        content = f'<content type="html">{escape(item.content)}</content>' if item.content else ""
        entries.append(
            f"<entry><title>{escape(item.title)}</title>"
            f'<link rel="alternate" href="{escape(item.link)}"/>'
            f"<id>{escape(item.guid or item.link)}</id>"
            f"<updated>{item.date.isoformat()}</updated>"
            f"<summary>{escape(item.description)}</summary>{content}"
            f"<author><name>{escape(item.author or 'Staff')}</name></author></entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:test:atom</id>"
        f"<updated>2024-05-02T09:00:00Z</updated>{''.join(entries)}</feed>"
    )


def rdf(items: list[Item], *, title: str = "RDF Wire") -> str:
    """RSS 1.0."""
    seq = "".join(f'<rdf:li rdf:resource="{escape(i.link)}"/>' for i in items)
    entries = "".join(
        f'<item rdf:about="{escape(i.link)}"><title>{escape(i.title)}</title>'
        f"<link>{escape(i.link)}</link><description>{escape(i.description)}</description>"
        f"<dc:date>{i.date.isoformat()}</dc:date></item>"
        for i in items
    )
    return (
        '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<channel rdf:about="https://news.example.com/"><title>{escape(title)}</title>'
        "<link>https://news.example.com/</link><description>News</description>"
        f"<items><rdf:Seq>{seq}</rdf:Seq></items></channel>{entries}</rdf:RDF>"
    )


def article_page(
    title: str, paragraphs: list[str], *, author: str = "Jane Doe", extra_head: str = ""
) -> str:
    """An article page with the furniture real sites have: navigation, ads, a sidebar, a
    footer, around the article."""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    nav = "".join(f'<li><a href="/section/{n}">{n.title()}</a></li>' for n in ("world", "sport"))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{escape(title)} | Test Wire</title>
<meta property="og:title" content="{escape(title)}">
<meta property="og:site_name" content="Test Wire">
<meta name="author" content="{escape(author)}">
<meta property="article:published_time" content="2024-05-02T09:00:00Z">
{extra_head}</head><body>
<header><nav><ul>{nav}<li><a href="/subscribe">Subscribe</a></li></ul></nav></header>
<div class="ad-banner">ADVERTISEMENT: Buy the new SuperPhone today, 50% off!</div>
<main><article><h1>{escape(title)}</h1><p class="byline">By {escape(author)}</p>{body}</article>
<aside class="sidebar"><h3>Most read</h3><ul><li><a href="/x">Celebrity chef opens
a restaurant</a></li></ul></aside></main>
<div class="ad">Sponsored: Cheap flights to anywhere, book now!</div>
<footer><p>© 2024 Test Wire. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>"""
