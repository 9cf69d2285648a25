"""Metadata fields to an article: the mapping that Markdown front matter and JSON records
share, so both formats accept the same field names and value shapes."""

from __future__ import annotations

from collections.abc import Mapping

from .dates import parse_date
from .model import Article, article_id
from .normalise import clean_inline

_TOPIC_KEYS = ("topics", "tags", "category", "categories")


def article_from_fields(
    fields: Mapping[str, object], text: str, location: str, default_title: str
) -> Article:
    """An article from metadata ``fields`` (title, date, source, url/link, author,
    topics/tags/category) and an already normalised body ``text``; ``default_title`` when
    the fields name no title."""
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
    )


def text_value(value: object) -> str:
    """A display string for a scalar or list-of-scalars field value; "" for anything else."""
    if isinstance(value, list):
        return ", ".join(filter(None, map(text_value, value)))
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return clean_inline(str(value))


def topics_value(fields: Mapping[str, object]) -> tuple[str, ...]:
    """Topics from every topic-like field, as a list or a comma-separated string."""
    topics: list[str] = []
    for key in _TOPIC_KEYS:
        value = fields.get(key)
        parts = value.split(",") if isinstance(value, str) else value
        if isinstance(parts, list):
            topics += [t for t in map(text_value, parts) if t and t not in topics]
    return tuple(topics)
