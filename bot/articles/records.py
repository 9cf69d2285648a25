"""JSON / JSONL records: one article per object, metadata under the usual field names.

Also home of :func:`article_from_fields`, the mapping-to-article step that Markdown front
matter shares, so both formats accept the same field names and value shapes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import PurePosixPath

from .dates import parse_date
from .model import Article, ArticleError, SkippedFile, article_id
from .plaintext import clean_inline, normalise_body

_TEXT_KEYS = ("text", "body", "content")
_TOPIC_KEYS = ("topics", "tags", "category", "categories")


def read_json(text: str, relpath: str) -> tuple[list[Article], list[SkippedFile]]:
    """A ``.json`` file holding one record object or a list of them."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ArticleError(
            f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ArticleError(f"JSON holds {_kind(data)}, expected an object or a list of objects")
    records = _Records(relpath)
    for position, record in enumerate(data, start=1):
        records.add(f"{relpath} record {position}", position, record)
    return records.result()


def read_jsonl(text: str, relpath: str) -> tuple[list[Article], list[SkippedFile]]:
    """A ``.jsonl`` file, one record per line; a bad line skips that record only."""
    records = _Records(relpath)
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{relpath}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            records.skip(where, f"invalid JSON (column {error.colno}: {error.msg})")
            continue
        records.add(where, lineno, record)
    return records.result()


class _Records:
    """Collects the articles and skipped records of one file, refusing duplicate keys
    (they would give two articles the same id)."""

    def __init__(self, relpath: str) -> None:
        self.relpath = relpath
        self.articles: list[Article] = []
        self.skipped: list[SkippedFile] = []
        self.ids: set[str] = set()

    def skip(self, where: str, reason: str) -> None:
        self.skipped.append(SkippedFile(self.relpath, f"{where}: {reason}"))

    def add(self, where: str, position: int, record: object) -> None:
        try:
            article = _record_article(record, self.relpath, position)
        except ArticleError as error:
            self.skip(where, str(error))
            return
        if article.id in self.ids:
            self.skip(where, f"duplicate record id ({article.path})")
            return
        self.ids.add(article.id)
        self.articles.append(article)

    def result(self) -> tuple[list[Article], list[SkippedFile]]:
        if not self.articles and not self.skipped:
            raise ArticleError("no records")
        return self.articles, self.skipped


def _record_article(record: object, relpath: str, position: int) -> Article:
    if not isinstance(record, dict):
        raise ArticleError(f"record is {_kind(record)}, expected an object")
    key = next((_string(record[k]) for k in ("id", "_id") if _string(record.get(k))), "")
    # Without an id, the url or the title and date name the record: never its position,
    # which shifts when a feed gains a record at the top.
    key = key or _string(record.get("url")) or _string(record.get("link"))
    body = next((record[k] for k in _TEXT_KEYS if record.get(k)), None)
    if isinstance(body, list) and all(isinstance(part, str) for part in body):
        body = "\n\n".join(body)
    if not isinstance(body, str) or not (text := normalise_body(body)):
        raise ArticleError(f"record has no text (expected a {'/'.join(_TEXT_KEYS)} string)")
    title = _string(record.get("title"))
    identity = f"{title}\0{_string(record.get('date'))}" if title else text[:500]
    key = key or hashlib.sha1(identity.encode()).hexdigest()[:12]
    stem = PurePosixPath(relpath).stem
    return article_from_fields(
        record, text, f"{relpath}#{key}", fallback_title=f"{stem} {position}"
    )


def article_from_fields(
    fields: Mapping[str, object], text: str, location: str, fallback_title: str
) -> Article:
    """An article from metadata ``fields`` (title, date, source, url/link, author,
    topics/tags/category) and an already normalised body ``text``."""
    return Article(
        id=article_id(location),
        title=_string(fields.get("title")) or fallback_title,
        text=text,
        source=_string(fields.get("source")),
        date=parse_date(fields.get("date")),
        url=_string(fields.get("url")) or _string(fields.get("link")),
        author=_string(fields.get("author")),
        topics=_topics(fields),
        path=location,
    )


def _string(value: object) -> str:
    """A display string for a scalar or list-of-scalars field value; "" for anything else."""
    if isinstance(value, list):
        return ", ".join(filter(None, map(_string, value)))
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return clean_inline(str(value))


def _topics(fields: Mapping[str, object]) -> tuple[str, ...]:
    """Topics from every topic-like field, as a list or a comma-separated string."""
    topics: list[str] = []
    for key in _TOPIC_KEYS:
        value = fields.get(key)
        parts = value.split(",") if isinstance(value, str) else value
        if isinstance(parts, list):
            topics += [t for t in map(_string, parts) if t and t not in topics]
    return tuple(topics)


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(value), f"a {type(value).__name__}"
    )
