"""Telegram channels the bot archives, and their posts as Telegram sent them.

Posts are kept because an album arrives as several posts (one per photo, usually one with
the caption) and its article is written from all of them; an edit replaces one post's text
and the album's article is written again from the stored rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from .db import StoreConnection, query, timestamp, transaction


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel as last seen: its id, @username (may be empty) and title."""

    chat_id: int
    username: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class ChannelPost:
    """One post (or an edit of it): its text or caption and the links it holds."""

    chat_id: int
    message_id: int
    text: str
    posted_at: float
    links: tuple[str, ...] = ()
    media_group_id: str | None = None
    edited_at: float | None = None


@dataclass(frozen=True, slots=True)
class ChannelListing:
    channel: Channel
    archived: bool
    posts: int
    last_post_at: float | None


class ChannelStore:
    """The ``channels`` and ``channel_posts`` tables."""

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def save_post(
        self, channel: Channel, post: ChannelPost, folder: str, now: float | None = None
    ) -> tuple[str, list[ChannelPost]]:
        """Store ``post`` (new or edited); return the channel's folder (``folder`` unless it
        has one already) and the posts its article is written from: the album's, oldest
        first, or the post alone. An edit older than the stored one (updates can come out
        of order after a restart) changes nothing."""
        now = timestamp(now)
        with transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO channels (chat_id, username, title, folder, archived,"
                " first_seen_at, last_post_at) VALUES (?, ?, ?, ?, 1, ?, ?)"
                " ON CONFLICT (chat_id) DO UPDATE SET username = excluded.username,"
                " title = excluded.title, archived = 1, folder = COALESCE(folder, ?),"
                " last_post_at = MAX(COALESCE(last_post_at, 0), excluded.last_post_at)",
                (channel.chat_id, channel.username, channel.title, folder, now, post.posted_at,
                 folder),
            )  # fmt: skip
            stored_folder = conn.execute(
                "SELECT folder FROM channels WHERE chat_id = ?", (channel.chat_id,)
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO channel_posts (chat_id, message_id, media_group_id, text, links,"
                " posted_at, edited_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (chat_id, message_id) DO UPDATE SET text = excluded.text,"
                " links = excluded.links, edited_at = excluded.edited_at"
                " WHERE COALESCE(excluded.edited_at, 0) >= COALESCE(channel_posts.edited_at, 0)",
                (
                    post.chat_id,
                    post.message_id,
                    post.media_group_id,
                    post.text,
                    "\n".join(post.links),
                    post.posted_at,
                    post.edited_at,
                ),
            )
            if post.media_group_id is None:
                where, params = "message_id = ?", (post.chat_id, post.message_id)
            else:
                where, params = "media_group_id = ?", (post.chat_id, post.media_group_id)
            rows = conn.execute(
                "SELECT chat_id, message_id, media_group_id, text, links, posted_at, edited_at"
                f" FROM channel_posts WHERE chat_id = ? AND {where} ORDER BY message_id",
                params,
            ).fetchall()
        return stored_folder, [
            ChannelPost(
                chat_id=r["chat_id"],
                message_id=r["message_id"],
                text=r["text"],
                posted_at=r["posted_at"],
                links=tuple(filter(None, r["links"].split("\n"))),
                media_group_id=r["media_group_id"],
                edited_at=r["edited_at"],
            )
            for r in rows
        ]

    def refuse(self, channel: Channel, now: float | None = None) -> None:
        """Record a channel whose posts are not archived (not in BOT_CHANNELS)."""
        now = timestamp(now)
        with transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO channels (chat_id, username, title, archived, first_seen_at)"
                " VALUES (?, ?, ?, 0, ?) ON CONFLICT (chat_id) DO UPDATE SET"
                " username = excluded.username, title = excluded.title, archived = 0",
                (channel.chat_id, channel.username, channel.title, now),
            )

    def listing(self) -> list[ChannelListing]:
        rows = query(
            self._conn,
            "SELECT c.chat_id, c.username, c.title, c.archived, c.last_post_at,"
            " (SELECT COUNT(*) FROM channel_posts AS p WHERE p.chat_id = c.chat_id) AS posts"
            " FROM channels AS c ORDER BY c.first_seen_at, c.chat_id",
        )
        return [
            ChannelListing(
                Channel(r["chat_id"], r["username"], r["title"]),
                bool(r["archived"]),
                r["posts"],
                r["last_post_at"],
            )
            for r in rows
        ]
