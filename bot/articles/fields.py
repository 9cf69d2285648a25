"""Metadata fields to an article: the mapping that Markdown front matter and JSON records
share, so both formats accept the same field names and value shapes."""

from __future__ import annotations

from collections.abc import Mapping

from .dates import parse_date
from .model import Article, article_id
from .normalise import clean_inline

_TOPIC_KEYS = ("topics", "tags", "category", "categories")
# How much text one list-valued field may produce while being converted, so that the work
# stays bounded whatever the list holds (the article's own caps, far lower, come after).
MAX_FIELD_CHARS = 10_000


def article_from_fields(
    fields: Mapping[str, object], text: str, location: str, default_title: str
) -> Article:
    """An article from metadata ``fields`` (title, date, source, url/link, author,
    topics/tags/category, language/lang) and an already normalised body ``text``;
    ``default_title`` when the fields name no title."""
    return Article(
        id=article_id(location),
        title=text_value(fields.get("title")) or default_title,
        text=text,
        source=text_value(fields.get("source")),
        date=parse_date(fields.get("date")),
        url=text_value(fields.get("url")) or text_value(fields.get("link")),
        author=text_value(fields.get("author")),
        topics=topics_value(fields),
        path=location,
        language=text_value(fields.get("language")) or text_value(fields.get("lang")),
    )


def text_value(value: object, limit: int = MAX_FIELD_CHARS) -> str:
    """A display string for a scalar or list-of-scalars field value; "" for anything else.
    A list stops being read once ``limit`` characters are reached."""
    if isinstance(value, list):
        parts: list[str] = []
        for item in value:
            if limit <= 0:
                break
            if part := text_value(item, limit):
                parts.append(part)
                limit -= len(part) + 2
        return ", ".join(parts)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return clean_inline(str(value))


def topics_value(fields: Mapping[str, object]) -> tuple[str, ...]:
    """Topics from every topic-like field, as a list or a comma-separated string."""
    topics: dict[str, None] = {}  # ordered, and linear however many topics a record lists
    for key in _TOPIC_KEYS:
        value = fields.get(key)
        parts = value.split(",") if isinstance(value, str) else value
        if isinstance(parts, list):
            topics.update((t, None) for t in map(text_value, parts) if t)
    return tuple(topics)
