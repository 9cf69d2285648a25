"""Shared test helpers: constants, corpus files, conversations with the bot through the fake
Bot API, and waits on events (never on sleeps). Fixtures are in ``conftest.py``."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import weakref
from collections.abc import Callable
from pathlib import Path

from fake_bot_api import parse_html, utf16_len

from bot.answers.model import Answer, AnswerStatus, Citation, Quote

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:TEST-e2e-token-0123456789abcdef"
ADMIN = 1
QUESTION = "What did Pompeo accuse TikTok of?"
SEED_TITLE = "Talk of banning TikTok sparks calls for a more open internet in China"


# -- answers, built by hand (render and keyboard tests) ------------------------------------

DATE = dt.date(2020, 8, 16)  # of every citation built here


def citation(n: int = 1, **fields) -> Citation:
    values = {
        "article_id": f"{n:016x}",
        "title": f"Title {n}",
        "source": "Wire",
        "date": DATE,
        "url": f"https://news.example.com/{n}",
        "paragraph": 2,
    }
    return Citation(**{**values, **fields})


def quote(text: str, highlights=(), n: int = 1, **fields) -> Quote:
    return Quote(
        text=text,
        highlights=tuple(highlights),
        score=1.0,
        citation=citation(n, **fields),
        start=0,
        end=len(text),
        cut_before=False,
        cut_after=False,
    )


def answered(*quotes: Quote) -> Answer:
    return Answer("question", AnswerStatus.ANSWERED, list(quotes))


# -- corpus files and conversations --------------------------------------------------------


def write_article(
    directory: Path,
    name: str,
    title: str,
    body: str,
    *,
    date: str = "2024-05-02",
    url: str | None = None,
) -> Path:
    """A ``.txt`` article with a Title/Date/Source(/URL) header."""
    header = f"Title: {title}\nDate: {date}\nSource: Test Wire\n"
    if url:
        header += f"URL: {url}\n"
    path = directory / name
    path.write_text(header + "\n" + body.strip() + "\n", encoding="utf-8")
    return path


async def reply_to(
    api,
    chat_id: int,
    text: str,
    *,
    user_id: int | None = None,
    n_before: int | None = None,
    language_code: str | None = "en",
) -> dict:
    """Send ``text`` in ``chat_id`` (a group if negative) from a reader whose Telegram is in
    ``language_code`` and return the bot's next message there (a live record: later edits
    show in it), the ``n_before + 1``-th if given."""
    before = len(api.sent_messages(chat_id)) if n_before is None else n_before
    if chat_id < 0:
        api.send_group_message(chat_id, text, user_id=user_id or 1001, language_code=language_code)
    else:
        api.send_user_message(chat_id, text, user_id=user_id, language_code=language_code)
    return (await api.wait_for_messages(chat_id, before + 1))[before]


async def all_handled(api, user_id: int = 999_999) -> None:
    """Wait until the bot has handled every update sent so far and is idle.

    An empty inline query goes in last and is answered without touching anything else; the
    bot handles updates in order, so when it is answered every earlier question was too.
    Then the fake server confirms nothing is in flight. This is what proves "nothing else
    was sent" (handlers registered with ``block=False`` run beside: wait on their result).
    """
    answers = len(api.inline_answers)
    api.inline_query(user_id, "")
    await api.wait_for(lambda: len(api.inline_answers) > answers)
    await api.wait_until_idle()


async def eventually(predicate: Callable[[], object], timeout: float = 5.0) -> object:
    """Wait until ``predicate()`` is truthy, for state the fake server does not see (the
    bot's database): checked every few milliseconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := predicate()):
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)
    return value


def alerts(api, chat_id: int) -> list[dict]:
    """The alerts sent to ``chat_id`` (a mark setting the line's direction may come first)."""
    return [
        m
        for m in api.sent_messages(chat_id)
        if m["text"].lstrip("\u200e\u200f").startswith("\N{SQUARED NEW}")
    ]


async def settle(app, timeout: float = 10.0) -> None:
    """Drain alerts until nothing is pending or in flight (retries included)."""
    delivery = app.bot_data.delivery
    outbox = app.bot_data.services.outbox
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        await delivery.drain()
        counts = await asyncio.to_thread(outbox.counts)
        if counts.undelivered == 0:
            return
        assert loop.time() < deadline, f"alerts not settled: {counts}"
        await asyncio.sleep(0.05)  # rows waiting for their retry_after


def error_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def buttons(message: dict) -> list[dict]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def blockquotes(message: dict) -> list[str]:
    """The texts of the message's blockquote entities (offsets are UTF-16 code units)."""
    units = message["text"].encode("utf-16-le")
    return [
        units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
        for e in message["entities"]
        if e["type"] == "blockquote"
    ]


def assert_accepted_html(message: dict) -> None:
    assert message["parse_mode"] == "HTML"
    parsed = parse_html(message["html"])  # the server accepted it; parse again to be explicit
    assert parsed.text == message["text"]
    assert utf16_len(message["text"]) <= 4096


_stopped: weakref.WeakSet = weakref.WeakSet()


async def stop_bot(app) -> None:
    """Stop and shut down an application started by ``start_bot`` (idempotent)."""
    if app in _stopped:
        return
    _stopped.add(app)
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
        await app.post_stop(app)  # run_polling would call these hooks; a manual stop must
    await app.shutdown()
    await app.post_shutdown(app)
