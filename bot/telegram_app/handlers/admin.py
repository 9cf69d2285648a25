"""Editors' commands: /reload and /stats, and the one error handler."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.commands import reload_text, stats_text
from bot.telegram_app.context import Context, is_admin, services

log = logging.getLogger(__name__)

REFUSAL = "Sorry, only the newsroom's editors can use this command."
PROGRESS_EVERY = 2.0  # seconds between progress edits of the status message


async def on_reload(update: Update, context: Context) -> None:
    if not is_admin(update, context):
        await update.effective_message.reply_text(REFUSAL)
        return
    s = services(context)
    status = await update.effective_message.reply_text(
        "Reload queued behind another one…" if s.reload_lock.locked() else "Reloading the corpus…"
    )
    loop = asyncio.get_running_loop()
    last_edit = time.monotonic()

    def progress(done: int, total: int) -> None:
        # Runs in the worker thread: hand the edit to the event loop, at most every few seconds.
        nonlocal last_edit
        if time.monotonic() - last_edit >= PROGRESS_EVERY and done < total:
            last_edit = time.monotonic()
            asyncio.run_coroutine_threadsafe(
                _edit(status, f"Reloading the corpus… {done}/{total} articles"), loop
            )

    try:
        report, queued = await s.reload(progress)
    except Exception as exc:
        log.exception("reload failed")
        await _edit(status, f"Reload failed, the previous index stays in service: {exc}")
        return
    await _edit(status, reload_text(report, queued.queued))
    if queued.queued:
        context.application.create_task(deliver_now(context), update=update)


async def deliver_now(context: Context) -> None:
    """Start the alert fan-out right away instead of waiting for the next scheduled drain."""
    delivery = context.bot_data.get("delivery")
    if delivery is not None:
        await delivery.drain()


async def _edit(message, text: str) -> None:
    try:
        await message.edit_text(text[:4000])
    except BadRequest as exc:
        if "not modified" not in str(exc):
            raise


async def on_stats(update: Update, context: Context) -> None:
    if not is_admin(update, context):
        await update.effective_message.reply_text(REFUSAL)
        return
    await update.effective_message.reply_text(stats_text(services(context).stats()))


async def on_error(update: object, context: Context) -> None:
    """Log first (the token is redacted by the log filter), then tell the admins briefly."""
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(context.error, Forbidden):  # a user blocked the bot: nothing to fix
        return
    s = context.bot_data.get("services")
    if s is None:
        return
    notice = f"⚠️ {type(context.error).__name__}: {str(context.error)[:300]}"
    for admin in s.config.admins:
        try:
            await context.bot.send_message(admin, notice)
        except TelegramError:
            log.warning("could not notify admin %s", admin)
