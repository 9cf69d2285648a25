"""What readers asked: counts for /stats, the questions of the bot's answers (for their
"More" buttons and follow-ups), and the keys of "Ask about this article" buttons.

Retention: the daily counts (``question_days``) hold no chat id and are kept; the raw
``question_log`` rows (chat id, time, answered or not) and the stored questions are pruned
after a period the caller chooses (``Services.retention``); article keys hold no reader's
data and are kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from .db import StoreConnection, query, timestamp, transaction

_TOKEN_BYTES = 6  # 8 URL-safe characters: short in callback data, 2**48 values
ARTICLE_KEY_CHARS = 16  # hex digits: 64 bits, so two article ids never share a key


@dataclass(frozen=True, slots=True)
class QuestionCounts:
    """Questions answered and not, on one UTC day and ever (for /stats)."""

    answered_today: int = 0
    unanswered_today: int = 0
    answered_total: int = 0
    unanswered_total: int = 0


class ActivityLog:
    """When questions were asked and whether they were answered; never the question itself."""

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def record_question(self, chat_id: int, answered: bool, now: float | None = None) -> None:
        """One question: a raw row (pruned later) and the UTC day's count (kept)."""
        now = timestamp(now)
        with transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO question_log (chat_id, asked_at, answered) VALUES (?, ?, ?)",
                (chat_id, now, int(answered)),
            )
            conn.execute(
                "INSERT INTO question_days (day, answered, unanswered)"
                " VALUES (date(?, 'unixepoch'), ?, ?)"
                " ON CONFLICT (day) DO UPDATE SET answered = answered + excluded.answered,"
                " unanswered = unanswered + excluded.unanswered",
                (now, int(answered), int(not answered)),
            )

    def question_counts(self, today: dt.date) -> QuestionCounts:
        """Answered/unanswered questions on ``today`` (a UTC calendar day) and ever."""
        row = query(
            self._conn,
            "SELECT"
            " COALESCE(SUM(CASE WHEN day = :today THEN answered END), 0),"
            " COALESCE(SUM(CASE WHEN day = :today THEN unanswered END), 0),"
            " COALESCE(SUM(answered), 0),"
            " COALESCE(SUM(unanswered), 0)"
            " FROM question_days",
            {"today": today.isoformat()},
        )[0]
        return QuestionCounts(*row)

    def prune_older_than(self, days: float, now: float | None = None) -> int:
        """Delete raw question rows older than ``days`` (the daily counts stay)."""
        cutoff = timestamp(now) - days * 86400
        with transaction(self._conn) as conn:
            return conn.execute("DELETE FROM question_log WHERE asked_at < ?", (cutoff,)).rowcount


@dataclass(frozen=True, slots=True)
class StoredQuery:
    """The question one bot message answers (or prompts for: ``question`` ""), the article
    it is scoped to (None: the whole archive), and the question it followed up ("" if none).
    """

    chat_id: int
    message_id: int | None  # None for rows stored before answers were tied to messages
    question: str
    article_id: str | None = None
    previous_question: str = ""

    def belongs_to(self, chat_id: int, message_id: int) -> bool:
        """Whether a button pressed on ``message_id`` in ``chat_id`` may use this query."""
        return self.chat_id == chat_id and self.message_id in (None, message_id)


def new_token() -> str:
    """A fresh token for a stored question (8 characters of ``[A-Za-z0-9_-]``)."""
    return secrets.token_urlsafe(_TOKEN_BYTES)


class StoredQueries:
    """The question behind each of the bot's answers, kept on the server under a short
    token, so that a "More" button's callback data stays within Telegram's 64 bytes and
    still works after a restart, and a reply to the answer can be asked as its follow-up
    (:meth:`for_message`).

    The token is drawn first (:func:`new_token`) and goes out in the answer's button; the
    question is stored once the answer's message id is known, tying the token to it.
    """

    _COLUMNS = "chat_id, message_id, question, article_id, previous_question"

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def save(self, token: str, row: StoredQuery, now: float | None = None) -> bool:
        """Store ``row`` under ``token``; False if the token is taken (the caller then drops
        its button: 2**48 tokens make that all but impossible)."""
        with transaction(self._conn) as conn:
            return bool(
                conn.execute(
                    f"INSERT OR IGNORE INTO stored_queries (id, {self._COLUMNS}, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        token,
                        row.chat_id,
                        row.message_id,
                        row.question,
                        row.article_id,
                        row.previous_question,
                        timestamp(now),
                    ),
                ).rowcount
            )

    def load(self, token: str) -> StoredQuery | None:
        """The stored question, or None if the token is unknown or was purged."""
        rows = query(
            self._conn, f"SELECT {self._COLUMNS} FROM stored_queries WHERE id = ?", (token,)
        )
        return StoredQuery(*rows[0]) if rows else None

    def for_message(self, chat_id: int, message_id: int) -> StoredQuery | None:
        """The question the bot's message ``message_id`` answers, the latest one if the
        question was edited; None for any other message (or one whose row was purged)."""
        rows = query(
            self._conn,
            f"SELECT {self._COLUMNS} FROM stored_queries WHERE chat_id = ? AND message_id = ?"
            " ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (chat_id, message_id),
        )
        return StoredQuery(*rows[0]) if rows else None

    def purge_older_than(self, days: float, now: float | None = None) -> int:
        """Forget questions stored more than ``days`` ago; return how many."""
        cutoff = timestamp(now) - days * 86400
        with transaction(self._conn) as conn:
            return conn.execute(
                "DELETE FROM stored_queries WHERE created_at < ?", (cutoff,)
            ).rowcount


def article_key(article_id: str) -> str:
    """A short stand-in for an article id in callback data (ids may be long, callback data
    holds 64 bytes): ``ARTICLE_KEY_CHARS`` hex digits of its SHA-1."""
    return hashlib.sha1(article_id.encode()).hexdigest()[:ARTICLE_KEY_CHARS]


class ArticleKeys:
    """Which article an :func:`article_key` stands for.

    A key is written once per article per process: :meth:`claim` (on the event loop, before
    the button goes out) marks the ids this process has not claimed yet and returns them;
    :meth:`save` then writes them (blocking), and a press in between already finds them in
    memory. A claim is never taken back, since another button may already carry the key:
    ids not written yet (their write failed, or their answer never went out) stay pending,
    and every later :meth:`save` writes them too.
    """

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn
        self._known: dict[str, str] = {}  # key -> article id, claimed by this process
        self._unsaved: set[str] = set()  # claimed article ids not written yet

    def claim(self, article_ids: Iterable[str]) -> list[str]:
        """The ids among ``article_ids`` not claimed before, now claimed."""
        new = []
        for article_id in dict.fromkeys(article_ids):
            key = article_key(article_id)
            if key not in self._known:
                self._known[key] = article_id
                self._unsaved.add(article_id)
                new.append(article_id)
        return new

    def save(self, article_ids: Iterable[str], now: float | None = None) -> None:
        """Write the keys of ``article_ids`` and of every claim still pending (those already
        there: nothing to do). On failure they all stay pending."""
        ids = set(article_ids) | self._unsaved
        if not ids:
            return
        rows = [(article_key(a), a, timestamp(now)) for a in sorted(ids)]
        with transaction(self._conn) as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO article_keys (key, article_id, created_at) VALUES (?, ?, ?)",
                rows,
            )
        self._unsaved -= ids

    def article_for(self, key: str) -> str | None:
        """The article id ``key`` stands for, None if no button ever carried it."""
        known = self._known.get(key)
        if known is not None:
            return known
        rows = query(self._conn, "SELECT article_id FROM article_keys WHERE key = ?", (key,))
        return rows[0][0] if rows else None
