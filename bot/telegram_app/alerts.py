"""Sending one alert through Telegram, and the alert jobs: the start-up catch-up, the
scheduled drain of the outbox, the periodic corpus scan and the daily retention prune.

Telegram's answers map to delivery outcomes. Only Telegram's definitive refusals say
something about the message: 403 or a vanished chat → the chat is deactivated; a migrated
group → followed to its new id; any other 400 → failed. Everything else (429 flood control,
network trouble, 5xx, an answer that is not even JSON) is transient: wait and try again,
without using up the alert's attempts.

An alert has no reader to ask for a language: it is sent in the chat's ``/language`` choice,
else in the Telegram language of whoever subscribed the chat, else in ``BOT_LANGUAGE``.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)

from bot.alerts.delivery import Outcome, Send, SendResult
from bot.articles.model import Article
from bot.i18n import SOURCE_LANGUAGE, Texts, choose_texts
from bot.search.index import SearchIndex
from bot.store import ArticleKeys, OutboxRow
from bot.telegram_app.context import BotData, Context
from bot.telegram_app.keyboards import alert_keyboard
from bot.telegram_app.render import escape, source_line

if TYPE_CHECKING:
    from bot.services import ReloadOutcome

log = logging.getLogger(__name__)

LEDE_CHARS = 400
TRANSIENT_WAIT = 5.0  # seconds before trying again after network trouble or a garbled answer
TOKEN_WAIT = 60.0  # the token was refused: an operator must act; alerts wait, none fails
_GONE = ("chat not found", "user is deactivated", "bot was kicked", "have no rights to send")


def alert_html(article: Article, texts: Texts) -> str:
    lede = article.paragraphs[0] if article.text else ""
    if len(lede) > LEDE_CHARS:
        space = lede.rfind(" ", 0, LEDE_CHARS)
        lede = lede[: space if space > 0 else LEDE_CHARS] + "…"  # CJK text has no spaces
    headline = source_line(article.title, article.url, article.source, article.date, texts, "🆕 ")
    return f"{headline}\n\n{escape(lede)}"


def telegram_sender(
    bot: Bot,
    current_index: Callable[[], SearchIndex],
    transient_wait: float = TRANSIENT_WAIT,
    default_language: str = SOURCE_LANGUAGE,
    article_keys: ArticleKeys | None = None,
) -> Send:
    """A ``Send`` for :class:`AlertDelivery` over ``bot``, rendering from the live index in
    each chat's language (``default_language``: BOT_LANGUAGE).

    Alerts carry "Ask about this article" when ``article_keys`` is given: its key is
    registered with the first alert of the article this process sends, not once per
    message (a fan-out is thousands); an alert whose key could not be written goes out
    without the button."""

    async def send(row: OutboxRow) -> SendResult:
        article = current_index().article(row.article_id)
        if article is None:  # removed from the corpus before its alert went out
            return SendResult(Outcome.FAILED, error="article no longer in the corpus")
        texts = choose_texts(row.language or None, None, default_language)
        askable = article_keys is not None and await _registered(article_keys, article.id)
        try:
            message = await bot.send_message(
                row.chat_id,
                alert_html(article, texts),
                parse_mode=ParseMode.HTML,
                reply_markup=alert_keyboard(article, texts, ask=askable),
                disable_notification=row.silent,
                disable_web_page_preview=True,
            )
        except RetryAfter as exc:
            return SendResult(Outcome.WAIT, retry_after=_seconds(exc.retry_after), error=str(exc))
        except ChatMigrated as exc:
            return SendResult(Outcome.MIGRATED, new_chat_id=exc.new_chat_id, error=str(exc))
        except Forbidden as exc:
            return SendResult(Outcome.GONE, error=str(exc))
        except BadRequest as exc:
            if any(reason in str(exc).lower() for reason in _GONE):
                return SendResult(Outcome.GONE, error=str(exc))
            return SendResult(Outcome.FAILED, error=str(exc))
        except InvalidToken as exc:
            return SendResult(Outcome.WAIT, retry_after=TOKEN_WAIT, error=str(exc))
        except TelegramError as exc:  # NetworkError, TimedOut, 5xx, "Invalid server response"
            return SendResult(Outcome.WAIT, retry_after=transient_wait, error=str(exc))
        return SendResult(Outcome.SENT, message_id=message.message_id)

    return send


async def _registered(article_keys: ArticleKeys, article_id: str) -> bool:
    """Whether the article's key is in the store (written now if this process had not)."""
    new = article_keys.claim([article_id])
    if not new:
        return True
    try:
        await asyncio.to_thread(article_keys.save, new)
    except sqlite3.Error as exc:
        log.error("could not register an article key: %s", exc)
        return False
    return True


def _seconds(retry_after) -> float:
    return (
        retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else float(retry_after)
    )


async def admin_texts(bot_data: BotData, admin_id: int) -> Texts:
    """The texts for a notice to an admin, sent with no update to read a language from: the
    admin's chat's choice, else the language they subscribed with, else BOT_LANGUAGE."""
    services = bot_data.services
    try:
        language = await asyncio.to_thread(services.subscriptions.remembered_language, admin_id)
    except sqlite3.Error as exc:
        log.error("could not read an admin's language: %s", exc)
        language = ""
    return choose_texts(language or None, None, services.config.language)


def deliver_if_queued(bot_data: BotData, outcome: ReloadOutcome | None) -> None:
    """:func:`deliver_soon` when a reload queued alerts: now, not at the next scheduled drain."""
    if outcome is not None and outcome.queued:
        deliver_soon(bot_data)


def deliver_soon(bot_data: BotData) -> None:
    """Start draining the outbox in the background, unless a drain is running (it picks up
    whatever else is due). The drain is the bot's own task, cancelled when the bot stops
    (the outbox resumes after a restart), so a fan-out of hours never holds up a job run
    or a shutdown."""
    running = bot_data.delivery_task
    if running is None or running.done():
        bot_data.delivery_task = asyncio.create_task(_drain(bot_data), name="alerts-drain")


async def _drain(bot_data: BotData) -> None:
    try:
        stats = await bot_data.delivery.drain()
    except Exception:  # the store failed: what is left is due at the next drain
        log.exception("delivering alerts failed")
        return
    if stats.sent or stats.gone or stats.failed:
        log.info("alerts: %s", stats)


async def catch_up_alerts(bot_data: BotData) -> None:
    """Start-up step: alerts for articles added while the bot was down, then their delivery.
    Runs beside the first updates (questions are answered meanwhile); a /reload waits."""
    try:
        result = await bot_data.services.catch_up_alerts()
    except Exception:  # what was not queued is with the next reload (newness is a ledger)
        log.exception("catching up alerts at start-up failed")
        return
    if result.queued:
        log.info("catch-up: %d alerts queued for new articles", result.queued)
        deliver_soon(bot_data)


async def drain_alerts_job(context: Context) -> None:
    """JobQueue callback: deliver whatever alerts are due (retries, anything missed)."""
    deliver_soon(context.bot_data)


async def scan_corpus_job(context: Context) -> None:
    """JobQueue callback (BOT_SCAN_INTERVAL): a reload without a command."""
    services = context.bot_data.services
    if services.reloading:
        return
    outcome = await services.reload()
    report = outcome.report
    if report.added or report.changed or report.removed:
        log.info(
            "scan: %d added, %d changed, %d removed, %d alerts queued",
            len(report.added),
            len(report.changed),
            len(report.removed),
            outcome.queued,
        )
    if outcome.queued:
        deliver_soon(context.bot_data)


async def prune_job(context: Context) -> None:
    """JobQueue callback (daily): forget what the retention periods no longer keep."""
    report = await asyncio.to_thread(context.bot_data.services.prune)
    log.info("retention: %s", report)
