"""The newsroom's Telegram channel as a source: every post with text or a caption becomes
an article under ``channels/<channel>/``.

* title: the post's first line; body: the rest (the first line when there is no rest);
  citation: the post's t.me link; date: the post's;
* an album (posts sharing a ``media_group_id``) is one article, written from all its posts;
* a link in the post that leads to an article page is followed, and the page's text is
  added after the post's (a page that fails or is a teaser adds nothing);
* an edited post rewrites its article (same file, same id: not announced again);
* posts are not announced to subscribers (they read the channel already) unless
  ``announce`` is on (``BOT_CHANNEL_ALERTS=1``): their ids go into the alert ledger before
  their files exist;
* ``allowed`` (``BOT_CHANNELS``: ids or @usernames) restricts which channels are archived.

Nothing here knows Telegram: the adapter (``bot/telegram_app/handlers/channels.py``)
hands over :class:`~bot.store.Channel` and :class:`~bot.store.ChannelPost`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.articles.model import article_id
from bot.articles.normalise import clean_inline, split_paragraphs
from bot.store import AlertOutbox, Channel, ChannelPost, ChannelStore

from .files import ArticleDraft, slug, write_article
from .pages import Page

CHANNELS_FOLDER = "channels"
TITLE_CHARS = 120
LINKED_PAGE_WORDS = 50  # a linked page with less text is not an article page


@dataclass(frozen=True, slots=True)
class ChannelRules:
    allowed: frozenset[str] = frozenset()  # ids ("-100…") and lower-case usernames; empty: all
    announce: bool = False

    def allows(self, channel: Channel) -> bool:
        if not self.allowed:
            return True
        return str(channel.chat_id) in self.allowed or (
            bool(channel.username) and channel.username.casefold() in self.allowed
        )


@dataclass(frozen=True, slots=True)
class PostArchived:
    """The article a post (or its album) became."""

    path: str
    article_id: str
    title: str
    posts: int  # posts it was written from (an album's parts)
    linked_page: str = ""  # the page whose text was added, if any


def post_link(channel: Channel, message_id: int) -> str:
    """The post's public link: t.me/<username>/<id>, or t.me/c/<id>/<id> for a private
    channel (members only)."""
    if channel.username:
        return f"https://t.me/{channel.username}/{message_id}"
    internal = str(channel.chat_id).removeprefix("-100")
    return f"https://t.me/c/{internal}/{message_id}"


def channel_folder(channel: Channel) -> str:
    name = channel.username or f"c{str(channel.chat_id).removeprefix('-100')}"
    return f"{CHANNELS_FOLDER}/{slug(name)}"


def article_link(links: tuple[str, ...]) -> str:
    """The first link of a post that may lead to an article page (not back to Telegram)."""
    for link in links:
        host = (urlsplit(link).hostname or "").casefold()
        if urlsplit(link).scheme in ("http", "https") and host not in ("t.me", "telegram.me"):
            return link
    return ""


def draft_post(
    channel: Channel, posts: list[ChannelPost], page: Page | None = None
) -> ArticleDraft | None:
    """The article of a post or album; None when none of its posts has text."""
    lines = "\n\n".join(p.text for p in posts).strip().splitlines()
    first_line = clean_inline(lines[0]) if lines else ""
    if not first_line:
        return None
    title = first_line if len(first_line) <= TITLE_CHARS else first_line[: TITLE_CHARS - 1] + "…"
    paragraphs = split_paragraphs("\n".join(lines[1:])) or [first_line]
    linked = page is not None and not page.teaser and page.words >= LINKED_PAGE_WORDS
    if linked:
        paragraphs += [p for p in page.paragraphs if p not in paragraphs]
    first = posts[0]
    return ArticleDraft(
        title=title,
        paragraphs=tuple(paragraphs),
        url=post_link(channel, first.message_id),
        source=channel.title or channel.username,
        date=dt.datetime.fromtimestamp(first.posted_at, dt.UTC).date(),
        origin={
            "channel": channel.username or str(channel.chat_id),
            **({"linked_url": page.url} if linked and page is not None else {}),
        },
    )


class ChannelArchive:
    def __init__(
        self,
        corpus_dir: Path,
        store: ChannelStore,
        outbox: AlertOutbox,
        rules: ChannelRules = ChannelRules(),
    ) -> None:
        self.corpus_dir = corpus_dir
        self.store = store
        self.outbox = outbox
        self.rules = rules
        # One post of a channel at a time: an album's posts come in together, and each
        # writes the album's article from what is stored, so none may overtake another.
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    def save(self, channel: Channel, post: ChannelPost) -> tuple[str, list[ChannelPost]] | None:
        """Record the post (blocking); None if the channel is not archived."""
        if not self.rules.allows(channel):
            self.store.refuse(channel)
            return None
        return self.store.save_post(channel, post, channel_folder(channel))

    def write(
        self, channel: Channel, folder: str, posts: list[ChannelPost], page: Page | None
    ) -> PostArchived | None:
        """Write the article of ``posts`` (blocking); None when they hold no text."""
        draft = draft_post(channel, posts, page)
        if draft is None:
            return None
        first = posts[0]
        name = f"album-{first.media_group_id}" if first.media_group_id else str(first.message_id)
        relpath = f"{folder}/{name}.md"
        identifier = article_id(relpath)
        if not self.rules.announce:
            self.outbox.record_new_articles([(identifier, draft.title)])
        write_article(self.corpus_dir, relpath, draft)
        return PostArchived(
            relpath, identifier, draft.title, len(posts), draft.origin.get("linked_url", "")
        )

    async def archive(self, channel: Channel, post: ChannelPost, fetch_page) -> PostArchived | None:
        """Store the post and write its article; ``fetch_page(url)`` gives the linked page
        (or None). None when the channel is not archived or the post has no text."""
        async with self._locks[channel.chat_id]:
            saved = await asyncio.to_thread(self.save, channel, post)
            if saved is None:
                return None
            folder, posts = saved
            link = article_link(tuple(link for p in posts for link in p.links))
            has_text = any(p.text.strip() for p in posts)
            page = await fetch_page(link) if link and has_text else None
            return await asyncio.to_thread(self.write, channel, folder, posts, page)
