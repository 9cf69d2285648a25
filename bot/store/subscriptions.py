"""Who wants alerts about what: chats, their topics, and whether the bot may still reach them."""

from __future__ import annotations

import unicodedata

from bot.errors import TooManyTopics, TopicTooLong

from .alerts import skip_pending_alerts
from .db import StoreConnection, query, timestamp, transaction

MAX_TOPICS = 20
MAX_TOPIC_LENGTH = 100
_EVERYTHING = frozenset({"", "all", "*"})


def normalise_topic(text: str) -> str:
    """The stored form of a topic: NFKC, case-folded, single spaces; ``""`` means every article.

    Normalising on the way in makes "Climate  Change" and "climate change" one subscription.
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    topic = " ".join(folded.split())
    return "" if topic in _EVERYTHING else topic


class SubscriptionStore:
    """Chats' alert subscriptions and settings.

    A chat row outlives its reachability: when the bot is blocked or kicked the chat is only
    deactivated, so that its topics come back if it returns.
    """

    def __init__(
        self,
        conn: StoreConnection,
        *,
        max_topics: int = MAX_TOPICS,
        max_topic_length: int = MAX_TOPIC_LENGTH,
    ) -> None:
        self._conn = conn
        self.max_topics = max_topics
        self.max_topic_length = max_topic_length

    def subscribe(
        self,
        chat_id: int,
        topic: str,
        chat_type: str = "private",
        title: str = "",
        now: float | None = None,
        reader_language: str = "",
    ) -> bool:
        """Subscribe a chat to a topic; return False if it already was.

        Subscribing is the chat's own request, so it also (re)activates the chat and refreshes
        its type and title, and remembers ``reader_language`` (the subscriber's Telegram
        language, when given) for its alerts. Raises :class:`TopicTooLong` or
        :class:`TooManyTopics`.
        """
        topic = normalise_topic(topic)
        if len(topic) > self.max_topic_length:
            raise TopicTooLong(f"A topic can be at most {self.max_topic_length} characters long.")
        now = timestamp(now)
        with transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO chats (chat_id, type, title, created_at, reader_language)"
                " VALUES (?, ?, ?, ?, NULLIF(?, ''))"
                " ON CONFLICT (chat_id) DO UPDATE SET type = excluded.type,"
                " title = excluded.title, active = 1,"
                " deactivated_at = NULL, deactivated_reason = NULL,"
                " reader_language = COALESCE(excluded.reader_language, reader_language)",
                (chat_id, chat_type, title, now, reader_language),
            )
            topics = {
                row["topic"]
                for row in conn.execute(
                    "SELECT topic FROM subscriptions WHERE chat_id = ?", (chat_id,)
                )
            }
            if topic in topics:
                return False
            if len(topics) >= self.max_topics:
                raise TooManyTopics(
                    f"You can follow at most {self.max_topics} topics; unsubscribe from one first."
                )
            conn.execute(
                "INSERT INTO subscriptions (chat_id, topic, created_at) VALUES (?, ?, ?)",
                (chat_id, topic, now),
            )
        return True

    def unsubscribe(self, chat_id: int, topic: str) -> bool:
        """Drop one topic; return False if the chat did not follow it.

        Alerts already queued stay queued while the chat follows another topic (the article
        may match that one too); with the last topic gone they are skipped.
        """
        with transaction(self._conn) as conn:
            removed = conn.execute(
                "DELETE FROM subscriptions WHERE chat_id = ? AND topic = ?",
                (chat_id, normalise_topic(topic)),
            ).rowcount
            left = conn.execute(
                "SELECT 1 FROM subscriptions WHERE chat_id = ? LIMIT 1", (chat_id,)
            ).fetchone()
            if removed and not left:
                skip_pending_alerts(conn, chat_id, "unsubscribed")
            return bool(removed)

    def unsubscribe_all(self, chat_id: int) -> int:
        """Drop every topic and the alerts not yet delivered ("stop means stop")."""
        with transaction(self._conn) as conn:
            removed = conn.execute(
                "DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,)
            ).rowcount
            skip_pending_alerts(conn, chat_id, "unsubscribed")
        return removed

    def topics(self, chat_id: int) -> list[str]:
        """The chat's topics, sorted; ``""`` stands for every article."""
        rows = query(
            self._conn,
            "SELECT topic FROM subscriptions WHERE chat_id = ? ORDER BY topic",
            (chat_id,),
        )
        return [row["topic"] for row in rows]

    def set_silent(self, chat_id: int, silent: bool) -> bool:
        """Send this chat's alerts without notification sound; False if the chat is unknown."""
        return self._update_chat(chat_id, "silent = ?", (int(silent),))

    def is_silent(self, chat_id: int) -> bool:
        return self._flag(chat_id, "silent")

    def set_language(
        self,
        chat_id: int,
        language: str | None,
        chat_type: str = "private",
        title: str = "",
        now: float | None = None,
    ) -> None:
        """The language the chat chose for the bot's texts (``/language``), or None to follow
        each reader's Telegram language again. A chat that never subscribed gets its row."""
        with transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO chats (chat_id, type, title, created_at, language)"
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (chat_id) DO UPDATE SET language = excluded.language",
                (chat_id, chat_type, title, timestamp(now), language),
            )

    def language(self, chat_id: int) -> str | None:
        """The chat's ``/language`` choice; None when it made none."""
        rows = query(self._conn, "SELECT language FROM chats WHERE chat_id = ?", (chat_id,))
        return rows[0][0] if rows else None

    def chosen_languages(self) -> dict[int, str]:
        """Every chat's ``/language`` choice (the chats that made one)."""
        rows = query(self._conn, "SELECT chat_id, language FROM chats WHERE language IS NOT NULL")
        return {row["chat_id"]: row["language"] for row in rows}

    def remembered_language(self, chat_id: int) -> str:
        """For what goes out with no reader to ask (alerts, admins' notices): the chat's
        choice, else the Telegram language of whoever last subscribed it; "" if neither."""
        rows = query(
            self._conn,
            "SELECT COALESCE(language, reader_language, '') FROM chats WHERE chat_id = ?",
            (chat_id,),
        )
        return rows[0][0] if rows else ""

    def deactivate(self, chat_id: int, reason: str, now: float | None = None) -> bool:
        """The bot can no longer reach the chat: stop alerting it and skip its queued alerts.

        Returns False if the chat was unknown or already inactive (its queued alerts are
        skipped anyway).
        """
        with transaction(self._conn) as conn:
            changed = conn.execute(
                "UPDATE chats SET active = 0, deactivated_at = ?, deactivated_reason = ?"
                " WHERE chat_id = ? AND active = 1",
                (timestamp(now), reason, chat_id),
            ).rowcount
            skip_pending_alerts(conn, chat_id, f"chat deactivated: {reason}")
        return bool(changed)

    def reactivate(self, chat_id: int) -> bool:
        """The chat is reachable again (e.g. it sent /start); False if unknown."""
        return self._update_chat(
            chat_id, "active = 1, deactivated_at = NULL, deactivated_reason = NULL", ()
        )

    def is_active(self, chat_id: int) -> bool:
        return self._flag(chat_id, "active")

    def migrate_chat(self, old_id: int, new_id: int) -> bool:
        """Move a chat to its new id (a group upgraded to a supergroup); False if old is unknown.

        Moves the chat row, its topics and all its outbox rows, sent ones included, so that
        an article already announced under the old id is not announced again under the new
        one. If the new id is already known, its own settings win and the topics are merged
        (even past ``max_topics``: nobody asked for more, so nobody should be refused).
        Moving a chat onto itself does nothing.
        """
        if old_id == new_id:
            return False
        ids = {"old": old_id, "new": new_id}
        with transaction(self._conn) as conn:
            if not conn.execute("SELECT 1 FROM chats WHERE chat_id = :old", ids).fetchone():
                return False
            for statement in (
                "INSERT OR IGNORE INTO chats"
                " (chat_id, type, title, active, silent, created_at,"
                "  deactivated_at, deactivated_reason, language, reader_language)"
                " SELECT :new, type, title, active, silent, created_at,"
                "  deactivated_at, deactivated_reason, language, reader_language"
                " FROM chats WHERE chat_id = :old",
                "INSERT OR IGNORE INTO subscriptions (chat_id, topic, created_at)"
                " SELECT :new, topic, created_at FROM subscriptions WHERE chat_id = :old",
                # Delivered under the old id: drop the new id's queued copy, the sent row moves.
                "DELETE FROM alert_outbox"
                " WHERE chat_id = :new AND status = 'pending' AND article_id IN"
                " (SELECT article_id FROM alert_outbox WHERE chat_id = :old AND status = 'sent')",
                "UPDATE OR IGNORE alert_outbox SET chat_id = :new WHERE chat_id = :old",
                # Cascades to what is left under the old id: duplicates of the new id's rows.
                "DELETE FROM chats WHERE chat_id = :old",
            ):
                conn.execute(statement, ids)
        return True

    def active_subscriptions(self) -> list[tuple[int, str]]:
        """Every ``(chat_id, topic)`` of the chats the bot can still reach."""
        rows = query(
            self._conn,
            "SELECT s.chat_id, s.topic FROM subscriptions AS s"
            " JOIN chats AS c ON c.chat_id = s.chat_id WHERE c.active = 1"
            " ORDER BY s.chat_id, s.topic",
        )
        return [(row["chat_id"], row["topic"]) for row in rows]

    def count_subscribers(self) -> int:
        """Reachable chats with at least one topic."""
        return self._count("COUNT(DISTINCT s.chat_id)")

    def count_topics(self) -> int:
        """Distinct topics followed by reachable chats (``""``, everything, counts as one)."""
        return self._count("COUNT(DISTINCT s.topic)")

    def _count(self, aggregate: str) -> int:
        return query(
            self._conn,
            f"SELECT {aggregate} FROM subscriptions AS s"
            " JOIN chats AS c ON c.chat_id = s.chat_id WHERE c.active = 1",
        )[0][0]

    def _update_chat(self, chat_id: int, assignments: str, params: tuple[object, ...]) -> bool:
        with transaction(self._conn) as conn:
            return bool(
                conn.execute(
                    f"UPDATE chats SET {assignments} WHERE chat_id = ?", (*params, chat_id)
                ).rowcount
            )

    def _flag(self, chat_id: int, column: str) -> bool:
        rows = query(self._conn, f"SELECT {column} FROM chats WHERE chat_id = ?", (chat_id,))
        return bool(rows and rows[0][0])
