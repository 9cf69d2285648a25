"""The bot's own SQLite database: connection settings, explicit transactions, migrations.

Plain ``sqlite3`` because the state is small and lives next to the corpus: no server, one
file to back up, and WAL mode lets another process (an editor's CLI, a backup) read while the
bot writes.

Conventions every store module follows:

* Writes go through :func:`transaction` (``BEGIN IMMEDIATE``): multi-row changes are
  all-or-nothing, and a writer waits for the write lock up front (``busy_timeout``) instead of
  failing half-way when a read lock cannot be upgraded.
* Reads go through :func:`query`, one statement, fully fetched.
* Timestamps are UTC seconds since the epoch (``float``); functions take ``now`` so that tests
  control the clock.

Threading: the connection is opened with ``check_same_thread=False`` so that code running
beside the asyncio loop (``asyncio.to_thread``) may use it, but SQLite has one transaction per
connection, so two threads must never use it *at the same time*. :func:`transaction` and
:func:`query` hold the connection's re-entrant lock, which serialises the store classes'
own calls; any other use of the raw connection from a second thread must take
``conn.lock`` too, or better, open its own connection with :func:`open_database`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MEMORY = ":memory:"


class StoreConnection(sqlite3.Connection):
    """A ``sqlite3.Connection`` carrying the lock that serialises its users (see module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock = threading.RLock()


def timestamp(now: float | None = None) -> float:
    """``now`` if the caller fixed the clock, else the current UTC epoch time."""
    return time.time() if now is None else now


def open_database(path: Path | str) -> StoreConnection:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date.

    ``":memory:"`` gives a private throw-away database (tests). The caller owns the connection
    and must ``close()`` it.
    """
    if str(path) != MEMORY:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path),
        factory=StoreConnection,
        isolation_level=None,  # autocommit; transactions are explicit, see transaction()
        check_same_thread=False,
        timeout=5.0,
    )
    try:
        conn.row_factory = sqlite3.Row
        if str(path) != MEMORY:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA synchronous=NORMAL")  # durable enough in WAL; no fsync per commit
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: StoreConnection) -> Iterator[StoreConnection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` if the block raises (even on cancel)."""
    with conn.lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # some errors (disk full, ...) already rolled back
                conn.execute("ROLLBACK")
            raise


def query(
    conn: StoreConnection, sql: str, params: Sequence[Any] | dict[str, Any] = ()
) -> list[sqlite3.Row]:
    """Run one read statement under the connection's lock and fetch every row."""
    with conn.lock:
        return conn.execute(sql, params).fetchall()


# Ordered, named, append-only: never edit or reorder an entry once released; add a new one.
MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_chats_and_subscriptions",
        """
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        -- Chats that subscribed at least once. Rows are kept when the bot is blocked
        -- (active = 0) so that coming back restores the subscriptions.
        CREATE TABLE chats (
            chat_id            INTEGER PRIMARY KEY,
            type               TEXT    NOT NULL DEFAULT 'private',
            title              TEXT    NOT NULL DEFAULT '',
            active             INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            silent             INTEGER NOT NULL DEFAULT 0 CHECK (silent IN (0, 1)),
            created_at         REAL    NOT NULL,
            deactivated_at     REAL,
            deactivated_reason TEXT
        );
        -- topic is normalised (see subscriptions.normalise_topic); '' means every article.
        CREATE TABLE subscriptions (
            id         INTEGER PRIMARY KEY,
            chat_id    INTEGER NOT NULL REFERENCES chats (chat_id) ON DELETE CASCADE,
            topic      TEXT    NOT NULL,
            created_at REAL    NOT NULL,
            UNIQUE (chat_id, topic)
        );
        """,
    ),
    (
        "0002_alerts",
        """
        -- Every article id ever seen: an id is announced at most once, even if edited later.
        CREATE TABLE articles_seen (
            article_id    TEXT PRIMARY KEY,
            first_seen_at REAL NOT NULL,
            title         TEXT NOT NULL DEFAULT ''
        );
        -- One row per (chat, article) ever queued: the UNIQUE constraint is the
        -- exactly-once guarantee, so rows are never deleted after sending.
        CREATE TABLE alert_outbox (
            id              INTEGER PRIMARY KEY,
            chat_id         INTEGER NOT NULL REFERENCES chats (chat_id) ON DELETE CASCADE,
            article_id      TEXT    NOT NULL REFERENCES articles_seen (article_id),
            status          TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL    NOT NULL,
            leased_until    REAL,
            last_error      TEXT,
            created_at      REAL    NOT NULL,
            sent_at         REAL,
            message_id      INTEGER,
            UNIQUE (chat_id, article_id)
        );
        CREATE INDEX alert_outbox_due ON alert_outbox (status, next_attempt_at);
        """,
    ),
    (
        "0003_questions",
        """
        -- Questions behind "More" buttons: callback data carries only the short id.
        CREATE TABLE stored_queries (
            id         TEXT    PRIMARY KEY CHECK (length(id) <= 16),
            chat_id    INTEGER NOT NULL,
            question   TEXT    NOT NULL,
            created_at REAL    NOT NULL
        );
        CREATE INDEX stored_queries_created ON stored_queries (created_at);
        -- For /stats: when a question was asked and whether it got an answer. No text.
        CREATE TABLE question_log (
            id       INTEGER PRIMARY KEY,
            chat_id  INTEGER NOT NULL,
            asked_at REAL    NOT NULL,
            answered INTEGER NOT NULL CHECK (answered IN (0, 1))
        );
        CREATE INDEX question_log_asked ON question_log (asked_at);
        """,
    ),
    (
        "0004_answer_tokens_and_daily_counts",
        """
        -- A "More" token works only on the answer it was made for (its chat and message).
        ALTER TABLE stored_queries ADD COLUMN message_id INTEGER;
        -- Questions per UTC day, for /stats. No chat id: kept for good, while the raw
        -- question_log rows are pruned after the retention period.
        CREATE TABLE question_days (
            day        TEXT    PRIMARY KEY,  -- YYYY-MM-DD
            answered   INTEGER NOT NULL DEFAULT 0,
            unanswered INTEGER NOT NULL DEFAULT 0
        );
        INSERT INTO question_days (day, answered, unanswered)
            SELECT date(asked_at, 'unixepoch'), SUM(answered), SUM(NOT answered)
            FROM question_log GROUP BY 1;
        """,
    ),
    (
        "0005_sources",
        """
        -- Feeds the bot follows (bot/sources/). url is what is polled (it follows permanent
        -- redirects); added_url is what an admin or BOT_FEEDS gave; folder is the corpus
        -- subfolder the feed's articles are written to, fixed at the first add.
        CREATE TABLE feeds (
            id               INTEGER PRIMARY KEY,
            url              TEXT    NOT NULL UNIQUE,
            added_url        TEXT    NOT NULL,
            folder           TEXT    NOT NULL UNIQUE,
            title            TEXT    NOT NULL DEFAULT '',
            active           INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            -- 1 once the entries found at the first fetch were archived without alerts
            primed           INTEGER NOT NULL DEFAULT 0 CHECK (primed IN (0, 1)),
            from_config      INTEGER NOT NULL DEFAULT 0 CHECK (from_config IN (0, 1)),
            added_at         REAL    NOT NULL,
            added_by         INTEGER,
            etag             TEXT,
            last_modified    TEXT,
            body_digest      TEXT,     -- of the last body parsed: the same body is not parsed
            next_poll_at     REAL    NOT NULL,
            last_polled_at   REAL,
            last_success_at  REAL,
            last_error       TEXT,
            last_error_at    REAL,
            failures         INTEGER NOT NULL DEFAULT 0,  -- consecutive
            failing_notified INTEGER NOT NULL DEFAULT 0 CHECK (failing_notified IN (0, 1))
        );
        CREATE INDEX feeds_due ON feeds (active, next_poll_at);
        -- Every entry ever archived from a feed, by its dedupe key (guid, else link, else a
        -- hash of title and date; see bot/sources/entries.py). path is the article's file,
        -- relative to the corpus: the article id derives from it, so it never changes.
        CREATE TABLE feed_entries (
            id            INTEGER PRIMARY KEY,
            feed_id       INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
            key           TEXT    NOT NULL,
            guid          TEXT    NOT NULL DEFAULT '',
            link          TEXT    NOT NULL DEFAULT '',
            path          TEXT    NOT NULL,
            digest        TEXT    NOT NULL,  -- of the entry as the feed gave it
            partial       INTEGER NOT NULL DEFAULT 0 CHECK (partial IN (0, 1)),
            first_seen_at REAL    NOT NULL,
            updated_at    REAL    NOT NULL,
            UNIQUE (feed_id, key)
        );
        CREATE INDEX feed_entries_guid ON feed_entries (feed_id, guid);
        -- Telegram channels whose posts were seen; archived says whether BOT_CHANNELS
        -- allowed them when they last posted; folder (the corpus subfolder of their
        -- articles) is fixed at the first post, so a renamed channel keeps its articles' ids.
        CREATE TABLE channels (
            chat_id       INTEGER PRIMARY KEY,
            username      TEXT    NOT NULL DEFAULT '',
            title         TEXT    NOT NULL DEFAULT '',
            folder        TEXT,
            archived      INTEGER NOT NULL DEFAULT 1 CHECK (archived IN (0, 1)),
            first_seen_at REAL    NOT NULL,
            last_post_at  REAL
        );
        -- Channel posts as Telegram sent them (an album is several posts sharing a
        -- media_group_id, merged into one article when written).
        CREATE TABLE channel_posts (
            chat_id        INTEGER NOT NULL REFERENCES channels (chat_id) ON DELETE CASCADE,
            message_id     INTEGER NOT NULL,
            media_group_id TEXT,
            text           TEXT    NOT NULL DEFAULT '',
            links          TEXT    NOT NULL DEFAULT '',  -- URLs in the post, one per line
            posted_at      REAL    NOT NULL,
            edited_at      REAL,
            PRIMARY KEY (chat_id, message_id)
        );
        CREATE INDEX channel_posts_album ON channel_posts (chat_id, media_group_id);
        """,
    ),
    (
        "0006_chat_languages",
        """
        -- The language of the bot's texts in a chat (bot/i18n.py): chosen with /language
        -- (NULL: follow each reader's Telegram language), and the Telegram language of whoever
        -- last subscribed the chat, for alerts, which go out with no reader to ask.
        ALTER TABLE chats ADD COLUMN language TEXT;
        ALTER TABLE chats ADD COLUMN reader_language TEXT;
        """,
    ),
    (
        "0007_follow_ups",
        """
        -- Every answer's question is stored (not only those behind "More" buttons), so that
        -- a reply to the answer is asked as its follow-up; article_id (NULL: the whole
        -- archive) scopes answers and prompts of "Ask about this article"; previous_question
        -- is the question a follow-up followed (its "More" pages are asked the same way).
        ALTER TABLE stored_queries ADD COLUMN article_id TEXT;
        ALTER TABLE stored_queries ADD COLUMN previous_question TEXT NOT NULL DEFAULT '';
        CREATE INDEX stored_queries_message ON stored_queries (chat_id, message_id);
        -- The short keys "Ask about this article" buttons carry (callback data holds 64
        -- bytes, article ids may be longer): one row per article ever offered, kept for
        -- good like articles_seen (no reader's data), so an old alert's button still works.
        CREATE TABLE article_keys (
            key        TEXT PRIMARY KEY CHECK (length(key) <= 16),
            article_id TEXT NOT NULL,
            created_at REAL NOT NULL
        );
        """,
    ),
]


def _statements(script: str) -> Iterator[str]:
    """Split a script into single statements, so that it can run inside our own transaction.

    (``executescript`` would commit the open transaction first.)
    """
    start = 0
    for end, char in enumerate(script, start=1):
        if char == ";" and sqlite3.complete_statement(script[start:end]):
            yield script[start:end]
            start = end
    if script[start:].strip():
        yield script[start:]


def migrate(
    conn: StoreConnection,
    migrations: Sequence[tuple[str, str]] = MIGRATIONS,
    now: float | None = None,
) -> list[str]:
    """Apply, in order, the migrations not yet recorded; return the names applied now.

    Each migration and its record commit together, and the "already applied?" check happens
    inside that transaction, so two processes starting at once cannot both apply one.
    """
    with conn.lock:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations"
            " (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        applied: list[str] = []
        for name, sql in migrations:
            with transaction(conn):
                if conn.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                    continue
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO migrations (name, applied_at) VALUES (?, ?)",
                    (name, timestamp(now)),
                )
            applied.append(name)
        return applied


def applied_migrations(conn: StoreConnection) -> list[str]:
    """Names of the migrations recorded in the database, in the order they were applied."""
    return [row["name"] for row in query(conn, "SELECT name FROM migrations ORDER BY rowid")]
