"""Which archived entry a feed item is (dedupe keys), and what article it becomes.

Keys: the item's guid (Atom id, RSS guid, JSON Feed id), else its canonical link, else a
hash of its title and date, prefixed by which it is ("guid:", "link:", "hash:"). Feeds
that give several different items the same guid exist (a CMS that uses the site's URL for
every guid, a feed that reuses ids), and readers that key on the guid alone show one of
them and lose the rest; here the items sharing a key within one document get the key plus
a hash of what tells them apart (the link, else the title and date), and a stored entry is
matched by that longer key, or by the short one when its link agrees. An item whose guid
is unique keeps its entry whatever else changes: an entry edited in place (a new title, a
corrected text) updates its article instead of making a new one.

Full text: the feed's own content when it is the whole article (long enough, not cut off
with "…" or "Read more"); otherwise the linked page, through the corpus's HTML reader;
a page that fails or is a paywall teaser leaves the feed's text, marked partial.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.store import FeedEntry

from .feeds import FeedItem
from .files import ArticleDraft, slug
from .pages import Page, without_notices

FULL_CONTENT_WORDS = 150  # feed content at least this long, and not cut off, is the article
_CUT_OFF = re.compile(
    r"(?:…|\.\.\.|\[…\]|\[\.\.\.\]|read more|continue reading|read the full (?:story|article))"
    r"\W*$",
    re.IGNORECASE,
)
_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid")


def canonical_link(url: str) -> str:
    """``url`` without its fragment, tracking parameters, default port, and with its scheme
    and host in lower case: two spellings of one link give one key."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return url.strip()
    host = parts.hostname
    if port and port != {"http": 80, "https": 443}[parts.scheme]:
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.lower().startswith(_TRACKING)]  # fmt: skip
    return urlunsplit((parts.scheme, host, parts.path or "/", urlencode(query), ""))


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _title_date(item: FeedItem) -> str:
    return f"{item.title}\0{item.published.isoformat() if item.published else ''}"


def primary_key(item: FeedItem) -> str:
    if item.guid:
        return f"guid:{item.guid}"
    if item.link:
        return f"link:{canonical_link(item.link)}"
    return f"hash:{_short_hash(_title_date(item))}"


def _discriminator(item: FeedItem) -> str:
    """What tells apart items sharing a primary key."""
    if item.guid and item.link:
        return _short_hash(canonical_link(item.link))
    return _short_hash(_title_date(item))


@dataclass(frozen=True, slots=True)
class KeyedItem:
    item: FeedItem
    key: str
    stored: FeedEntry | None  # the archived entry it is, if any


def assign_keys(items: list[FeedItem], stored: list[FeedEntry]) -> list[KeyedItem]:
    """Each item of one feed document with its key and its archived entry. Items that end
    up with one key are one item said twice (the same guid, link, title and date): the
    first is kept."""
    by_key = {entry.key: entry for entry in stored}
    counts = Counter(primary_key(item) for item in items)
    keyed: dict[str, KeyedItem] = {}
    for item in items:
        primary = primary_key(item)
        long_key = f"{primary}#{_discriminator(item)}"
        if counts[primary] == 1:  # stored under the long key while its guid was shared?
            key = long_key if long_key in by_key else primary
        else:
            plain = by_key.get(primary)
            same_link = plain is not None and plain.link == canonical_link(item.link)
            key = primary if same_link and long_key not in by_key else long_key
        if key not in keyed:
            keyed[key] = KeyedItem(item, key, by_key.get(key))
    return list(keyed.values())


def entry_path(folder: str, item: FeedItem, key: str) -> str:
    """Where a new entry's article goes: readable for editors, unique by the key's hash."""
    day = item.published.isoformat() if item.published else "undated"
    return f"{folder}/{day}-{slug(item.title or 'untitled', 50)}-{_short_hash(key)[:8]}.md"


def needs_page(item: FeedItem) -> bool:
    """Whether the feed's own text falls short of the article, so the page is fetched."""
    if not item.link:
        return False
    text = item.content or item.summary
    words = sum(len(p.split()) for p in text)
    return words < FULL_CONTENT_WORDS or bool(text and _CUT_OFF.search(text[-1]))


def compose(
    item: FeedItem, page: Page | None, *, feed_title: str, language: str, origin: dict[str, str]
) -> ArticleDraft | None:
    """The article an item becomes (None when neither the feed nor the page has any text):
    the page's text when it was fetched and is the article, else the feed's, partial when
    the page was wanted but could not be had in full."""
    feed_text = item.content or item.summary
    use_page = page is not None and not page.teaser and page.words >= _words(feed_text)
    partial = needs_page(item) and not use_page
    paragraphs = page.paragraphs if use_page and page is not None else feed_text
    if not paragraphs and page is not None:  # a teaser and an empty feed entry: its lede
        paragraphs = without_notices(page.paragraphs)
    if not paragraphs:
        return None
    title = item.title or (page.title if page else "") or paragraphs[0][:120]
    return ArticleDraft(
        title=title,
        paragraphs=tuple(paragraphs),
        url=item.link or (page.url if page else ""),
        source=feed_title or (page.site if page else ""),
        date=item.published or (page.date if page else None),
        author=item.author or (page.author if page else ""),
        tags=item.tags or (page.tags if page else ()),
        language=(page.language if use_page and page else "") or language,
        partial=partial,
        origin=origin,
    )


def _words(paragraphs: tuple[str, ...]) -> int:
    return sum(len(p.split()) for p in paragraphs)
