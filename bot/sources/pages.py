"""An article page, fetched, as plain data: its main text and metadata, and whether it is
a paywall teaser.

Extraction is the corpus's own HTML reader (``bot.articles.html.read_html``, trafilatura's
main-content extraction), so a page fetched by link reads exactly as the same page saved
into the corpus would.

A teaser is recognised by what paywalled sites publish for search engines (schema.org
``isAccessibleForFree: false``, an ``article:content_tier`` of locked or metered) or by a
short text ending in a subscription notice; a teaser is never taken for the article.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.articles.html import read_html
from bot.errors import ArticleError, NotASource

TEASER_WORDS = 250  # a text this short that ends in a subscription notice is a teaser
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)
_PAYWALL_MARKUP = re.compile(
    r""""isAccessibleForFree"\s*:\s*"?false"?"""
    r"""|<meta[^>]+(?:property|name)\s*=\s*["']article:content_tier["'][^>]+"""
    r"""content\s*=\s*["'](?:locked|metered)["']""",
    re.IGNORECASE,
)
_PAYWALL_NOTICE = re.compile(
    r"subscribe (?:now |today )?to (?:continue|read|keep reading|unlock)"
    r"|(?:for|to) (?:paying )?subscribers only|subscribers? only"
    r"|already a (?:subscriber|member)|to continue reading|continue reading with"
    r"|(?:sign|log) in to (?:continue|read|keep reading)"
    r"|create a free account to|become a (?:member|subscriber) to"
    r"|unlock (?:this|the full) (?:article|story)|this (?:article|story) is for subscribers",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Page:
    url: str
    title: str
    paragraphs: tuple[str, ...]
    date: dt.date | None = None
    author: str = ""
    site: str = ""
    language: str = ""
    tags: tuple[str, ...] = ()
    teaser: bool = False  # a paywall teaser: ``paragraphs`` are not the article

    @property
    def words(self) -> int:
        return sum(len(p.split()) for p in self.paragraphs)


def decode_html(body: bytes, content_type: str) -> str:
    """The page's text: the charset of the Content-Type, else of a ``<meta>``, else UTF-8
    (undecodable bytes replaced: a page is read for its text, not kept byte for byte)."""
    charset = ""
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset":
            charset = value.strip("\"' ")
    if not charset and (match := _CHARSET.search(body[:4096])):
        charset = match[1].decode("ascii", "replace")
    try:
        return body.decode(charset or "utf-8", "replace")
    except LookupError:  # an encoding Python does not know
        return body.decode("utf-8", "replace")


def extract_page(body: bytes, url: str, content_type: str = "") -> Page:
    """The article on a page, or :class:`NotASource` when it has no main text."""
    html = decode_html(body, content_type)
    try:
        article = read_html(html, "untitled.html")  # no title found: "untitled"
    except ArticleError as error:
        raise NotASource(f"no article on the page: {error}") from None
    paragraphs = tuple(article.paragraphs)
    return Page(
        url=article.url or url,
        title=article.title,
        paragraphs=paragraphs,
        date=article.date,
        author=article.author,
        site=article.source,
        language=article.language,
        tags=article.topics,
        teaser=is_teaser(html, paragraphs),
    )


def is_teaser(html: str, paragraphs: tuple[str, ...]) -> bool:
    if _PAYWALL_MARKUP.search(html):
        return True
    words = sum(len(p.split()) for p in paragraphs)
    return words < TEASER_WORDS and any(_PAYWALL_NOTICE.search(p) for p in paragraphs[-3:])


def without_notices(paragraphs: tuple[str, ...]) -> tuple[str, ...]:
    """The paragraphs of a teaser that are not the subscription notice."""
    return tuple(p for p in paragraphs if not _PAYWALL_NOTICE.search(p))
