"""A local chat in the terminal with the same core and commands as the Telegram bot, so a
newcomer sees it work without a token. The local user is treated as an admin, and reads the
bot's texts in BOT_LANGUAGE (when the bot has it; else English)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import sys
from collections.abc import Callable
from typing import TextIO

from bot.answers.model import Answer
from bot.answers.render_text import render_answer, source_text
from bot.commands import COMMANDS, echo, help_text, reload_text, stats_text
from bot.config import Config
from bot.errors import DataDirLocked
from bot.i18n import choose_texts
from bot.services import Services
from bot.sources.texts import (
    ADD_USAGE,
    FEED_USAGE,
    feed_added_text,
    feed_removed_text,
    feeds_text,
    link_text,
)

log = logging.getLogger(__name__)

PAGE = 3
BOLD = ("\033[1m", "\033[0m")


class Console:
    """One conversation: reads lines, writes replies. Separate from I/O for tests."""

    def __init__(self, services: Services, write: Callable[[str], None], mark=("", "")) -> None:
        self.services = services
        self.write = write
        self.mark = mark
        self.texts = choose_texts(None, None, services.config.language)
        self._last: Answer | None = None
        self._shown = 0

    def handle(self, line: str) -> None:
        line = line.strip()
        if not line.startswith("/"):
            self._ask(line)
            return
        command, _, rest = line[1:].partition(" ")
        command = command.split("@")[0].casefold()
        t = self.texts
        handler = {
            "ask": lambda: (
                self._ask(rest) if rest.strip() else self.write(t.gettext("Usage: /ask <question>"))
            ),
            "more": self._more,
            "start": lambda: self.write(help_text(True, t)),
            "help": lambda: self.write(help_text(True, t)),
            "latest": self._latest,
            "reload": self._reload,
            "stats": lambda: self.write(stats_text(self.services.stats(), t)),
            "feed": lambda: self._feed(rest.split()),
            "feeds": lambda: self.write(feeds_text(self.services.sources.listing(), t)),
            "add": lambda: self._add(rest.strip()),
        }.get(command)
        if handler is not None:
            handler()
        elif command in {c.name for c in COMMANDS}:
            self.write(
                t.gettext(
                    "This works in Telegram: set TELEGRAM_BOT_TOKEN to use {command}.",
                    command="/" + command,
                )
            )
        else:
            self.write(
                t.gettext("Unknown command {command}. Try /help.", command="/" + echo(command))
            )

    def _ask(self, question: str) -> None:
        answer = self.services.engine.ask(question)
        self._last, self._shown = answer, 0
        self._more()
        try:  # bookkeeping after the answer, and never in its way (a full disk)
            self.services.activity.record_question(0, answer.answered)
        except sqlite3.Error as exc:
            log.error("could not count the question: %s", exc)

    def _more(self) -> None:
        answer = self._last
        if answer is None:
            self.write(self.texts.gettext("Ask a question first."))
            return
        if not answer.answered:
            self.write(render_answer(answer, texts=self.texts))
            return
        if self._shown >= len(answer.quotes):
            self.write(self.texts.gettext("No more quotes."))
            return
        page = Answer(
            answer.question, answer.status, answer.quotes[self._shown : self._shown + PAGE]
        )
        self._shown += PAGE
        text = render_answer(page, self.mark, self.texts)
        if self._shown < len(answer.quotes):
            left = len(answer.quotes) - self._shown
            text += "\n\n" + self.texts.ngettext(
                "(/more for {n} more)", "(/more for {n} more)", left
            )
        self.write(text)

    def _latest(self) -> None:
        lines = [
            f"- {source_text(a.title, a.source, a.date, self.texts)}"
            for a in self.services.current_index().newest(8)
        ]
        self.write("\n".join(lines) or self.texts.gettext("No articles yet."))

    def _reload(self) -> None:
        self.write(reload_text(asyncio.run(self.services.reload()), self.texts))

    def _feed(self, args: list[str]) -> None:
        sources = self.services.sources
        if len(args) == 2 and args[0] == "add":
            self.write(feed_added_text(asyncio.run(sources.add_feed(args[1])), self.texts))
        elif len(args) in (2, 3) and args[0] == "remove" and args[2:] in ([], ["--purge"]):
            removed = asyncio.run(sources.remove_feed(args[1], purge=args[2:] == ["--purge"]))
            self.write(feed_removed_text(removed, args[1], self.texts))
        else:
            self.write(self.texts.gettext(FEED_USAGE))

    def _add(self, url: str) -> None:
        if not url or " " in url:
            self.write(self.texts.gettext(ADD_USAGE))
            return
        self.write(link_text(asyncio.run(self.services.sources.add_link(url)), self.texts))


def run_console(config: Config, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    try:
        services = Services.open(config)
    except DataDirLocked as exc:
        print(f"Cannot start: {exc}.", file=sys.stderr)
        return 4
    try:
        asyncio.run(services.catch_up_alerts())  # recorded now, delivered by the Telegram bot
        console = Console(
            services,
            lambda text: print(text + "\n", file=stdout, flush=True),
            BOLD if stdout.isatty() else ("", ""),
        )
        articles = services.current_index().article_count
        console.write(
            console.texts.ngettext(
                "{n} article loaded. Ask a question, or /help.",
                "{n} articles loaded. Ask a question, or /help.",
                articles,
            )
        )
        for line in stdin:
            console.handle(line)
    finally:
        services.close()
    return 0
