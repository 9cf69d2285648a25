"""The index catalog (SQLite): the committed generation, and what each corpus file gave.

The catalog is the commit point. A commit is one SQLite transaction that records the new
generation together with the state of the files it took in (size, mtime, content digest, skip
reasons) and the articles it added or removed (id, file, content digest, the generation that
added it), so a crash anywhere before it leaves the previous generation served and nothing
half-visible, and a crash after it loses nothing. Segment and generation files are written and
synced before the commit names them.

Change detection reads only this: a file whose size and mtime match its record is unchanged
without being opened; one whose digest matches is unchanged without being parsed; in a changed
file, records whose content digest matches are unchanged without being analysed.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.articles.model import SkippedFile
from bot.search.generation import Generation
from bot.store.db import StoreConnection, migrate, query, transaction

MIGRATIONS = [
    (
        "0001_catalog",
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        -- Committed generations; the highest is the one served.
        CREATE TABLE generations (number INTEGER PRIMARY KEY, manifest TEXT NOT NULL);
        CREATE TABLE files (
            path     TEXT    PRIMARY KEY,
            size     INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            digest   TEXT    NOT NULL,
            skipped  TEXT    NOT NULL DEFAULT '[]'  -- JSON [[path, reason], ...]
        );
        CREATE TABLE articles (
            id     TEXT    PRIMARY KEY,
            file   TEXT    NOT NULL,
            digest TEXT    NOT NULL,  -- of every field: a change means the article changed
            added  INTEGER NOT NULL,  -- generation that added this version
            title  TEXT    NOT NULL
        );
        CREATE INDEX articles_file ON articles (file);
        CREATE INDEX articles_added ON articles (added);
        """,
    ),
]


@dataclass(frozen=True, slots=True)
class FileState:
    path: str
    size: int
    mtime_ns: int
    digest: str
    skipped: tuple[SkippedFile, ...] = ()


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    id: str
    file: str
    digest: str
    added: int
    title: str


class Catalog:
    """One process's connection to the catalog at ``path``."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(path),
            factory=StoreConnection,
            isolation_level=None,
            check_same_thread=False,
            timeout=30.0,
        )
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA synchronous=FULL")  # a commit is the index's durability point
            migrate(conn, MIGRATIONS)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def close(self) -> None:
        self._conn.close()

    # -- identity ---------------------------------------------------------------------------

    def settings(self) -> dict[str, str]:
        return {row["key"]: row["value"] for row in query(self._conn, "SELECT * FROM meta")}

    def initialise(self, analysis: str) -> str:
        """Record what the index's segments were analysed with; returns its new identity."""
        identity = uuid.uuid4().hex
        with transaction(self._conn) as conn:
            for key, value in (("identity", identity), ("analysis", analysis)):
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
        return identity

    # -- reading ----------------------------------------------------------------------------

    def current(self) -> Generation | None:
        rows = query(self._conn, "SELECT manifest FROM generations ORDER BY number DESC LIMIT 1")
        return Generation.from_json(rows[0]["manifest"]) if rows else None

    def generations(self) -> list[Generation]:
        rows = query(self._conn, "SELECT manifest FROM generations ORDER BY number")
        return [Generation.from_json(row["manifest"]) for row in rows]

    def files(self) -> dict[str, FileState]:
        return {
            row["path"]: FileState(
                row["path"],
                row["size"],
                row["mtime_ns"],
                row["digest"],
                tuple(SkippedFile(*pair) for pair in json.loads(row["skipped"])),
            )
            for row in query(self._conn, "SELECT * FROM files")
        }

    def articles_of(self, files: Iterable[str]) -> dict[str, ArticleRecord]:
        """The articles recorded for ``files``, by id."""
        out: dict[str, ArticleRecord] = {}
        for file in files:
            for row in query(self._conn, "SELECT * FROM articles WHERE file = ?", (file,)):
                out[row["id"]] = ArticleRecord(**dict(row))
        return out

    def article_count(self) -> int:
        return query(self._conn, "SELECT COUNT(*) FROM articles")[0][0]

    def added_since(self, generation: int) -> list[ArticleRecord]:
        """Articles whose current version a generation after ``generation`` added."""
        rows = query(
            self._conn, "SELECT * FROM articles WHERE added > ? ORDER BY added", (generation,)
        )
        return [ArticleRecord(**dict(row)) for row in rows]

    # -- committing -------------------------------------------------------------------------

    def commit(
        self,
        generation: Generation | None,
        files: Sequence[FileState] = (),
        removed_files: Sequence[str] = (),
        articles: Sequence[ArticleRecord] = (),
        removed_articles: Sequence[str] = (),
    ) -> None:
        """Make ``generation`` the served one, with the file and article changes it carries
        (``None``: only file records change, e.g. a file touched but not edited)."""
        with transaction(self._conn) as conn:
            if generation is not None:
                conn.execute(
                    "INSERT INTO generations (number, manifest) VALUES (?, ?)",
                    (generation.number, generation.to_json()),
                )
            conn.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in removed_files])
            conn.executemany(
                "INSERT OR REPLACE INTO files (path, size, mtime_ns, digest, skipped)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        f.path,
                        f.size,
                        f.mtime_ns,
                        f.digest,
                        json.dumps([[s.path, s.reason] for s in f.skipped], ensure_ascii=False),
                    )
                    for f in files
                ],
            )
            conn.executemany("DELETE FROM articles WHERE id = ?", [(i,) for i in removed_articles])
            conn.executemany(
                "INSERT OR REPLACE INTO articles (id, file, digest, added, title)"
                " VALUES (?, ?, ?, ?, ?)",
                [(a.id, a.file, a.digest, a.added, a.title) for a in articles],
            )

    def forget_generations(self, keep: int) -> None:
        """Drop all but the newest ``keep`` generations' records (their files go separately)."""
        with transaction(self._conn) as conn:
            conn.execute(
                "DELETE FROM generations WHERE number NOT IN"
                " (SELECT number FROM generations ORDER BY number DESC LIMIT ?)",
                (keep,),
            )
