"""JSON / JSONL records: one article per object, metadata under the usual field names
(see :mod:`.fields`).

A JSON Lines export may be as large as the whole archive, so it is streamed: read line by
line, each line (one record) capped at :data:`MAX_RECORD_BYTES`, and a bad line, whatever is
wrong with it, skips only its own record.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from typing import BinaryIO

from bot.errors import ArticleError

from .fields import article_from_fields, text_value
from .model import Article, SkippedFile, fallback_title
from .normalise import normalise_body

logger = logging.getLogger(__name__)

MAX_RECORD_BYTES = 4 * 1024 * 1024  # one JSONL line; a .json file has the per-file cap
_TEXT_KEYS = ("text", "body", "content")
# Longer record ids (or urls standing for them) are replaced by their hash in the article's
# path, which is stored with every article.
_MAX_KEY_CHARS = 512
_DISCARD_CHUNK = 1024 * 1024
_SNIFF_BYTES = 8000


def read_json(text: str, relpath: str) -> Iterator[Article | SkippedFile]:
    """The records of a ``.json`` file holding one record object or a list of them."""
    data = _parse_json(text)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ArticleError(f"JSON holds {_kind(data)}, expected an object or a list of objects")
    records = _Records(relpath)
    for position, record in enumerate(data, start=1):
        yield records.read(f"{relpath} record {position}", position, record)
    records.finish()


def read_jsonl(stream: BinaryIO, relpath: str) -> Iterator[Article | SkippedFile]:
    """The records of a ``.jsonl`` file, read from ``stream`` one line at a time; a bad line
    skips that record only, and is reported with its line number."""
    if b"\x00" in stream.read(_SNIFF_BYTES):  # as git tells binary files: NULs up front
        raise ArticleError("binary file (contains NUL bytes)")
    stream.seek(0)
    records = _Records(relpath)
    lineno = 0
    for lineno, line in _bounded_lines(stream):
        where = f"{relpath}:{lineno}"
        if isinstance(line, int):
            mb, limit = line / 2**20, MAX_RECORD_BYTES // 2**20
            yield records.skip(where, f"record too large ({mb:.1f} MB, limit {limit} MB)")
            continue
        if lineno == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte order mark
        if not (line := line.rstrip(b"\r\n")).strip():
            continue
        try:
            record = _parse_json(line.decode("utf-8"))
        except UnicodeDecodeError as error:
            byte = f"byte 0x{line[error.start]:02x} at column {error.start + 1}"
            yield records.skip(where, f"not UTF-8 text ({byte})")
        except ArticleError as error:
            yield records.skip(where, str(error))
        else:
            yield records.read(where, lineno, record)
    if not records.count:
        raise ArticleError("whitespace only" if lineno else "empty file")


def _bounded_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | int]]:
    """``(line number, line)`` for each line of ``stream``; a line longer than
    :data:`MAX_RECORD_BYTES` is read past, never held, and given as its length instead."""
    lineno = 0
    while line := stream.readline(MAX_RECORD_BYTES + 1):
        lineno += 1
        if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
            size = len(line)
            while (line := stream.readline(_DISCARD_CHUNK)) and not line.endswith(b"\n"):
                size += len(line)
            yield lineno, size + len(line)
        else:
            yield lineno, line


def _parse_json(text: str) -> object:
    """The JSON value in ``text``, or an ArticleError saying what is wrong with it."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        one_line = "\n" not in text
        at = f"column {error.colno}" if one_line else f"line {error.lineno}, column {error.colno}"
        raise ArticleError(f"invalid JSON at {at}: {error.msg}") from None
    except RecursionError:
        raise ArticleError("invalid JSON: nested too deeply") from None
    except ValueError as error:  # a number with more digits than Python converts (4,300)
        raise ArticleError(f"invalid JSON: {str(error).partition(';')[0]}") from None


class _Records:
    """Turns the records of one file into articles or skips, refusing duplicate keys (they
    would give two articles the same id); one record's failure, whatever it is, costs only
    that record."""

    def __init__(self, relpath: str) -> None:
        self.relpath = relpath
        self.ids: set[str] = set()
        self.count = 0

    def skip(self, where: str, reason: str) -> SkippedFile:
        self.count += 1
        return SkippedFile(self.relpath, f"{where}: {reason}")

    def read(self, where: str, position: int, record: object) -> Article | SkippedFile:
        try:
            article = _record_article(record, self.relpath, position)
        except ArticleError as error:
            return self.skip(where, str(error))
        except Exception as error:
            logger.warning("failed to read %s", where, exc_info=True)
            return self.skip(where, f"could not be read: {type(error).__name__}: {error}")
        if article.id in self.ids:
            return self.skip(where, f"duplicate record id ({article.path})")
        self.count += 1
        self.ids.add(article.id)
        return article

    def finish(self) -> None:
        if not self.count:
            raise ArticleError("no records")


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
    if len(key) > _MAX_KEY_CHARS:
        key = hashlib.sha1(key.encode()).hexdigest()[:12]
    return article_from_fields(
        record, text, f"{relpath}#{key}", default_title=fallback_title(relpath, position)
    )


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(value), f"a {type(value).__name__}"
    )
