"""Sending one alert through Telegram, and the scheduled drain of the outbox.

Telegram's answers map to delivery outcomes: 429 → retry after ``retry_after``; 403 or a
vanished chat → the chat is deactivated; a migrated group → followed to its new id.
"""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.alerts.delivery import Outcome, SendResult
from bot.articles.model import Article
from bot.search.index import SearchIndex
from bot.store import OutboxRow
from bot.telegram_app.context import Context
from bot.telegram_app.render import escape, shorten, source_line

log = logging.getLogger(__name__)

LEDE_CHARS = 400
_GONE = ("chat not found", "user is deactivated", "bot was kicked", "have no rights to send")


def alert_html(article: Article) -> str:
    lede = article.paragraphs[0] if article.text else ""
    if len(lede) > LEDE_CHARS:
        space = lede.rfind(" ", 0, LEDE_CHARS)
        lede = lede[: space if space > 0 else LEDE_CHARS] + "…"  # CJK text has no spaces
    headline = source_line(article.title, article.url, article.source, article.date)
    return f"🆕 {headline}\n\n{escape(lede)}"


def alert_keyboard(article: Article) -> InlineKeyboardMarkup:
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


def telegram_sender(bot: Bot, current_index):
    """A ``Send`` for :class:`AlertDelivery` over ``bot``, rendering from the live index."""

    async def send(row: OutboxRow) -> SendResult:
        index: SearchIndex = current_index()
        article = index.article(row.article_id)
        if article is None:  # removed from the corpus before its alert went out
            return SendResult(Outcome.FAILED, error="article no longer in the corpus")
        try:
            message = await bot.send_message(
                row.chat_id,
                alert_html(article),
                parse_mode=ParseMode.HTML,
                reply_markup=alert_keyboard(article),
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
        except NetworkError as exc:
            return SendResult(Outcome.WAIT, retry_after=5.0, error=str(exc))
        except TelegramError as exc:
            return SendResult(Outcome.RETRY, retry_after=30.0, error=str(exc))
        return SendResult(Outcome.SENT, message_id=message.message_id)

    return send


def _seconds(retry_after) -> float:
    return (
        retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else float(retry_after)
    )


async def drain_alerts_job(context: Context) -> None:
    """JobQueue callback: deliver whatever alerts are due."""
    stats = await context.bot_data["delivery"].drain()
    if stats.sent or stats.gone or stats.failed:
        log.info("alerts: %s", stats)


async def scan_corpus_job(context: Context) -> None:
    """JobQueue callback (BOT_SCAN_INTERVAL): a reload without a command."""
    services = context.bot_data["services"]
    if services.reload_lock.locked():
        return
    report, queued = await services.reload()
    if report.added or report.changed or report.removed:
        log.info(
            "scan: %d added, %d changed, %d removed, %d alerts queued",
            len(report.added),
            len(report.changed),
            len(report.removed),
            queued.queued,
        )
    if queued.queued:
        await context.bot_data["delivery"].drain()
