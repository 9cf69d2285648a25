"""``build_application``: every handler registered in one place, services tied to the
application's life (opened in ``post_init``, closed in ``post_shutdown``)."""

from __future__ import annotations

import asyncio
import logging

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.alerts.delivery import AlertDelivery
from bot.commands import COMMANDS
from bot.config import Config
from bot.services import Services
from bot.telegram_app.alerts import drain_alerts_job, scan_corpus_job, telegram_sender
from bot.telegram_app.handlers import admin, inline, questions, subscriptions

log = logging.getLogger(__name__)

ALERT_DRAIN_INTERVAL = 5.0  # seconds: how soon a retry or a queued alert is picked up
QUERY_RETENTION_DAYS = 7  # "More" buttons work this long after the question


def build_application(config: Config, services: Services | None = None) -> Application:
    """The bot, ready to run. ``services`` may be given (tests); else opened in post_init."""

    async def post_init(app: Application) -> None:
        s = services or await asyncio.to_thread(Services.open, config)
        app.bot_data["services"] = s
        app.bot_data["delivery"] = AlertDelivery(
            s.outbox, s.subscriptions, telegram_sender(app.bot, lambda: s.index)
        )
        await _set_commands(app, config)
        jobs = app.job_queue
        jobs.run_repeating(drain_alerts_job, ALERT_DRAIN_INTERVAL, first=1.0, name="alerts")
        jobs.run_repeating(
            lambda _: asyncio.to_thread(s.queries.purge_older_than, QUERY_RETENTION_DAYS),
            86400,
            first=60,
            name="purge-queries",
        )
        if config.scan_interval:
            jobs.run_repeating(scan_corpus_job, config.scan_interval, name="corpus-scan")

    async def post_shutdown(app: Application) -> None:
        s = app.bot_data.get("services")
        if s is not None and services is None:
            s.close()

    builder = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.api_url)
        .rate_limiter(AIORateLimiter(max_retries=0))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    app = builder.build()

    # 1. Commands (private chats and groups; "/cmd@botname" is handled by PTB).
    app.add_handler(CommandHandler("start", questions.on_start))
    app.add_handler(CommandHandler("help", questions.on_help))
    app.add_handler(CommandHandler("ask", questions.on_ask))
    app.add_handler(CommandHandler("latest", questions.on_latest))
    app.add_handler(CommandHandler("subscribe", subscriptions.on_subscribe))
    app.add_handler(CommandHandler("unsubscribe", subscriptions.on_unsubscribe))
    app.add_handler(CommandHandler("subscriptions", subscriptions.on_subscriptions))
    app.add_handler(CommandHandler("silent", subscriptions.on_silent))
    # block=False: a rebuild takes a while; questions keep being answered meanwhile.
    app.add_handler(CommandHandler("reload", admin.on_reload, block=False))
    app.add_handler(CommandHandler("stats", admin.on_stats))
    # 2. Buttons: callback data is "<prefix>:<payload>", always well under 64 bytes.
    app.add_handler(CallbackQueryHandler(questions.on_more, pattern=rf"^{questions.MORE_PREFIX}:"))
    app.add_handler(
        CallbackQueryHandler(
            subscriptions.on_unsubscribe_button, pattern=rf"^{subscriptions.UNSUBSCRIBE_PREFIX}:"
        )
    )
    # 3. Inline mode.
    app.add_handler(InlineQueryHandler(inline.on_inline_query))
    # 4. Plain messages: questions in private chats (new or edited), replies to the bot in groups.
    text = filters.TEXT & ~filters.COMMAND
    app.add_handler(MessageHandler(text & filters.ChatType.PRIVATE, questions.on_private_text))
    app.add_handler(
        MessageHandler(text & filters.ChatType.GROUPS & filters.REPLY, questions.on_group_reply)
    )
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, subscriptions.on_migrate))
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE
            & filters.UpdateType.MESSAGE
            & ~filters.TEXT
            & ~filters.StatusUpdate.ALL,
            questions.on_non_text,
        )
    )
    # 5. The bot's own membership: blocked, kicked, re-added.
    app.add_handler(
        ChatMemberHandler(subscriptions.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    app.add_error_handler(admin.on_error)
    return app


async def _set_commands(app: Application, config: Config) -> None:
    """Public commands for everyone; admins see the admin commands too, in their own chat."""
    public = [BotCommand(c.name, c.description) for c in COMMANDS if not c.admin]
    everything = [BotCommand(c.name, c.description) for c in COMMANDS]
    try:
        await app.bot.set_my_commands(public, scope=BotCommandScopeDefault())
        for admin_id in config.admins:
            await app.bot.set_my_commands(everything, scope=BotCommandScopeChat(admin_id))
    except TelegramError as exc:  # e.g. an admin who never opened a chat with the bot
        log.warning("could not set the command menu: %s", exc)
