"""What readers asked: counts for /stats, and the questions behind "More" buttons."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import NamedTuple

from .db import StoreConnection, query, timestamp, transaction

_TOKEN_BYTES = 6  # 8 URL-safe characters: short in callback data, 2**48 values
_TOKEN_TRIES = 3


class ActivityLog:
    """When questions were asked and whether they were answered; never the question itself."""

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def record_question(self, chat_id: int, answered: bool, now: float | None = None) -> None:
        with transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO question_log (chat_id, asked_at, answered) VALUES (?, ?, ?)",
                (chat_id, timestamp(now), int(answered)),
            )

    def question_counts(self, today: dt.date, tz: dt.tzinfo = dt.UTC) -> dict[str, int]:
        """Answered/unanswered questions on ``today`` (a calendar day in ``tz``) and ever."""
        start = dt.datetime.combine(today, dt.time(), tzinfo=tz)
        end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        row = query(
            self._conn,
            "SELECT"
            " COALESCE(SUM(answered AND asked_at >= :start AND asked_at < :end), 0),"
            " COALESCE(SUM(NOT answered AND asked_at >= :start AND asked_at < :end), 0),"
            " COALESCE(SUM(answered), 0),"
            " COALESCE(SUM(NOT answered), 0)"
            " FROM question_log",
            {"start": start.timestamp(), "end": end.timestamp()},
        )[0]
        keys = ("answered_today", "unanswered_today", "answered_total", "unanswered_total")
        return dict(zip(keys, row, strict=True))


class StoredQuery(NamedTuple):
    chat_id: int
    question: str


class StoredQueries:
    """Questions kept on the server under a short token, so that a "More" button's callback
    data stays within Telegram's 64 bytes and still works after a restart."""

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def save(self, chat_id: int, question: str, now: float | None = None) -> str:
        """Store the question and return its token (at most 16 characters)."""
        now = timestamp(now)
        with transaction(self._conn) as conn:
            for _ in range(_TOKEN_TRIES):  # a collision is all but impossible, but cheap to handle
                token = secrets.token_urlsafe(_TOKEN_BYTES)
                if conn.execute(
                    "INSERT OR IGNORE INTO stored_queries (id, chat_id, question, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (token, chat_id, question, now),
                ).rowcount:
                    return token
        raise RuntimeError("could not draw an unused stored-query token")

    def load(self, token: str) -> StoredQuery | None:
        """The stored question, or None if the token is unknown or was purged."""
        rows = query(
            self._conn, "SELECT chat_id, question FROM stored_queries WHERE id = ?", (token,)
        )
        return StoredQuery(rows[0]["chat_id"], rows[0]["question"]) if rows else None

    def purge_older_than(self, days: float, now: float | None = None) -> int:
        """Forget questions stored more than ``days`` ago; return how many."""
        cutoff = timestamp(now) - days * 86400
        with transaction(self._conn) as conn:
            return conn.execute(
                "DELETE FROM stored_queries WHERE created_at < ?", (cutoff,)
            ).rowcount
