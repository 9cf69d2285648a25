"""The bot's commands, described once for /help, Telegram's command menu, the console and
the docs test (``tests/test_docs.py``), and the texts front ends share. Every text is a
message id (English), translated with the reader's :class:`~bot.i18n.Texts`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.answers.model import AnswerStatus
from bot.i18n import N_, Texts

if TYPE_CHECKING:
    from bot.services import ReloadOutcome, Stats

EXAMPLE_QUESTION = "What did Pompeo accuse TikTok of?"  # about the seed corpus: not translated


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: str  # placeholders in <> are translated; literal words (on|off, add|remove) are not
    description: str
    admin: bool = False


COMMANDS = (
    Command("ask", N_("<question>"), N_("ask about the articles (in private chats just type it)")),
    Command("latest", "", N_("the newest articles")),
    Command(
        "subscribe",
        N_("[keywords]"),
        N_("alerts for every new article, or for a topic (-word excludes)"),
    ),
    Command("unsubscribe", N_("<topic>|all"), N_("stop alerts for a topic, or all of them")),
    Command("subscriptions", "", N_("your alert topics, with buttons to remove them")),
    Command("silent", "on|off", N_("deliver alerts without a notification sound")),
    Command("language", "", N_("choose the language of my replies")),
    Command("help", "", N_("how to use this bot")),
    Command("start", "", N_("welcome message")),
    Command("reload", "", N_("rescan the corpus and send alerts for new articles"), admin=True),
    Command("stats", "", N_("usage and index figures"), admin=True),
    Command(
        "feed",
        N_("add|remove <url or number>"),
        N_(
            "follow a feed (or a page's feed), or stop following one (--purge deletes its articles)"
        ),
        admin=True,
    ),
    Command(
        "feeds", "", N_("followed feeds and channels: last fetch, articles, errors"), admin=True
    ),
    Command(
        "add",
        N_("<url>"),
        N_("add one article from its link (in a private chat: just send it)"),
        admin=True,
    ),
)

# What each unanswered status tells the reader (plain text; every front end shows these).
STATUS_MESSAGES = {
    AnswerStatus.EMPTY: N_("Please type a question, e.g. “What did Pompeo accuse TikTok of?”"),
    AnswerStatus.TOO_LONG: N_(
        "That question is too long. Please ask in fewer words (up to 1,000 characters)."
    ),
    AnswerStatus.NO_TERMS: N_(
        "I could not find any searchable words in that. Try a question with names or topics."
    ),
    AnswerStatus.NO_MATCH: N_("Nothing in the articles answers this."),
}


def status_text(status: AnswerStatus, texts: Texts) -> str:
    return texts.gettext(STATUS_MESSAGES[status])


ECHO_CHARS = 60  # of the user's own text shown back in a reply


def echo(text: str, limit: int = ECHO_CHARS) -> str:
    """User text shown back in a reply: one line, at most ``limit`` characters, so that a
    refusal never grows with what it refuses."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def command_usage(command: Command, texts: Texts) -> str:
    """ "/ask <question>" in the reader's language (its arguments isolated when they could
    upset the line: "/ask <پرسش>")."""
    args = texts.gettext(command.args)
    return f"/{command.name} {texts.isolate(args)}" if args else f"/{command.name}"


def help_text(is_admin: bool, texts: Texts) -> str:
    """Plain text; front ends escape it for their markup."""
    lines = [
        texts.gettext(
            "Ask me a question about our articles and I reply with the passages that answer "
            "it, each with its source."
        ),
        texts.gettext("Example: {question}", question=EXAMPLE_QUESTION),
        "",
        texts.gettext("Commands:"),
    ]
    lines += [
        # TRANSLATORS: one line of /help: the command with its arguments, then what it does.
        texts.gettext(
            "{command} - {description}",
            command=command_usage(c, texts),
            description=texts.gettext(c.description),
        )
        for c in COMMANDS
        if is_admin or not c.admin
    ]
    return "\n".join(lines)


def stats_text(stats: Stats, texts: Texts) -> str:
    q = stats.questions
    return "\n".join(
        [
            texts.gettext(
                "Articles: {articles}, passages: {passages}",
                articles=stats.articles,
                passages=stats.passages,
            ),
            texts.gettext(
                "Questions today: {answered} answered, {unanswered} unanswered",
                answered=q.answered_today,
                unanswered=q.unanswered_today,
            ),
            texts.gettext(
                "Questions total: {answered} answered, {unanswered} unanswered",
                answered=q.answered_total,
                unanswered=q.unanswered_total,
            ),
            texts.gettext(
                "Index age: {age}, uptime: {uptime}",
                age=texts.duration(stats.index_age_s),
                uptime=texts.duration(stats.uptime_s),
            ),
            texts.gettext(
                "Subscribers: {subscribers}, topics: {topics}",
                subscribers=stats.subscribers,
                topics=stats.topics,
            ),
            texts.gettext(
                "Alerts: {sent} sent, {pending} pending, {failed} failed",
                sent=stats.alerts.sent,
                pending=stats.alerts.undelivered,
                failed=stats.alerts.failed,
            ),
        ]
    )


def _articles(n: int, texts: Texts) -> str:
    return texts.ngettext("{n} article", "{n} articles", n)


def _passages(n: int, texts: Texts) -> str:
    return texts.ngettext("{n} passage", "{n} passages", n)


def reload_text(outcome: ReloadOutcome, texts: Texts) -> str:
    """Result of a reload for editors (plain text)."""
    report = outcome.report
    articles, passages = _articles(report.articles, texts), _passages(report.passages, texts)
    if not report.rebuilt:
        lines = [
            texts.gettext(
                "No corpus file changed: {articles}, {passages} in service.",
                articles=articles,
                passages=passages,
            )
        ]
    else:
        lines = [
            texts.gettext(
                "Reloaded in {seconds} s: {articles}, {passages}.",
                seconds=texts.number(report.seconds, decimals=1),
                articles=articles,
                passages=passages,
            ),
            texts.gettext(
                "Added {added}, changed {changed}, removed {removed}, skipped {skipped}.",
                added=len(report.added),
                changed=len(report.changed),
                removed=len(report.removed),
                skipped=len(report.skipped),
            ),
        ]
        lines += [texts.gettext("New: {title}", title=a.title) for a in report.added[:10]]
        lines += [
            texts.gettext("Skipped {path}: {reason}", path=str(s.path), reason=s.reason)
            for s in report.skipped[:10]
        ]
    if outcome.alert_error is not None:
        lines.append(
            texts.gettext(
                "The new index is live, but its alerts could not be queued ({error}); they go "
                "out after the next reload.",
                error=str(outcome.alert_error),
            )
        )
    else:
        lines.append(texts.gettext("Alerts queued: {n}.", n=outcome.queued))
    return "\n".join(lines)
