"""Inline keyboards, and the callback data of their buttons: built and parsed here only.

Callback data is ``<prefix>:<payload>``, well under Telegram's 64 bytes:

* ``more:<token>:<quote>``: the next page of a stored question, from quote ``<quote>`` (≥ 1);
* ``about:<key>``: "Ask about this article" (alerts, and each article of an answer): the
  article whose :func:`~bot.store.article_key` is ``<key>`` (16 hex digits), looked up in
  the store's ``article_keys``, where the button's sender registered it;
* ``unsub:<key>``: remove the chat's topic whose :func:`topic_key` is ``<key>``;
* ``lang:<code>``: the chat's language for the bot's texts, one of
  :func:`~bot.i18n.available_languages` (``lang:auto``: each reader's Telegram language).

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
from bot.i18n import N_, Texts, available_languages, texts_for
from bot.store import article_key
from bot.telegram_app.render import answer_page, shorten, unanswered_html

MORE_PREFIX = "more"
ABOUT_PREFIX = "about"
UNSUBSCRIBE_PREFIX = "unsub"
LANGUAGE_PREFIX = "lang"
AUTOMATIC = "auto"  # the language payload that clears a chat's choice
MAX_QUOTE_NUMBER = 9999  # far above any answer's quotes; bounds what a forged press may ask
READ_LABEL_CHARS = 40
ASK_LABEL_CHARS = 40
TOPIC_LABEL_CHARS = 50
STALE_BUTTON = N_("This button does not work here.")  # the notice for any press not understood
TRY_AGAIN = N_("Sorry, that did not work. Please try again.")  # the store failed meanwhile

_MORE = re.compile(rf"{MORE_PREFIX}:([A-Za-z0-9_-]{{1,16}}):([1-9][0-9]{{0,3}})")
_ABOUT = re.compile(rf"{ABOUT_PREFIX}:([0-9a-f]{{16}})")
_UNSUBSCRIBE = re.compile(rf"{UNSUBSCRIBE_PREFIX}:([0-9a-f]{{12}})")
_LANGUAGE = re.compile(rf"{LANGUAGE_PREFIX}:([a-z]{{2}}|{AUTOMATIC})")


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
    asked_about: tuple[str, ...] = ()  # ids of the articles with an "Ask about" button


def answer_reply(answer: Answer, token: str | None, texts: Texts, first: int = 0) -> Reply:
    """The page of ``answer`` from quote ``first``: a "More" button (with ``token``) when
    quotes are left, then a row per article shown: its "Read" link (when it has a URL) and
    its "Ask about" button."""
    if not answer.answered:
        return Reply(unanswered_html(answer, texts))
    html, next_quote = answer_page(answer, first, texts)
    more = token is not None and next_quote < len(answer.quotes)
    rows = []
    if more:
        rows.append(
            [
                InlineKeyboardButton(
                    # TRANSLATORS: the button showing the next quotes; the arrow points onwards.
                    texts.gettext("More ▸"),
                    callback_data=more_data(token, next_quote),
                )
            ]
        )
    shown = {q.citation.article_id: q.citation for q in answer.quotes[first:next_quote]}
    rows += [_article_row(c.article_id, c.title, c.url, texts) for c in shown.values()]
    return Reply(html, InlineKeyboardMarkup(rows) if rows else None, more, tuple(shown))


def _article_row(article_id: str, title: str, url: str, texts: Texts) -> list:
    ask = about_data(article_id)
    if not url:  # the Ask button alone must say which article it is about
        label = texts.gettext("Ask about: {title}", title=shorten(title, ASK_LABEL_CHARS))
        return [InlineKeyboardButton(label, callback_data=ask)]
    return [
        InlineKeyboardButton(
            texts.gettext("Read: {title}", title=shorten(title, READ_LABEL_CHARS)), url=url
        ),
        # TRANSLATORS: beside "Read: <title>": ask a question answered from that article only.
        InlineKeyboardButton(texts.gettext("Ask about it"), callback_data=ask),
    ]


# -- "Ask about this article" --------------------------------------------------------------


def about_data(article_id: str) -> str:
    return f"{ABOUT_PREFIX}:{article_key(article_id)}"


def parse_about(data: str | None) -> str | None:
    """The article key of an ``about:`` press, or None."""
    match = _ABOUT.fullmatch(data or "")
    return match[1] if match else None


# -- subscriptions -------------------------------------------------------------------------


def topic_key(topic: str) -> str:
    """A short stand-in for a topic in callback data (topics may be up to 100 characters,
    callback data only 64 bytes); the handler looks the topic up among the chat's own."""
    return hashlib.sha1(topic.encode()).hexdigest()[:12]


def parse_unsubscribe(data: str | None) -> str | None:
    """The topic key of an ``unsub:`` press, or None."""
    match = _UNSUBSCRIBE.fullmatch(data or "")
    return match[1] if match else None


def describe_topic(topic: str, texts: Texts) -> str:
    if topic == "":
        return texts.gettext("every new article")
    # TRANSLATORS: a topic the reader subscribed to, in the language's quotation marks.
    return texts.gettext("“{topic}”", topic=topic)


def topics_keyboard(topics: list[str], texts: Texts) -> InlineKeyboardMarkup | None:
    """One "Remove …" button per topic."""
    rows = [
        [
            InlineKeyboardButton(
                texts.gettext(
                    "Remove {topic}", topic=describe_topic(shorten(t, TOPIC_LABEL_CHARS), texts)
                ),
                callback_data=f"{UNSUBSCRIBE_PREFIX}:{topic_key(t)}",
            )
        ]
        for t in topics
    ]
    return InlineKeyboardMarkup(rows) if rows else None


# -- languages -----------------------------------------------------------------------------


def language_choice(code: str) -> str | None:
    """``code`` if the bot has that language or it is ``AUTOMATIC``, else None."""
    return code if code == AUTOMATIC or code in available_languages() else None


def parse_language(data: str | None) -> str | None:
    """The choice of a ``lang:`` press (see :func:`language_choice`), or None."""
    match = _LANGUAGE.fullmatch(data or "")
    return language_choice(match[1]) if match else None


def language_keyboard(chosen: str | None, texts: Texts) -> InlineKeyboardMarkup:
    """One button per language, each in its own name, the chat's choice ticked; then the
    button that goes back to each reader's Telegram language."""
    rows = [
        [
            InlineKeyboardButton(
                ("✓ " if code == chosen else "") + texts_for(code).name,
                callback_data=f"{LANGUAGE_PREFIX}:{code}",
            )
        ]
        for code in available_languages()
    ]
    automatic = texts.gettext("Telegram's language")
    rows.append(
        [
            InlineKeyboardButton(
                ("✓ " if chosen is None else "") + automatic,
                callback_data=f"{LANGUAGE_PREFIX}:{AUTOMATIC}",
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


# -- alerts --------------------------------------------------------------------------------


def alert_keyboard(article: Article, texts: Texts, ask: bool = True) -> InlineKeyboardMarkup | None:
    """A link to the article when known, and "Ask about this article" (``ask``: when its
    key could be registered)."""
    row = []
    if article.url:
        row.append(InlineKeyboardButton(texts.gettext("Read the article"), url=article.url))
    if ask:
        row.append(
            InlineKeyboardButton(
                texts.gettext("Ask about this article"), callback_data=about_data(article.id)
            )
        )
    return InlineKeyboardMarkup([row]) if row else None
