"""The bot's commands, described once for /help, Telegram's command menu, the console and
the README test."""

from __future__ import annotations

from dataclasses import dataclass

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
)


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


def stats_text(stats: dict[str, object]) -> str:
    pending = stats["alerts_pending"] + stats["alerts_sending"]
    return "\n".join(
        [
            f"Articles: {stats['articles']}, passages: {stats['passages']}",
            f"Questions today: {stats['answered_today']} answered, "
            f"{stats['unanswered_today']} unanswered",
            f"Questions total: {stats['answered_total']} answered, "
            f"{stats['unanswered_total']} unanswered",
            f"Index age: {format_duration(stats['index_age_s'])}, "
            f"uptime: {format_duration(stats['uptime_s'])}",
            f"Subscribers: {stats['subscribers']}, topics: {stats['topics']}",
            f"Alerts: {stats['alerts_sent']} sent, {pending} pending, "
            f"{stats['alerts_failed']} failed",
        ]
    )


def reload_text(report, queued: int) -> str:
    """Result of a reload for editors (plain text)."""
    if not report.rebuilt:
        return (
            f"No corpus file changed: {report.articles} articles, {report.passages} passages "
            f"in service. Alerts queued: {queued}."
        )
    lines = [
        f"Reloaded in {report.seconds:.1f} s: {report.articles} articles, "
        f"{report.passages} passages.",
        f"Added {len(report.added)}, changed {len(report.changed)}, removed {len(report.removed)}, "
        f"skipped {len(report.skipped)}.",
    ]
    lines += [f"New: {a.title}" for a in report.added[:10]]
    lines += [f"Skipped {s.path}: {s.reason}" for s in report.skipped[:10]]
    lines.append(f"Alerts queued: {queued}.")
    return "\n".join(lines)
