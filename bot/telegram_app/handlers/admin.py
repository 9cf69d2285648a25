"""Editors' commands (/reload, /stats), and the fallbacks: buttons nobody handles and the
one error handler."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.commands import reload_text, stats_text
from bot.i18n import N_
from bot.telegram_app.alerts import deliver_if_queued
from bot.telegram_app.context import Context, is_admin, reader_texts, services, unless_unchanged
from bot.telegram_app.keyboards import STALE_BUTTON
from bot.telegram_app.render import clip

log = logging.getLogger(__name__)

REFUSAL = N_("Sorry, only the newsroom's editors can use this command.")
PROGRESS_EVERY = 2.0  # seconds between progress edits of the status message


async def on_reload(update: Update, context: Context) -> None:
    texts = reader_texts(update, context)
    if not is_admin(update, context):
        await update.effective_message.reply_text(texts.gettext(REFUSAL))
        return
    s = services(context)
    status = await update.effective_message.reply_text(
        texts.gettext("Reload queued behind another one…")
        if s.reloading
        else texts.gettext("Reloading the corpus…")
    )
    loop = asyncio.get_running_loop()
    last_edit = time.monotonic()
    progress_edits: list[concurrent.futures.Future] = []

    def progress(done: int, total: int) -> None:
        # Runs in the worker thread: hand the edit to the event loop, at most every few seconds.
        nonlocal last_edit
        if time.monotonic() - last_edit >= PROGRESS_EVERY and done < total:
            last_edit = time.monotonic()
            edit = _edit(
                status,
                texts.ngettext(
                    "Reloading the corpus… {done}/{n} article",
                    "Reloading the corpus… {done}/{n} articles",
                    total,
                    done=done,
                ),
            )
            progress_edits.append(asyncio.run_coroutine_threadsafe(edit, loop))

    outcome = None
    try:
        outcome = await s.reload(progress)
        result = reload_text(outcome, texts)
    except Exception as exc:
        log.exception("reload failed")
        result = texts.gettext(
            "Reload failed, the previous index stays in service: {error}", error=str(exc)
        )
    # A late progress edit must not overwrite the result.
    for edit in progress_edits:
        edit.cancel()
    await asyncio.gather(*map(asyncio.wrap_future, progress_edits), return_exceptions=True)
    await _edit(status, result)
    deliver_if_queued(context.bot_data, outcome)


async def _edit(message, text: str) -> None:
    await unless_unchanged(message.edit_text(clip(text)))


async def on_stats(update: Update, context: Context) -> None:
    texts = reader_texts(update, context)
    if not is_admin(update, context):
        await update.effective_message.reply_text(texts.gettext(REFUSAL))
        return
    stats = await asyncio.to_thread(services(context).stats)
    await update.effective_message.reply_text(stats_text(stats, texts))


async def on_unknown_button(update: Update, context: Context) -> None:
    """A press no handler claims (an old button, forged data): answer it, so the button
    stops spinning, and say so."""
    texts = reader_texts(update, context)
    await update.callback_query.answer(texts.gettext(STALE_BUTTON))


async def on_error(update: object, context: Context) -> None:
    """Log first (the token is redacted by the log filter), then tell the admins briefly."""
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(context.error, Forbidden):  # a user blocked the bot: nothing to fix
        return
    if not context.bot_data.is_open:
        return
    detail = str(context.error).replace(context.bot.token, "<token>")[:300]
    notice = f"⚠️ {type(context.error).__name__}: {detail}"
    for admin in services(context).config.admins:
        try:
            await context.bot.send_message(admin, notice)
        except TelegramError:
            log.warning("could not notify admin %s", admin)
