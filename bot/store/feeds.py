"""Feeds the bot follows and the entries it archived from them (bot/sources/ polls them).

A feed's polling state (validators, next poll, consecutive failures) and its entries are
written together when a poll succeeds, after the entries' files are on disk: a crash
before that commit only means the next poll writes the same files again (same paths, so
the same article ids: nothing is announced twice).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from .db import StoreConnection, query, timestamp, transaction

_FEED_COLUMNS = (
    "id, url, added_url, folder, title, active, primed, from_config, added_at, etag,"
    " last_modified, body_digest, next_poll_at, last_polled_at, last_success_at, last_error,"
    " last_error_at, failures, failing_notified"
)


@dataclass(frozen=True, slots=True)
class Feed:
    """One followed (or formerly followed) feed and its polling state."""

    id: int
    url: str
    added_url: str
    folder: str  # corpus subfolder of its articles, "feeds/<slug>"
    title: str
    active: bool
    primed: bool
    from_config: bool
    added_at: float
    etag: str | None
    last_modified: str | None
    body_digest: str | None
    next_poll_at: float
    last_polled_at: float | None
    last_success_at: float | None
    last_error: str | None
    last_error_at: float | None
    failures: int
    failing_notified: bool

    @classmethod
    def of(cls, row: sqlite3.Row) -> Feed:
        values = dict(row)
        for flag in ("active", "primed", "from_config", "failing_notified"):
            values[flag] = bool(values[flag])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class FeedListing:
    """A feed as ``/feeds`` shows it: its state and how many articles it gave."""

    number: int  # 1-based position among the active feeds (``/feed remove 2``)
    feed: Feed
    articles: int


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """An archived entry: its dedupe key, what identified it, and its file."""

    key: str
    guid: str
    link: str
    path: str  # relative to the corpus
    digest: str
    partial: bool = False


@dataclass(frozen=True, slots=True)
class PollSuccess:
    """What a successful poll leaves behind (written with the entries, in one transaction)."""

    next_poll_at: float
    url: str | None = None  # a permanent redirect's target, to poll from now on
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_digest: str | None = None


class FeedStore:
    """The ``feeds`` and ``feed_entries`` tables."""

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    # -- following --------------------------------------------------------------------------

    def add(
        self,
        url: str,
        folder: str,
        *,
        added_by: int | None = None,
        from_config: bool = False,
        now: float | None = None,
    ) -> tuple[Feed, bool]:
        """Follow ``url`` (due at once); return the feed and whether it was not followed yet.

        A feed known by that URL (polled or as given) is followed again if it was removed,
        and then counts as new: what it holds by now is archived without alerts. ``folder``
        gets a numeric suffix if another feed has it.
        """
        now = timestamp(now)
        with transaction(self._conn) as conn:
            row = conn.execute(
                f"SELECT {_FEED_COLUMNS} FROM feeds WHERE url = ? OR added_url = ?"
                " ORDER BY url = ? DESC LIMIT 1",
                (url, url, url),
            ).fetchone()
            if row is not None:
                feed = Feed.of(row)
                if feed.active:
                    if from_config and not feed.from_config:
                        conn.execute("UPDATE feeds SET from_config = 1 WHERE id = ?", (feed.id,))
                    return feed, False
                conn.execute(
                    "UPDATE feeds SET active = 1, primed = 0, next_poll_at = ?, failures = 0,"
                    " failing_notified = 0, from_config = ?, added_by = ? WHERE id = ?",
                    (now, int(from_config), added_by, feed.id),
                )
                return self._get(conn, feed.id), True
            taken = {r[0] for r in conn.execute("SELECT folder FROM feeds")}
            unique, n = folder, 1
            while unique in taken:
                n += 1
                unique = f"{folder}-{n}"
            cursor = conn.execute(
                "INSERT INTO feeds (url, added_url, folder, added_at, added_by, from_config,"
                " next_poll_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (url, url, unique, now, added_by, int(from_config), now),
            )
            return self._get(conn, cursor.lastrowid), True

    def remove(self, feed_id: int, *, purge: bool = False) -> list[str]:
        """Stop following a feed; with ``purge``, forget its entries and return their paths
        (for the caller to delete the files)."""
        with transaction(self._conn) as conn:
            conn.execute("UPDATE feeds SET active = 0 WHERE id = ?", (feed_id,))
            if not purge:
                return []
            paths = [
                r[0]
                for r in conn.execute("SELECT path FROM feed_entries WHERE feed_id = ?", (feed_id,))
            ]
            conn.execute("DELETE FROM feed_entries WHERE feed_id = ?", (feed_id,))
            return paths

    def delete(self, feed_id: int) -> None:
        """Forget a feed that was never followed successfully (an add that failed)."""
        with transaction(self._conn) as conn:
            conn.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))

    # -- reading ----------------------------------------------------------------------------

    def get(self, feed_id: int) -> Feed | None:
        rows = query(self._conn, f"SELECT {_FEED_COLUMNS} FROM feeds WHERE id = ?", (feed_id,))
        return Feed.of(rows[0]) if rows else None

    @staticmethod
    def _get(conn: StoreConnection, feed_id: int) -> Feed:
        row = conn.execute(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE id = ?", (feed_id,))
        return Feed.of(row.fetchone())

    def due(self, now: float | None = None, *, everything: bool = False) -> list[Feed]:
        """Active feeds whose next poll time has come (``everything``: all active feeds)."""
        until = float("inf") if everything else timestamp(now)
        rows = query(
            self._conn,
            f"SELECT {_FEED_COLUMNS} FROM feeds WHERE active = 1 AND next_poll_at <= ?"
            " ORDER BY next_poll_at, id",
            (until,),
        )
        return [Feed.of(r) for r in rows]

    def listing(self) -> list[FeedListing]:
        """The active feeds in the order they were added, numbered, with article counts."""
        rows = query(
            self._conn,
            f"SELECT {_FEED_COLUMNS}, (SELECT COUNT(*) FROM feed_entries AS e"
            " WHERE e.feed_id = feeds.id) AS articles FROM feeds WHERE active = 1 ORDER BY id",
        )
        listed = []
        for number, row in enumerate(rows, start=1):
            values = dict(row)
            articles = values.pop("articles")
            listed.append(FeedListing(number, Feed.of(values), articles))  # type: ignore[arg-type]
        return listed

    def find(self, ref: str) -> Feed | None:
        """An active feed by its number in :meth:`listing`, its URL or the URL it was added by."""
        ref = ref.strip()
        if ref.isdigit():
            listed = self.listing()
            n = int(ref)
            return listed[n - 1].feed if 1 <= n <= len(listed) else None
        rows = query(
            self._conn,
            f"SELECT {_FEED_COLUMNS} FROM feeds WHERE active = 1 AND (url = ? OR added_url = ?)",
            (ref, ref),
        )
        return Feed.of(rows[0]) if rows else None

    def entries(self, feed_id: int) -> list[FeedEntry]:
        rows = query(
            self._conn,
            "SELECT key, guid, link, path, digest, partial FROM feed_entries WHERE feed_id = ?",
            (feed_id,),
        )
        return [
            FeedEntry(r["key"], r["guid"], r["link"], r["path"], r["digest"], bool(r["partial"]))
            for r in rows
        ]

    def url_taken(self, url: str, feed_id: int) -> bool:
        """Whether another feed is polled from ``url`` (a redirect must not merge two)."""
        rows = query(self._conn, "SELECT 1 FROM feeds WHERE url = ? AND id != ?", (url, feed_id))
        return bool(rows)

    # -- polling outcomes -------------------------------------------------------------------

    def record_success(
        self,
        feed_id: int,
        success: PollSuccess,
        entries: Iterable[FeedEntry] = (),
        now: float | None = None,
    ) -> None:
        """A poll that got the feed (new body, same body or 304): its validators, its next
        poll, the entries it archived; the feed counts as primed from now on."""
        now = timestamp(now)
        with transaction(self._conn) as conn:
            conn.execute(
                "UPDATE feeds SET next_poll_at = ?, last_polled_at = ?, last_success_at = ?,"
                " failures = 0, failing_notified = 0, last_error = NULL, primed = 1,"
                " url = COALESCE(?, url), title = COALESCE(?, title),"
                " etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),"
                " body_digest = COALESCE(?, body_digest) WHERE id = ?",
                (
                    success.next_poll_at,
                    now,
                    now,
                    success.url,
                    success.title,
                    success.etag,
                    success.last_modified,
                    success.body_digest,
                    feed_id,
                ),
            )
            conn.executemany(
                "INSERT INTO feed_entries (feed_id, key, guid, link, path, digest, partial,"
                " first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (feed_id, key) DO UPDATE SET link = excluded.link,"
                " digest = excluded.digest, partial = excluded.partial,"
                " updated_at = excluded.updated_at",
                [
                    (feed_id, e.key, e.guid, e.link, e.path, e.digest, int(e.partial), now, now)
                    for e in entries
                ],
            )

    def record_failure(
        self,
        feed_id: int,
        error: str,
        next_poll_at: float,
        *,
        failing_after: int,
        now: float | None = None,
    ) -> tuple[int, bool]:
        """Count a failed poll; return the consecutive failures and whether the feed just
        became failing (``failing_after`` in a row, reported once until it recovers)."""
        now = timestamp(now)
        with transaction(self._conn) as conn:
            conn.execute(
                "UPDATE feeds SET failures = failures + 1, last_error = ?, last_error_at = ?,"
                " last_polled_at = ?, next_poll_at = ? WHERE id = ?",
                (error[:500], now, now, next_poll_at, feed_id),
            )
            failures = conn.execute(
                "SELECT failures FROM feeds WHERE id = ?", (feed_id,)
            ).fetchone()[0]
            newly = conn.execute(
                "UPDATE feeds SET failing_notified = 1"
                " WHERE id = ? AND failures >= ? AND failing_notified = 0",
                (feed_id, failing_after),
            ).rowcount
        return failures, bool(newly)
