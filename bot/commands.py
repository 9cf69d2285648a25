"""The bot's commands, described once for /help, Telegram's command menu, the console and
the docs test (``tests/test_docs.py``), and the texts front ends share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services import ReloadOutcome, Stats

EXAMPLE_QUESTION = "What did Pompeo accuse TikTok of?"


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: str
    description: str
    admin: bool = False


COMMANDS = (
    Command("ask", "<question>", "ask about the articles (in private chats just type it)"),
    Command("latest", "", "the newest articles"),
    Command(
        "subscribe", "[keywords]", "alerts for every new article, or for a topic (-word excludes)"
    ),
    Command("unsubscribe", "<topic>|all", "stop alerts for a topic, or all of them"),
    Command("subscriptions", "", "your alert topics, with buttons to remove them"),
    Command("silent", "on|off", "deliver alerts without a notification sound"),
    Command("help", "", "how to use this bot"),
    Command("start", "", "welcome message"),
    Command("reload", "", "rescan the corpus and send alerts for new articles", admin=True),
    Command("stats", "", "usage and index figures", admin=True),
    Command(
        "feed",
        "add|remove <url or number>",
        "follow a feed (or a page's feed), or stop following one (--purge deletes its articles)",
        admin=True,
    ),
    Command("feeds", "", "followed feeds and channels: last fetch, articles, errors", admin=True),
    Command(
        "add",
        "<url>",
        "add one article from its link (in a private chat: just send it)",
        admin=True,
    ),
)


ECHO_CHARS = 60  # of the user's own text shown back in a reply


def echo(text: str, limit: int = ECHO_CHARS) -> str:
    """User text shown back in a reply: one line, at most ``limit`` characters, so that a
    refusal never grows with what it refuses."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def help_text(is_admin: bool) -> str:
    """Plain text; front ends escape it for their markup."""
    lines = [
        "Ask me a question about our articles and I reply with the passages that answer it, "
        "each with its source.",
        f"Example: {EXAMPLE_QUESTION}",
        "",
        "Commands:",
    ]
    lines += [
        f"/{c.name} {c.args}".rstrip() + f" - {c.description}"
        for c in COMMANDS
        if is_admin or not c.admin
    ]
    return "\n".join(lines)


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def stats_text(stats: Stats) -> str:
    q = stats.questions
    return "\n".join(
        [
            f"Articles: {stats.articles}, passages: {stats.passages}",
            f"Questions today: {q.answered_today} answered, {q.unanswered_today} unanswered",
            f"Questions total: {q.answered_total} answered, {q.unanswered_total} unanswered",
            f"Index age: {format_duration(stats.index_age_s)}, "
            f"uptime: {format_duration(stats.uptime_s)}",
            f"Subscribers: {stats.subscribers}, topics: {stats.topics}",
            f"Alerts: {stats.alerts.sent} sent, {stats.alerts.undelivered} pending, "
            f"{stats.alerts.failed} failed",
        ]
    )


def reload_text(outcome: ReloadOutcome) -> str:
    """Result of a reload for editors (plain text)."""
    report = outcome.report
    if not report.rebuilt:
        lines = [
            f"No corpus file changed: {report.articles} articles, {report.passages} passages "
            "in service."
        ]
    else:
        lines = [
            f"Reloaded in {report.seconds:.1f} s: {report.articles} articles, "
            f"{report.passages} passages.",
            f"Added {len(report.added)}, changed {len(report.changed)}, "
            f"removed {len(report.removed)}, skipped {len(report.skipped)}.",
        ]
        lines += [f"New: {a.title}" for a in report.added[:10]]
        lines += [f"Skipped {s.path}: {s.reason}" for s in report.skipped[:10]]
    if outcome.alert_error is not None:
        lines.append(
            "The new index is live, but its alerts could not be queued "
            f"({outcome.alert_error}); they go out after the next reload."
        )
    else:
        lines.append(f"Alerts queued: {outcome.queued}.")
    return "\n".join(lines)
