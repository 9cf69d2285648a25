"""What an article is once read from disk, whatever its file format."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import urlsplit


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

    def __post_init__(self) -> None:
        # Links go into buttons and <a href>: Telegram refuses a whole message for one relative
        # or bare URL ("/news/1", "www.x.com"), so only absolute web URLs are kept.
        if self.url and not is_web_url(self.url):
            object.__setattr__(self, "url", "")

    @property
    def paragraphs(self) -> list[str]:
        return self.text.split("\n\n")


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


class ArticleError(ValueError):
    """Raised by a format reader when a file cannot become an article; the message is
    the human-readable reason that ends up in a :class:`SkippedFile`."""
