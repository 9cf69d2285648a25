"""Reading a fetched feed document into plain data, and finding a page's feed.

RSS 0.9x/1.0 (RDF)/2.0 and Atom are parsed by feedparser, given the bytes (it never
fetches anything itself here). JSON Feed (jsonfeed.org, versions 1 and 1.1), which
feedparser does not read, is a JSON object with a documented handful of fields, read here
with ``json``. Feed HTML (descriptions, ``content:encoded``) becomes paragraphs of plain
text with lxml. A page given instead of a feed is searched for its
``<link rel="alternate">`` feeds with trafilatura's feed finder.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

import feedparser
import lxml.etree
import lxml.html

from bot.articles.dates import parse_date
from bot.articles.html import trafilatura_module
from bot.articles.normalise import clean_inline, split_paragraphs
from bot.errors import NotASource

log = logging.getLogger(__name__)

_JSON_FEED = "https://jsonfeed.org/version/"
_BLOCKS = (
    "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "section", "article", "header", "footer", "figcaption", "table", "tr", "dd", "dt", "hr",
)  # fmt: skip
_DROPPED = ("script", "style", "noscript", "iframe", "object", "embed", "form", "button")


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry as the feed gives it, as plain text."""

    guid: str = ""
    link: str = ""
    title: str = ""
    published: dt.date | None = None
    author: str = ""
    summary: tuple[str, ...] = ()  # paragraphs
    content: tuple[str, ...] = ()  # paragraphs of the full content, when the feed has it
    tags: tuple[str, ...] = ()

    @property
    def digest(self) -> str:
        """Changes whenever anything the feed says about the entry changes."""
        fields = asdict(self)
        fields["published"] = self.published.isoformat() if self.published else None
        return hashlib.sha1(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    site_url: str
    language: str
    ttl: float | None  # seconds the feed asks readers to wait (RSS <ttl>)
    items: list[FeedItem]
    format: str  # "rss20", "atom10", "rss10", "json1", …
    warning: str = ""  # a recoverable problem (a feed that is not well-formed but readable)


def html_paragraphs(markup: str) -> tuple[str, ...]:
    """The text of an HTML fragment, one paragraph per block element."""
    if "<" not in markup:
        return tuple(split_paragraphs(markup))
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return ()
    for element in list(root.iter(*_DROPPED)):
        element.drop_tree()
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for element in root.iter(*_BLOCKS):
        element.text = "\n\n" + (element.text or "")
        element.tail = "\n\n" + (element.tail or "")
    return tuple(split_paragraphs(root.text_content()))


def parse_feed(body: bytes, url: str, content_type: str = "") -> ParsedFeed:
    """The feed in ``body``, or :class:`NotASource` saying why there is none."""
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body)
    parsed = feedparser.parse(
        body,
        response_headers={"content-location": url, "content-type": content_type or "text/xml"},
        sanitize_html=True,
        resolve_relative_uris=True,
    )
    if not parsed.entries and (parsed.bozo or not parsed.version):
        if looks_like_html(body, content_type) or (not parsed.version and not parsed.bozo):
            raise NotASource("not a feed (no RSS, Atom or JSON Feed document)")
        raise NotASource(f"malformed feed: {_bozo(parsed)}")
    channel = parsed.feed
    items = [_feedparser_item(entry) for entry in parsed.entries]
    return ParsedFeed(
        title=clean_inline(channel.get("title", "")),
        site_url=channel.get("link", ""),
        language=channel.get("language", ""),
        ttl=_ttl(channel.get("ttl")),
        items=items,
        format=parsed.version or "unknown",
        warning=f"not well-formed: {_bozo(parsed)}" if parsed.bozo else "",
    )


def _bozo(parsed) -> str:
    error = parsed.get("bozo_exception")
    return " ".join(str(error).split())[:200] if error else "unreadable"


def _ttl(value: object) -> float | None:
    text = str(value or "").strip()
    return float(text) * 60 if text.isdigit() else None


def _feedparser_item(entry) -> FeedItem:
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    published = dt.datetime.fromtimestamp(calendar.timegm(stamp), dt.UTC).date() if stamp else None
    contents = [c.get("value", "") for c in entry.get("content", []) if c.get("value")]
    summary = entry.get("summary", "")
    content = html_paragraphs(max(contents, key=len)) if contents else ()
    summary_text = html_paragraphs(summary)
    if content == summary_text:  # RSS 2.0 without content:encoded repeats the description
        content = ()
    tags = tuple(
        t for t in (clean_inline(tag.get("term") or "") for tag in entry.get("tags", [])) if t
    )
    return FeedItem(
        guid=clean_inline(entry.get("id", "")),
        link=entry.get("link", "").strip(),
        title=clean_inline(_plain(entry.get("title", ""))),
        published=published,
        author=clean_inline(entry.get("author", "")),
        summary=summary_text,
        content=content,
        tags=tuple(dict.fromkeys(tags)),
    )


def _plain(text: str) -> str:
    return " ".join(html_paragraphs(text)) if "<" in text else text


def _looks_like_json(body: bytes, content_type: str) -> bool:
    return "json" in content_type.lower() or body.lstrip()[:1] == b"{"


def _parse_json_feed(body: bytes) -> ParsedFeed:
    """JSON Feed 1.0/1.1: ``items`` with ``id``, ``url``, ``title``, ``content_html`` or
    ``content_text``, ``summary``, ``date_published``, ``authors``/``author``, ``tags``."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise NotASource(f"malformed JSON feed: {error}") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(_JSON_FEED):
        raise NotASource("not a feed (JSON, but not a JSON Feed document)")
    items = [_json_item(raw) for raw in data.get("items") or [] if isinstance(raw, dict)]
    version = str(data["version"]).removeprefix(_JSON_FEED)
    return ParsedFeed(
        title=clean_inline(_string(data.get("title"))),
        site_url=_string(data.get("home_page_url")),
        language=_string(data.get("language")),
        ttl=None,
        items=items,
        format=f"json{version}",
    )


def _string(value: object) -> str:
    return value if isinstance(value, str) else str(value) if isinstance(value, int) else ""


def _json_item(raw: dict) -> FeedItem:
    authors = raw.get("authors") if isinstance(raw.get("authors"), list) else [raw.get("author")]
    names = [clean_inline(_string(a.get("name"))) for a in authors if isinstance(a, dict)]
    if raw.get("content_html"):
        content = html_paragraphs(_string(raw["content_html"]))
    else:
        content = tuple(split_paragraphs(_string(raw.get("content_text"))))
    summary = tuple(split_paragraphs(_string(raw.get("summary"))))
    tags = raw.get("tags") if isinstance(raw.get("tags"), list) else []
    return FeedItem(
        guid=clean_inline(_string(raw.get("id"))),
        link=_string(raw.get("url") or raw.get("external_url")).strip(),
        title=clean_inline(_string(raw.get("title"))),
        published=parse_date(_string(raw.get("date_published") or raw.get("date_modified"))),
        author=", ".join(n for n in names if n),
        summary=summary,
        content=content,
        tags=tuple(dict.fromkeys(t for t in map(clean_inline, map(_string, tags)) if t)),
    )


_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)", re.I | re.S)


def looks_like_html(body: bytes, content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("text/html", "application/xhtml+xml") or bool(_HTML_START.match(body[:2048]))


def discover_feeds(html: str, page_url: str) -> list[str]:
    """The feeds a page announces (``<link rel="alternate" type="application/rss+xml">``
    and the like), as absolute URLs, best first."""
    trafilatura = trafilatura_module()
    if isinstance(trafilatura, str):
        raise NotASource(f"cannot search the page for its feed: {trafilatura}")
    from trafilatura.feeds import FeedParameters, determine_feed

    host = urlsplit(page_url).hostname or ""
    return determine_feed(html, FeedParameters(page_url, host, page_url))
