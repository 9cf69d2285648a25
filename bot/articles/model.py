"""What an article is once read from disk, whatever its file format."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from .languages import ISO_639_1, language_code

# Caps on the fields that are shown in every citation or repeated per passage (a title is
# indexed with each of its article's passages): one record with a 300,000-word title must
# cost no more than any other article.
MAX_TITLE_CHARS = 300
MAX_SOURCE_CHARS = 200
MAX_AUTHOR_CHARS = 200
MAX_TOPICS = 20
MAX_TOPIC_CHARS = 100  # as long as a reader's subscription topic may be
MAX_URL_CHARS = 2048  # longer links are dropped, since a cut link leads nowhere


@dataclass(frozen=True, slots=True)
class Article:
    """One article of the corpus.

    ``text`` holds the body only (no title, no boilerplate); paragraphs are separated by a
    blank line (``"\\n\\n"``), and passages point into it by character offsets.
    """

    id: str
    title: str
    text: str
    source: str = ""
    date: dt.date | None = None
    url: str = ""
    author: str = ""
    topics: tuple[str, ...] = ()
    path: str = ""  # file path relative to the corpus directory ("file.jsonl#3" for records)
    language: str = ""  # ISO 639-1 code from the article's metadata ("en"); "" when unknown

    def __post_init__(self) -> None:
        # Every article passes here, whatever its origin (file, feed, stored index), so the
        # caps, the url rule and the language code hold for all of them. Plain checks first:
        # this runs for every article of the archive, and almost all of them pass.
        if len(self.title) > MAX_TITLE_CHARS:
            object.__setattr__(self, "title", shorten(self.title, MAX_TITLE_CHARS))
        if len(self.source) > MAX_SOURCE_CHARS:
            object.__setattr__(self, "source", shorten(self.source, MAX_SOURCE_CHARS))
        if len(self.author) > MAX_AUTHOR_CHARS:
            object.__setattr__(self, "author", shorten(self.author, MAX_AUTHOR_CHARS))
        if self.topics and (
            len(self.topics) > MAX_TOPICS or max(map(len, self.topics)) > MAX_TOPIC_CHARS
        ):
            # A "topic" longer than a subscription topic may be is a sentence, not a tag.
            kept = [t for t in self.topics if len(t) <= MAX_TOPIC_CHARS]
            object.__setattr__(self, "topics", tuple(kept[:MAX_TOPICS]))
        # Links go into buttons and <a href>: Telegram refuses a whole message for one relative
        # or bare URL ("/news/1", "www.x.com"), so only absolute web URLs are kept.
        if self.url and (len(self.url) > MAX_URL_CHARS or not is_web_url(self.url)):
            object.__setattr__(self, "url", "")
        if self.language and self.language not in ISO_639_1:
            object.__setattr__(self, "language", language_code(self.language))

    @property
    def paragraphs(self) -> list[str]:
        return self.text.split("\n\n")


def shorten(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else cut at a word boundary with "…"
    (mid-word only when the text has no space in the second half of what fits)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " ":  # the cut falls inside a word
        head, space, _ = cut.rpartition(" ")
        if space and len(head) >= limit // 2:
            cut = head
    return cut.rstrip(" ,;:–—-") + "…"


def is_web_url(url: str) -> bool:
    parsed = urlsplit(url)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc) and " " not in url


def article_id(key: str) -> str:
    """Stable, short id for an article from its location (relative path, record key).

    Short so that it fits in Telegram callback data (64 bytes) with room to spare, and
    derived from the location rather than the content so that an edited article keeps its id.
    """
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def fallback_title(relpath: str, position: int | None = None) -> str:
    """The title of an article whose file names none: the file name ("council_vote.md" →
    "council vote"), with the record's position for a file holding several records."""
    name = PurePosixPath(relpath).stem.replace("_", " ")
    return name if position is None else f"{name} {position}"


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A corpus file that could not be read, and why (shown to editors, never raised)."""

    path: str
    reason: str


@dataclass(slots=True)
class CorpusScan:
    """Result of reading a corpus directory."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
