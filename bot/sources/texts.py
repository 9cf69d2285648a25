"""What admins are told about sources, as plain text (front ends escape it for their
markup) in the admin's language (a :class:`~bot.i18n.Texts`): the Telegram handlers and the
console share these. Details that come from the fetch itself (an HTTP status, a parser's
complaint) stay as the core wrote them."""

from __future__ import annotations

import datetime as dt
import time

from bot.i18n import N_, Texts

from .poller import FeedPoll
from .service import FeedAdded, FeedRemoved, LinkOutcome, SourcesListing

FEED_USAGE = N_(
    "Usage: /feed add <url> (a feed, or a page that announces one), "
    "/feed remove <url or number> [--purge], /feeds to list them."
)
ADD_USAGE = N_("Usage: /add <url of an article page>")
_RECENT = 2 * 86400  # seconds: said as "… ago" up to two days, then as a date


def _ago(timestamp: float | None, now: float, texts: Texts) -> str:
    if timestamp is None:
        return texts.gettext("never")
    seconds = max(0.0, now - timestamp)
    if seconds < _RECENT:
        return texts.ago(seconds)
    return texts.date(dt.datetime.fromtimestamp(timestamp, dt.UTC).date())


def feed_added_text(added: FeedAdded, texts: Texts) -> str:
    if added.feed is None:
        return texts.gettext("Cannot follow that link: {error}", error=added.error)
    if added.error:
        return texts.gettext("Not followed: {error}", error=added.error)
    feed = added.feed
    name = feed.title or feed.url
    if not added.created:
        return texts.gettext("Already following {name} ({url}).", name=name, url=feed.url)
    poll = added.poll
    archived = poll.added if poll else 0
    found = (
        texts.gettext("Feed: {url} (found on {page})", url=feed.url, page=added.url)
        if feed.url != added.url
        else texts.gettext("Feed: {url}", url=feed.url)
    )
    lines = [
        texts.gettext("Following {name}.", name=name),
        found,
        texts.ngettext(
            "{n} article archived from it now (searchable, not announced); new entries from "
            "now on are announced.",
            "{n} articles archived from it now (searchable, not announced); new entries from "
            "now on are announced.",
            archived,
        ),
    ]
    return "\n".join(lines)


def feed_removed_text(removed: FeedRemoved | None, ref: str, texts: Texts) -> str:
    if removed is None:
        return texts.gettext(
            "No followed feed is “{ref}”. /feeds lists them with their numbers.", ref=ref
        )
    feed = removed.feed
    lines = [texts.gettext("Stopped following {name}.", name=feed.title or feed.url)]
    if removed.purged:
        lines.append(
            texts.ngettext(
                "Deleted its {n} article from the archive.",
                "Deleted its {n} articles from the archive.",
                removed.purged,
            )
        )
    else:
        lines.append(
            texts.gettext("Its articles stay searchable (/feed remove … --purge deletes them).")
        )
    if feed.from_config:
        lines.append(
            texts.gettext(
                "It is listed in BOT_FEEDS: remove it there too, or it returns at restart."
            )
        )
    return "\n".join(lines)


def feeds_text(listing: SourcesListing, texts: Texts, now: float | None = None) -> str:
    now = time.time() if now is None else now
    if not listing.feeds and not listing.channels:
        return texts.gettext("No feeds or channels yet. /feed add <url> follows a feed.")
    lines = (
        [texts.gettext("Feeds ({n}):", n=len(listing.feeds))]
        if listing.feeds
        else [texts.gettext("No feeds.")]
    )
    for entry in listing.feeds:
        feed = entry.feed
        lines.append(
            texts.gettext(
                "{number}. {title} - {url}",
                number=entry.number,
                title=feed.title or texts.gettext("(untitled)"),
                url=feed.url,
            )
        )
        articles = texts.ngettext("{n} article", "{n} articles", entry.articles)
        lines.append(
            "   "
            + texts.gettext(
                "last fetched {ago}, {articles}",
                ago=_ago(feed.last_success_at, now, texts),
                articles=articles,
            )
        )
        if feed.failures:
            failures = texts.ngettext(
                "{n} failure in a row, last: {error}",
                "{n} failures in a row, last: {error}",
                feed.failures,
                error=feed.last_error or "",
            )
            if feed.failing_notified:
                failures = texts.gettext("FAILING, {failures}", failures=failures)
            lines.append("   " + failures)
    if listing.channels:
        lines.append("")
        lines.append(texts.gettext("Channels ({n}):", n=len(listing.channels)))
        for channel in listing.channels:
            name = channel.channel.title or channel.channel.username or str(channel.channel.chat_id)
            state = (
                texts.ngettext(
                    "{n} post, last {ago}",
                    "{n} posts, last {ago}",
                    channel.posts,
                    ago=_ago(channel.last_post_at, now, texts),
                )
                if channel.archived
                else texts.gettext("not archived (not in BOT_CHANNELS)")
            )
            lines.append(texts.gettext("• {name}: {state}", name=name, state=state))
    return "\n".join(lines)


def link_text(outcome: LinkOutcome, texts: Texts) -> str:
    if outcome.added is None:
        return texts.gettext("Could not add {url}: {error}", url=outcome.url, error=outcome.error)
    draft = outcome.added.draft
    lines = [
        texts.gettext("Updated: {title}", title=draft.title)
        if outcome.added.updated
        else texts.gettext("Added: {title}", title=draft.title),
        texts.gettext(
            "{source}, {date}, {paragraphs}, {words}.",
            source=draft.source,
            date=texts.date(draft.date) if draft.date else texts.gettext("no date found"),
            paragraphs=texts.ngettext("{n} paragraph", "{n} paragraphs", len(draft.paragraphs)),
            words=texts.ngettext("{n} word", "{n} words", draft.words),
        ),
    ]
    if draft.partial:
        lines.append(
            texts.gettext("Only the part before the paywall notice could be read (marked partial).")
        )
    lines.append(texts.gettext("File: {path}", path=str(outcome.added.path)))
    return "\n".join(lines)


def failing_text(poll: FeedPoll, texts: Texts) -> str:
    return texts.ngettext(
        "⚠️ The feed {name} is failing ({n} failure in a row): {error}\n{url}\n"
        "It is still polled, less often; /feeds shows its state.",
        "⚠️ The feed {name} is failing ({n} failures in a row): {error}\n{url}\n"
        "It is still polled, less often; /feeds shows its state.",
        poll.failures,
        name=poll.title or poll.url,
        error=poll.error,
        url=poll.url,
    )
