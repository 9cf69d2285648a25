"""Admins' source commands (/feed, /feeds, /add, a bare link in a private chat) and the
feed polling job: thin adapters over ``bot.sources`` (``services.sources``)."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable

from telegram import Bot, Message, Update
from telegram.error import TelegramError

from bot.i18n import Texts
from bot.sources.texts import (
    ADD_USAGE,
    FEED_USAGE,
    failing_text,
    feed_added_text,
    feed_removed_text,
    feeds_text,
    link_text,
)
from bot.telegram_app.alerts import admin_texts, deliver_if_queued
from bot.telegram_app.context import (
    BotData,
    Context,
    is_admin,
    reader_texts,
    services,
    unless_unchanged,
)
from bot.telegram_app.handlers.admin import REFUSAL
from bot.telegram_app.render import clip

log = logging.getLogger(__name__)

FEED_TICK = 1.0  # seconds between checks for due feeds (each feed has its own interval)
BARE_LINK = re.compile(r"^\s*https?://\S+\s*$", re.IGNORECASE)


async def _refused(update: Update, context: Context, texts: Texts) -> bool:
    if is_admin(update, context):
        return False
    await update.effective_message.reply_text(texts.gettext(REFUSAL))
    return True


async def _edit(message: Message, text: str) -> None:
    await unless_unchanged(message.edit_text(clip(text), disable_web_page_preview=True))


async def on_feed(update: Update, context: Context) -> None:
    texts = reader_texts(update, context)
    if await _refused(update, context, texts):
        return
    args = context.args or []
    action = args[0].casefold() if args else ""
    sources = services(context).sources
    message = update.effective_message
    if action == "add" and len(args) == 2:
        status = await message.reply_text(texts.gettext("Fetching the feed…"))
        added = await sources.add_feed(args[1], added_by=update.effective_user.id)
        await _edit(status, feed_added_text(added, texts))
        deliver_if_queued(context.bot_data, added.reload)
    elif action == "remove" and len(args) in (2, 3) and args[2:] in ([], ["--purge"]):
        removed = await sources.remove_feed(args[1], purge=args[2:] == ["--purge"])
        await message.reply_text(feed_removed_text(removed, args[1], texts))
    elif not args:
        await on_feeds(update, context)
    else:
        await message.reply_text(texts.gettext(FEED_USAGE))


async def on_feeds(update: Update, context: Context) -> None:
    texts = reader_texts(update, context)
    if await _refused(update, context, texts):
        return
    listing = await asyncio.to_thread(services(context).sources.listing)
    await update.effective_message.reply_text(
        clip(feeds_text(listing, texts)), disable_web_page_preview=True
    )


async def on_add(update: Update, context: Context) -> None:
    texts = reader_texts(update, context)
    if await _refused(update, context, texts):
        return
    if len(context.args or []) != 1:
        await update.effective_message.reply_text(texts.gettext(ADD_USAGE))
        return
    await _add_link(update, context, context.args[0])


async def on_private_link(update: Update, context: Context) -> None:
    """An admin sends just a link in a private chat: /add it (registered for admins only;
    anyone else's link is a question like any other text)."""
    await _add_link(update, context, update.effective_message.text.strip())


async def _add_link(update: Update, context: Context, url: str) -> None:
    texts = reader_texts(update, context)
    status = await update.effective_message.reply_text(texts.gettext("Fetching the article…"))
    outcome = await services(context).sources.add_link(url)
    await _edit(status, link_text(outcome, texts))
    deliver_if_queued(context.bot_data, outcome.reload)


class FeedPolling:
    """The repeating "feeds" job: every ``FEED_TICK`` it starts a round of the feeds that
    are due, in the background unless one is running (a round waits for slow servers, and
    must hold up neither the job queue nor a shutdown: :meth:`stop` cancels it)."""

    def __init__(self) -> None:
        self.task: asyncio.Task | None = None

    async def job(self, context: Context) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(
                self.poll(context.bot_data, context.bot), name="feeds-round"
            )

    async def poll(self, bot_data: BotData, bot: Bot) -> None:
        try:
            report = await bot_data.services.sources.poll_due()
        except Exception:  # the store failed: the feeds are due again at the next tick
            log.exception("polling the feeds failed")
            return
        if report.written:
            log.info("feeds: %d entries written in %.1f s", report.written, report.seconds)
        deliver_if_queued(bot_data, report.reload)
        for poll in report.now_failing:
            await notify_admins(bot, bot_data, functools.partial(failing_text, poll))

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


async def notify_admins(bot: Bot, bot_data: BotData, text: Callable[[Texts], str]) -> None:
    """Send ``text`` (made in each admin's language) to every admin."""
    for admin in bot_data.services.config.admins:
        try:
            message = text(await admin_texts(bot_data, admin))
            await bot.send_message(admin, clip(message), disable_web_page_preview=True)
        except TelegramError as exc:
            log.warning("could not notify admin %s: %s", admin, exc)
