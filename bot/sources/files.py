"""Fetched articles as Markdown files in the corpus, where editors see, correct and remove
them and the corpus readers and ``/reload`` take them in like any other file.

A file is front matter (``yaml.safe_dump``: every value quoted and escaped as YAML needs)
and the body, one paragraph per block. Written atomically: a hidden temporary file in the
same folder (the corpus scan skips hidden files), then a rename, so a reload never reads
half a file and a crash leaves the old version or the new one.

The Markdown reader has no escapes; a paragraph that would read as Markdown syntax (a
line starting "# ", "- ", "1. ", "> ", a fence or a rule; a ``[link](…)``, an image, an
autolink) gets a zero-width space where the syntax would start, which the reader's
normalisation removes again: the text reads back as it was written.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.articles.normalise import clean_inline

_BLOCK_START = re.compile(
    r"^(?:\s*(?:#{1,6}\s|[-*+]\s|\d{1,9}[.)]\s|>|```|~~~|\[[^\]]+\]:)|\s*(?:[-*_=]\s*){3,}$)"
)
_INLINE_START = re.compile(r"(?<=\])(?=[(\[])|(?<=\[)(?=\^)|(?<=<)(?=(?:https?|mailto):)")
_GUARD = "\u200b"  # removed by the corpus readers' normalisation
_SLUG_DROP = re.compile(r"[^\w]+")


@dataclass(frozen=True, slots=True)
class ArticleDraft:
    """An article about to be written: what the front matter and the body will say.

    ``origin`` names where it came from (feed, guid, channel, …): front matter fields the
    readers ignore, for editors."""

    title: str
    paragraphs: tuple[str, ...]
    url: str = ""
    source: str = ""
    date: dt.date | None = None
    author: str = ""
    tags: tuple[str, ...] = ()
    language: str = ""
    partial: bool = False  # the feed's summary only: the page could not be had in full
    origin: dict[str, str] = field(default_factory=dict)

    @property
    def words(self) -> int:
        return sum(len(p.split()) for p in self.paragraphs)


def render_markdown(draft: ArticleDraft) -> str:
    # The reader normalises the title as it does every line (invisible characters go): a
    # title that is nothing but those would read back empty, so it is written as "Untitled".
    fields: dict[str, object] = {"title": clean_inline(draft.title) or "Untitled"}
    for name in ("date", "source", "url", "author", "language"):
        if value := getattr(draft, name):
            fields["lang" if name == "language" else name] = value
    if draft.tags:
        fields["tags"] = list(draft.tags)
    if draft.partial:
        fields["partial"] = True
    fields.update(draft.origin)
    front = yaml.safe_dump(fields, allow_unicode=True, sort_keys=False, width=1_000_000)
    body = "\n\n".join(protect_markdown(p) for p in draft.paragraphs)
    return f"---\n{front}---\n\n{body}\n"


def protect_markdown(paragraph: str) -> str:
    """``paragraph`` (one line of plain text) so that the Markdown reader keeps it as is."""
    paragraph = _INLINE_START.sub(_GUARD, paragraph)
    return _GUARD + paragraph if _BLOCK_START.match(paragraph) else paragraph


def write_article(corpus_dir: Path, relpath: str, draft: ArticleDraft) -> None:
    """Write (or replace) ``corpus_dir/relpath`` atomically."""
    path = corpus_dir / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        temporary.write_text(render_markdown(draft), encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def remove_article(corpus_dir: Path, relpath: str) -> bool:
    """Delete an article file (``--purge``); False if it was already gone."""
    try:
        (corpus_dir / relpath).unlink()
    except FileNotFoundError:
        return False
    return True


def slug(text: str, limit: int = 60) -> str:
    """A file-name part: lower case, words joined by "-", at most ``limit`` characters."""
    words = _SLUG_DROP.sub("-", text.casefold()).strip("-_")
    return words[:limit].rstrip("-_") or "untitled"
