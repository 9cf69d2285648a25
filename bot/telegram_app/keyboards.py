"""Inline keyboards, and the callback data of their buttons: built and parsed here only.

Callback data is ``<prefix>:<payload>``, well under Telegram's 64 bytes:

* ``more:<token>:<quote>``: the next page of a stored question, from quote ``<quote>`` (≥ 1);
* ``unsub:<key>``: remove the chat's topic whose :func:`topic_key` is ``<key>``.

Anyone can send any callback data (a modified client), so parsing is strict: anything
else is ``None`` and gets a short notice.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.answers.model import Answer
from bot.articles.model import Article
from bot.telegram_app.render import answer_page, shorten, unanswered_html

MORE_PREFIX = "more"
UNSUBSCRIBE_PREFIX = "unsub"
MAX_QUOTE_NUMBER = 9999  # far above any answer's quotes; bounds what a forged press may ask
READ_LABEL_CHARS = 40
REMOVE_LABEL_CHARS = 60
STALE_BUTTON = "This button does not work here."  # the notice for any press not understood

_MORE = re.compile(rf"{MORE_PREFIX}:([A-Za-z0-9_-]{{1,16}}):([1-9][0-9]{{0,3}})")
_UNSUBSCRIBE = re.compile(rf"{UNSUBSCRIBE_PREFIX}:([0-9a-f]{{12}})")


# -- "More" --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MorePress:
    token: str
    first: int  # the first quote of the page asked for


def more_data(token: str, first: int) -> str:
    return f"{MORE_PREFIX}:{token}:{first}"


def parse_more(data: str | None) -> MorePress | None:
    match = _MORE.fullmatch(data or "")
    return MorePress(match[1], int(match[2])) if match else None


@dataclass(frozen=True, slots=True)
class Reply:
    """One page of an answer, ready to send."""

    html: str
    keyboard: InlineKeyboardMarkup | None = None
    more: bool = False  # has a "More" button, which works once its question is stored


def answer_reply(answer: Answer, token: str | None, first: int = 0) -> Reply:
    """The page of ``answer`` from quote ``first``: a "More" button (with ``token``) when
    quotes are left, and a "Read" link per article shown."""
    if not answer.answered:
        return Reply(unanswered_html(answer))
    html, next_quote = answer_page(answer, first)
    more = token is not None and next_quote < len(answer.quotes)
    rows = []
    if more:
        rows.append([InlineKeyboardButton("More ▸", callback_data=more_data(token, next_quote))])
    links = {
        q.citation.url: q.citation.title for q in answer.quotes[first:next_quote] if q.citation.url
    }
    rows += [
        [InlineKeyboardButton(f"Read: {shorten(title, READ_LABEL_CHARS)}", url=url)]
        for url, title in links.items()
    ]
    return Reply(html, InlineKeyboardMarkup(rows) if rows else None, more)


# -- subscriptions -------------------------------------------------------------------------


def topic_key(topic: str) -> str:
    """A short stand-in for a topic in callback data (topics may be up to 100 characters,
    callback data only 64 bytes); the handler looks the topic up among the chat's own."""
    return hashlib.sha1(topic.encode()).hexdigest()[:12]


def parse_unsubscribe(data: str | None) -> str | None:
    """The topic key of an ``unsub:`` press, or None."""
    match = _UNSUBSCRIBE.fullmatch(data or "")
    return match[1] if match else None


def describe_topic(topic: str) -> str:
    return "every new article" if topic == "" else f"“{topic}”"


def topics_keyboard(topics: list[str]) -> InlineKeyboardMarkup | None:
    """One "Remove …" button per topic."""
    rows = [
        [
            InlineKeyboardButton(
                shorten(f"Remove {describe_topic(t)}", REMOVE_LABEL_CHARS),
                callback_data=f"{UNSUBSCRIBE_PREFIX}:{topic_key(t)}",
            )
        ]
        for t in topics
    ]
    return InlineKeyboardMarkup(rows) if rows else None


# -- alerts --------------------------------------------------------------------------------


def alert_keyboard(article: Article) -> InlineKeyboardMarkup:
    """ "Ask about this article" (inline query in the same chat), and a link when known."""
    rows = [
        [
            InlineKeyboardButton(
                "Ask about this article", switch_inline_query_current_chat=shorten(article.title)
            )
        ]
    ]
    if article.url:
        rows.append([InlineKeyboardButton("Read the article", url=article.url)])
    return InlineKeyboardMarkup(rows)
