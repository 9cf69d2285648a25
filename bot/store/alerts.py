"""New-article alerts: which articles are new, and an outbox that delivers each alert once.

Life of an alert row:

* pending → sending: :meth:`AlertOutbox.claim_batch` leases it to a sender;
* sending → sent: ``mark_sent``;
* sending → pending: ``mark_retry``, ``recover()`` at start-up, or the lease expiring
  (its sender died);
* sending → failed: ``mark_failed``, or ``mark_retry`` once ``max_attempts`` are used up;
* pending/sending → skipped: the chat was deactivated or unsubscribed from everything.

Exactly once, honestly: ``UNIQUE(chat_id, article_id)`` means an alert is never queued twice,
and an article id is marked seen in the same transaction that queues its alerts, so a crash
can lose neither. What no local database can fix: if the process dies after Telegram accepted
a message but before :meth:`AlertOutbox.mark_sent` commits, the row is sent again after
recovery (one duplicate). The sender keeps that window small by calling ``mark_sent`` right
after each successful send, which commits at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .db import StoreConnection, query, timestamp, transaction

_FIRST_SCAN_DONE = "articles_primed"
_ALERT_MARKER = "alerts_queued_up_to"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A claimed alert: everything the sender needs to deliver it."""

    id: int
    chat_id: int
    article_id: str
    title: str
    attempts: int  # including the one just claimed
    silent: bool  # send with disable_notification
    language: str = ""  # the chat's /language choice, else its subscriber's; "" unknown


@dataclass(frozen=True, slots=True)
class AlertCounts:
    """Outbox rows per status (for /stats and logs)."""

    pending: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def undelivered(self) -> int:
        """Waiting to be sent, or being sent right now."""
        return self.pending + self.sending


@dataclass(frozen=True, slots=True)
class QueueResult:
    """What a corpus scan changed: the ids never seen before and the alerts queued for them."""

    new_article_ids: list[str]
    queued: int
    first_scan: bool  # the scan that only recorded the existing corpus, announcing nothing


def skip_pending_alerts(conn: StoreConnection, chat_id: int, reason: str) -> int:
    """Give up on a chat's undelivered alerts (bot blocked, unsubscribed).

    The caller holds a transaction (this is shared by several stores' write methods).

    ``sending`` rows are included: a send in flight may still succeed, and ``mark_sent``
    then records the truth.
    """
    return conn.execute(
        "UPDATE alert_outbox SET status = 'skipped', last_error = ?, leased_until = NULL"
        " WHERE chat_id = ? AND status IN ('pending', 'sending')",
        (reason, chat_id),
    ).rowcount


class AlertOutbox:
    """Articles already known, and the alerts waiting to be (or already) delivered."""

    def __init__(
        self, conn: StoreConnection, *, lease_seconds: float = 60.0, max_attempts: int = 5
    ) -> None:
        """``lease_seconds``: how long a claimed row belongs to its sender before it counts as
        abandoned (the sender crashed) and may be claimed again. ``max_attempts``: sends tried
        before ``mark_retry`` gives up and marks the row failed."""
        self._conn = conn
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts

    # -- new articles ---------------------------------------------------------------------

    def queue_new_articles(
        self,
        articles: Iterable[tuple[str, str]],
        recipients_for: Callable[[str], Iterable[int]],
        now: float | None = None,
    ) -> QueueResult:
        """Mark never-seen ``(article_id, title)`` pairs seen and queue their alerts.

        ``recipients_for(article_id)`` names the chats to alert; it is called for the unseen
        articles before anything is written, with no lock held, so slow topic matching never
        blocks the database. Each article is then marked seen and its alerts queued in one
        short transaction: a crash loses neither, and other writers wait milliseconds at most.
        Chats unknown or inactive are left out. The very first call on a database records the
        whole corpus and queues nothing, so that starting the bot on an existing archive does
        not announce all of it.
        """
        now = timestamp(now)
        candidates = self._unseen(list(articles))
        first_scan = not query(self._conn, "SELECT 1 FROM meta WHERE key = ?", (_FIRST_SCAN_DONE,))
        if first_scan:
            with transaction(self._conn) as conn:
                conn.executemany(
                    "INSERT OR IGNORE INTO articles_seen (article_id, first_seen_at, title)"
                    " VALUES (?, ?, ?)",
                    [(article_id, now, title) for article_id, title in candidates],
                )
                conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                    (_FIRST_SCAN_DONE, str(now)),
                )
            return QueueResult(new_article_ids=[], queued=0, first_scan=True)
        plans = [(a, title, list(recipients_for(a))) for a, title in candidates]
        new_ids: list[str] = []
        queued = 0
        for article_id, title, chats in plans:
            with transaction(self._conn) as conn:
                if conn.execute(
                    "INSERT OR IGNORE INTO articles_seen (article_id, first_seen_at, title)"
                    " VALUES (?, ?, ?)",
                    (article_id, now, title),
                ).rowcount:
                    new_ids.append(article_id)
                    queued += self._insert_pending(((c, article_id) for c in chats), now)
        return QueueResult(new_article_ids=new_ids, queued=queued, first_scan=False)

    def alert_marker(self) -> str | None:
        """How far alerts were queued: the index commit named by the last ``set_alert_marker``."""
        rows = query(self._conn, "SELECT value FROM meta WHERE key = ?", (_ALERT_MARKER,))
        return rows[0][0] if rows else None

    def set_alert_marker(self, marker: str) -> None:
        with transaction(self._conn) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (_ALERT_MARKER, marker)
            )

    def _unseen(self, articles: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The pairs whose id the ledger does not know, looked up in chunks (not the whole
        ledger, which grows with the archive)."""
        seen: set[str] = set()
        ids = [article_id for article_id, _ in articles]
        for lo in range(0, len(ids), 500):
            chunk = ids[lo : lo + 500]
            rows = query(
                self._conn,
                "SELECT article_id FROM articles_seen WHERE article_id IN"
                f" ({','.join('?' * len(chunk))})",
                chunk,
            )
            seen.update(row[0] for row in rows)
        return [(a, title) for a, title in dict(articles).items() if a not in seen]

    def record_new_articles(
        self, articles: Iterable[tuple[str, str]], now: float | None = None
    ) -> list[str]:
        """Mark articles seen without alerting anyone; return the ids that were new.

        For alerts use :meth:`queue_new_articles`: marking seen here and enqueueing later
        would lose the alerts if the process died in between.
        """
        return self.queue_new_articles(articles, lambda _article_id: (), now).new_article_ids

    def enqueue(self, pairs: Iterable[tuple[int, str]], now: float | None = None) -> int:
        """Queue ``(chat_id, article_id)`` alerts for seen articles; return how many are new.

        A pair queued before (whatever its status) is ignored: that is what makes delivery
        exactly-once.
        """
        with transaction(self._conn):
            return self._insert_pending(pairs, timestamp(now))

    def _insert_pending(self, pairs: Iterable[tuple[int, str]], now: float) -> int:
        before = self._conn.total_changes
        self._conn.executemany(
            "INSERT OR IGNORE INTO alert_outbox"
            " (chat_id, article_id, status, next_attempt_at, created_at)"
            " SELECT chat_id, ?, 'pending', ?, ? FROM chats WHERE chat_id = ? AND active = 1",
            ((article_id, now, now, chat_id) for chat_id, article_id in pairs),
        )
        return self._conn.total_changes - before

    # -- delivery -------------------------------------------------------------------------

    def claim_batch(self, limit: int, now: float | None = None) -> list[OutboxRow]:
        """Lease up to ``limit`` due rows to the caller, oldest first, and return them.

        Due means ``pending`` with ``next_attempt_at`` reached, or ``sending`` with an expired
        lease (its sender died). Each claim counts as an attempt.
        """
        now = timestamp(now)
        with transaction(self._conn) as conn:
            rows = conn.execute(
                "SELECT o.id, o.chat_id, o.article_id, a.title, o.attempts, c.silent,"
                " COALESCE(c.language, c.reader_language, '') AS language"
                " FROM alert_outbox AS o"
                " JOIN chats AS c ON c.chat_id = o.chat_id"
                " JOIN articles_seen AS a ON a.article_id = o.article_id"
                " WHERE c.active = 1 AND ("
                "   (o.status = 'pending' AND o.next_attempt_at <= :now)"
                "   OR (o.status = 'sending' AND o.leased_until <= :now))"
                " ORDER BY o.next_attempt_at, o.id LIMIT :limit",
                {"now": now, "limit": limit},
            ).fetchall()
            conn.executemany(
                "UPDATE alert_outbox SET status = 'sending', leased_until = ?,"
                " attempts = attempts + 1 WHERE id = ?",
                [(now + self.lease_seconds, row["id"]) for row in rows],
            )
        return [
            OutboxRow(
                id=row["id"],
                chat_id=row["chat_id"],
                article_id=row["article_id"],
                title=row["title"],
                attempts=row["attempts"] + 1,
                silent=bool(row["silent"]),
                language=row["language"],
            )
            for row in rows
        ]

    def mark_sent(self, row_id: int, message_id: int | None, now: float | None = None) -> None:
        """Record a delivery; call right after each successful send (it commits at once)."""
        with transaction(self._conn) as conn:
            conn.execute(
                "UPDATE alert_outbox SET status = 'sent', sent_at = ?, message_id = ?,"
                " leased_until = NULL, last_error = NULL WHERE id = ?",
                (timestamp(now), message_id, row_id),
            )

    def mark_retry(
        self,
        row_id: int,
        retry_after_seconds: float,
        error: str,
        now: float | None = None,
        *,
        transient: bool = False,
    ) -> bool:
        """Put a row back to ``pending`` until ``now + retry_after_seconds``; return False if
        it has used up ``max_attempts`` and was marked failed instead.

        ``transient`` (flood control, network trouble) gives the claim's attempt back: such
        waits say nothing about the message, so they never make an alert fail. Only a row
        still being sent is put back: one skipped meanwhile (chat blocked, unsubscribed)
        stays skipped.
        """
        with transaction(self._conn) as conn:
            retried = conn.execute(
                "UPDATE alert_outbox SET status = 'pending', next_attempt_at = ?, last_error = ?,"
                " leased_until = NULL, attempts = attempts - ?"
                " WHERE id = ? AND status = 'sending' AND (? OR attempts < ?)",
                (
                    timestamp(now) + retry_after_seconds,
                    error,
                    int(transient),
                    row_id,
                    int(transient),
                    self.max_attempts,
                ),
            ).rowcount
            if not retried:
                conn.execute(
                    "UPDATE alert_outbox SET status = 'failed', last_error = ?, leased_until = NULL"
                    " WHERE id = ? AND status = 'sending'",
                    (error, row_id),
                )
        return bool(retried)

    def mark_failed(self, row_id: int, error: str) -> None:
        """Give up on one row for good (e.g. the message cannot be rendered)."""
        with transaction(self._conn):
            self._mark_failed(row_id, error)

    def _mark_failed(self, row_id: int, error: str) -> None:
        self._conn.execute(
            "UPDATE alert_outbox SET status = 'failed', last_error = ?, leased_until = NULL"
            " WHERE id = ?",
            (error, row_id),
        )

    def mark_skipped_for_chat(self, chat_id: int, reason: str) -> int:
        """Skip every undelivered alert of a chat; return how many."""
        with transaction(self._conn) as conn:
            return skip_pending_alerts(conn, chat_id, reason)

    def recover(self) -> int:
        """At start-up, hand rows left ``sending`` by a dead process back to ``pending`` at once
        (rather than after their lease expires); return how many.

        Only for a single sender: another live sender's leases would be broken too.
        """
        with transaction(self._conn) as conn:
            return conn.execute(
                "UPDATE alert_outbox SET status = 'pending', leased_until = NULL"
                " WHERE status = 'sending'"
            ).rowcount

    # -- reporting ------------------------------------------------------------------------

    def counts(self) -> AlertCounts:
        """Rows per status."""
        sql = "SELECT status, COUNT(*) AS n FROM alert_outbox GROUP BY status"
        return AlertCounts(**{row["status"]: row["n"] for row in query(self._conn, sql)})

    def pending_count(self) -> int:
        """Alerts not delivered yet, whether due or waiting for a retry."""
        return query(self._conn, "SELECT COUNT(*) FROM alert_outbox WHERE status = 'pending'")[0][0]

    # -- retention ------------------------------------------------------------------------

    def prune_finished_older_than(self, days: float, now: float | None = None) -> int:
        """Delete sent, failed and skipped rows finished more than ``days`` ago; return how
        many.

        Safe for exactly-once: alerts are only ever queued for articles not yet in the
        ``articles_seen`` ledger, which is never pruned, so a deleted row's (chat, article)
        pair can never be queued again. Pending and sending rows are never deleted.
        """
        cutoff = timestamp(now) - days * 86400
        with transaction(self._conn) as conn:
            return conn.execute(
                "DELETE FROM alert_outbox WHERE status IN ('sent', 'failed', 'skipped')"
                " AND COALESCE(sent_at, created_at) < ?",
                (cutoff,),
            ).rowcount
