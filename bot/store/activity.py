"""What readers asked: counts for /stats, and the questions behind "More" buttons.

Retention: the daily counts (``question_days``) hold no chat id and are kept; the raw
``question_log`` rows (chat id, time, answered or not) and the stored questions are pruned
after a period the caller chooses (``Services.retention``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from .db import StoreConnection, query, timestamp, transaction

_TOKEN_BYTES = 6  # 8 URL-safe characters: short in callback data, 2**48 values


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
    chat_id: int
    message_id: int | None  # None for rows stored before answers were tied to messages
    question: str

    def belongs_to(self, chat_id: int, message_id: int) -> bool:
        """Whether a button pressed on ``message_id`` in ``chat_id`` may use this query."""
        return self.chat_id == chat_id and self.message_id in (None, message_id)


def new_token() -> str:
    """A fresh "More" token (8 characters of ``[A-Za-z0-9_-]``)."""
    return secrets.token_urlsafe(_TOKEN_BYTES)


class StoredQueries:
    """Questions kept on the server under a short token, so that a "More" button's callback
    data stays within Telegram's 64 bytes and still works after a restart.

    The token is drawn first (:func:`new_token`) and goes out in the answer's button; the
    question is stored once the answer's message id is known, tying the token to it.
    """

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def save(
        self, token: str, chat_id: int, message_id: int, question: str, now: float | None = None
    ) -> bool:
        """Store the question under ``token``; False if the token is taken (the caller then
        drops its button: 2**48 tokens make that all but impossible)."""
        with transaction(self._conn) as conn:
            return bool(
                conn.execute(
                    "INSERT OR IGNORE INTO stored_queries"
                    " (id, chat_id, message_id, question, created_at) VALUES (?, ?, ?, ?, ?)",
                    (token, chat_id, message_id, question, timestamp(now)),
                ).rowcount
            )

    def load(self, token: str) -> StoredQuery | None:
        """The stored question, or None if the token is unknown or was purged."""
        rows = query(
            self._conn,
            "SELECT chat_id, message_id, question FROM stored_queries WHERE id = ?",
            (token,),
        )
        return StoredQuery(*rows[0]) if rows else None

    def purge_older_than(self, days: float, now: float | None = None) -> int:
        """Forget questions stored more than ``days`` ago; return how many."""
        cutoff = timestamp(now) - days * 86400
        with transaction(self._conn) as conn:
            return conn.execute(
                "DELETE FROM stored_queries WHERE created_at < ?", (cutoff,)
            ).rowcount
