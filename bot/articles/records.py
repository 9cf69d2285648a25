"""JSON / JSONL records: one article per object, metadata under the usual field names
(see :mod:`.fields`)."""

from __future__ import annotations

import hashlib
import json

from .fields import article_from_fields, text_value
from .model import Article, ArticleError, SkippedFile, fallback_title
from .normalise import normalise_body

_TEXT_KEYS = ("text", "body", "content")


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
    key = next((text_value(record[k]) for k in ("id", "_id") if text_value(record.get(k))), "")
    # Without an id, the url or the title and date name the record: never its position,
    # which shifts when a feed gains a record at the top.
    key = key or text_value(record.get("url")) or text_value(record.get("link"))
    body = next((record[k] for k in _TEXT_KEYS if record.get(k)), None)
    if isinstance(body, list) and all(isinstance(part, str) for part in body):
        body = "\n\n".join(body)
    if not isinstance(body, str) or not (text := normalise_body(body)):
        raise ArticleError(f"record has no text (expected a {'/'.join(_TEXT_KEYS)} string)")
    title = text_value(record.get("title"))
    identity = f"{title}\0{text_value(record.get('date'))}" if title else text[:500]
    key = key or hashlib.sha1(identity.encode()).hexdigest()[:12]
    return article_from_fields(
        record, text, f"{relpath}#{key}", default_title=fallback_title(relpath, position)
    )


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(value), f"a {type(value).__name__}"
    )
