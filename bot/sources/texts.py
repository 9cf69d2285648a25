"""What admins are told about sources, as plain text (front ends escape it for their
markup): the Telegram handlers and the console share these."""

from __future__ import annotations

import datetime as dt
import time

from .poller import FeedPoll
from .service import FeedAdded, FeedRemoved, LinkOutcome, SourcesListing

FEED_USAGE = (
    "Usage: /feed add <url> (a feed, or a page that announces one), "
    "/feed remove <url or number> [--purge], /feeds to list them."
)
ADD_USAGE = "Usage: /add <url of an article page>"


def _ago(timestamp: float | None, now: float) -> str:
    if timestamp is None:
        return "never"
    seconds = max(0, int(now - timestamp))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    if seconds < 172800:
        return f"{seconds // 3600} h ago"
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")


def feed_added_text(added: FeedAdded) -> str:
    if added.feed is None:
        return f"Cannot follow that link: {added.error}"
    if added.error:
        return f"Not followed: {added.error}"
    feed = added.feed
    name = feed.title or feed.url
    if not added.created:
        return f"Already following {name} ({feed.url})."
    poll = added.poll
    archived = poll.added if poll else 0
    lines = [
        f"Following {name}.",
        f"Feed: {feed.url}" + (f" (found on {added.url})" if feed.url != added.url else ""),
        f"{archived} article(s) archived from it now (searchable, not announced); "
        "new entries from now on are announced.",
    ]
    return "\n".join(lines)


def feed_removed_text(removed: FeedRemoved | None, ref: str) -> str:
    if removed is None:
        return f"No followed feed is {ref!r}. /feeds lists them with their numbers."
    feed = removed.feed
    lines = [f"Stopped following {feed.title or feed.url}."]
    if removed.purged:
        lines.append(f"Deleted its {removed.purged} article(s) from the archive.")
    else:
        lines.append("Its articles stay searchable (/feed remove … --purge deletes them).")
    if feed.from_config:
        lines.append("It is listed in BOT_FEEDS: remove it there too, or it returns at restart.")
    return "\n".join(lines)


def feeds_text(listing: SourcesListing, now: float | None = None) -> str:
    now = time.time() if now is None else now
    if not listing.feeds and not listing.channels:
        return "No feeds or channels yet. /feed add <url> follows a feed."
    lines = [f"Feeds ({len(listing.feeds)}):"] if listing.feeds else ["No feeds."]
    for entry in listing.feeds:
        feed = entry.feed
        state = f"last fetched {_ago(feed.last_success_at, now)}, {entry.articles} article(s)"
        lines.append(f"{entry.number}. {feed.title or '(untitled)'} - {feed.url}")
        lines.append(f"   {state}")
        if feed.failures:
            failing = "FAILING, " if feed.failing_notified else ""
            lines.append(
                f"   {failing}{feed.failures} failure(s) in a row, last: {feed.last_error}"
            )
    if listing.channels:
        lines.append("")
        lines.append(f"Channels ({len(listing.channels)}):")
        for channel in listing.channels:
            name = channel.channel.title or channel.channel.username or channel.channel.chat_id
            state = (
                f"{channel.posts} post(s), last {_ago(channel.last_post_at, now)}"
                if channel.archived
                else "not archived (not in BOT_CHANNELS)"
            )
            lines.append(f"• {name}: {state}")
    return "\n".join(lines)


def link_text(outcome: LinkOutcome) -> str:
    if outcome.added is None:
        return f"Could not add {outcome.url}: {outcome.error}"
    draft = outcome.added.draft
    verb = "Updated" if outcome.added.updated else "Added"
    date = draft.date.isoformat() if draft.date else "no date found"
    lines = [
        f"{verb}: {draft.title}",
        f"{draft.source}, {date}, {len(draft.paragraphs)} paragraph(s), {draft.words} words.",
    ]
    if draft.partial:
        lines.append("Only the part before the paywall notice could be read (marked partial).")
    lines.append(f"File: {outcome.added.path}")
    return "\n".join(lines)


def failing_text(poll: FeedPoll) -> str:
    return (
        f"⚠️ The feed {poll.title or poll.url} is failing ({poll.failures} failures in a row): "
        f"{poll.error}\n{poll.url}\nIt is still polled, less often; /feeds shows its state."
    )
