"""``build_application``: every handler registered in one place, services tied to the
application's life (opened in ``post_init``, closed in ``post_shutdown``)."""

from __future__ import annotations

import asyncio
import logging

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
from bot.config import Config
from bot.i18n import available_languages
from bot.services import Services
from bot.telegram_app.alerts import (
    catch_up_alerts,
    drain_alerts_job,
    prune_job,
    scan_corpus_job,
    telegram_sender,
)
from bot.telegram_app.context import CONTEXT_TYPES, BotData
from bot.telegram_app.handlers import (
    admin,
    channels,
    inline,
    language,
    questions,
    sources,
    subscriptions,
)
from bot.telegram_app.keyboards import (
    ABOUT_PREFIX,
    LANGUAGE_PREFIX,
    MORE_PREFIX,
    UNSUBSCRIBE_PREFIX,
)
from bot.telegram_app.menus import set_command_menus

log = logging.getLogger(__name__)

ALERT_DRAIN_INTERVAL = 5.0  # seconds: how soon a retry or a queued alert is picked up


def build_application(config: Config, services: Services | None = None) -> Application:
    """The bot, ready to run. ``services`` may be given (tests); else opened in post_init."""

    feed_polling = sources.FeedPolling()

    async def post_init(app: Application) -> None:
        s = services or await asyncio.to_thread(Services.open, config)
        bot_data: BotData = app.bot_data
        send = telegram_sender(
            app.bot, s.current_index, default_language=config.language, article_keys=s.article_keys
        )
        bot_data.open(s, AlertDelivery(s.outbox, s.subscriptions, send))
        # Its own step, beside the first updates; it holds the reload lock from its first
        # step on, so a /reload or scan that comes in meanwhile waits for it.
        bot_data.catch_up = asyncio.create_task(catch_up_alerts(bot_data), name="catch-up-alerts")
        if config.language not in available_languages():
            log.warning(
                "BOT_LANGUAGE=%s: the bot has no texts in it, English is their default",
                config.language,
            )
        await set_command_menus(app.bot, config, bot_data.languages)
        jobs = app.job_queue
        jobs.run_repeating(drain_alerts_job, ALERT_DRAIN_INTERVAL, first=1.0, name="alerts")
        jobs.run_repeating(prune_job, 86400, first=60, name="retention")
        if config.scan_interval:
            jobs.run_repeating(scan_corpus_job, config.scan_interval, name="corpus-scan")
        jobs.run_repeating(feed_polling.job, sources.FEED_TICK, first=1.0, name="feeds")

    async def post_stop(app: Application) -> None:
        await feed_polling.stop()  # a round cut short is polled again after the restart
        await app.bot_data.stop_tasks()  # while the bot can still finish a send

    async def post_shutdown(app: Application) -> None:
        bot_data: BotData = app.bot_data
        await feed_polling.stop()
        await bot_data.stop_tasks()  # if start-up failed before post_stop could run
        if bot_data.is_open and services is None:
            bot_data.services.close()

    builder = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.api_url)
        .rate_limiter(AIORateLimiter(max_retries=0))
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .context_types(CONTEXT_TYPES)
    )
    app = builder.build()

    # 1. Commands (private chats and groups; "/cmd@botname" is handled by PTB). Questions
    # are answered in order (an edited question edits its answer); handlers that must read
    # or write the store before replying do not hold up the next update (block=False).
    app.add_handler(CommandHandler("start", questions.on_start))
    app.add_handler(CommandHandler("help", questions.on_help))
    app.add_handler(CommandHandler("ask", questions.on_ask))
    app.add_handler(CommandHandler("latest", questions.on_latest))
    app.add_handler(CommandHandler("subscribe", subscriptions.on_subscribe, block=False))
    app.add_handler(CommandHandler("unsubscribe", subscriptions.on_unsubscribe, block=False))
    app.add_handler(CommandHandler("subscriptions", subscriptions.on_subscriptions, block=False))
    app.add_handler(CommandHandler("silent", subscriptions.on_silent, block=False))
    app.add_handler(CommandHandler("language", language.on_language, block=False))
    # A rebuild takes a while; questions keep being answered meanwhile.
    app.add_handler(CommandHandler("reload", admin.on_reload, block=False))
    app.add_handler(CommandHandler("stats", admin.on_stats, block=False))
    # Sources (admins): fetching takes a while, so none of these holds up other updates.
    app.add_handler(CommandHandler("feed", sources.on_feed, block=False))
    app.add_handler(CommandHandler("feeds", sources.on_feeds, block=False))
    app.add_handler(CommandHandler("add", sources.on_add, block=False))
    # 2. Buttons (callback data: bot.telegram_app.keyboards), then any other press.
    app.add_handler(
        CallbackQueryHandler(questions.on_more, pattern=rf"^{MORE_PREFIX}:", block=False)
    )
    app.add_handler(
        CallbackQueryHandler(questions.on_about, pattern=rf"^{ABOUT_PREFIX}:", block=False)
    )
    app.add_handler(
        CallbackQueryHandler(
            subscriptions.on_unsubscribe_button, pattern=rf"^{UNSUBSCRIBE_PREFIX}:", block=False
        )
    )
    app.add_handler(
        CallbackQueryHandler(
            language.on_language_button, pattern=rf"^{LANGUAGE_PREFIX}:", block=False
        )
    )
    app.add_handler(CallbackQueryHandler(admin.on_unknown_button))
    # 3. Inline mode.
    app.add_handler(InlineQueryHandler(inline.on_inline_query))
    # 4. Plain messages: an admin's bare link in a private chat is /add; other text in
    # private chats is a question (new or edited); replies to the bot in groups too.
    text = filters.TEXT & ~filters.COMMAND
    app.add_handler(
        MessageHandler(
            text
            & filters.ChatType.PRIVATE
            & filters.UpdateType.MESSAGE
            & filters.User(user_id=config.admins, allow_empty=False)
            & filters.Regex(sources.BARE_LINK),
            sources.on_private_link,
            block=False,
        )
    )
    app.add_handler(MessageHandler(text & filters.ChatType.PRIVATE, questions.on_private_text))
    app.add_handler(
        MessageHandler(text & filters.ChatType.GROUPS & filters.REPLY, questions.on_group_reply)
    )
    app.add_handler(
        MessageHandler(filters.StatusUpdate.MIGRATE, subscriptions.on_migrate, block=False)
    )
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE
            & filters.UpdateType.MESSAGE
            & ~filters.TEXT
            & ~filters.StatusUpdate.ALL,
            questions.on_non_text,
        )
    )
    # 5. The newsroom's channel: new and edited posts become articles (albums too).
    app.add_handler(
        MessageHandler(filters.UpdateType.CHANNEL_POSTS, channels.on_channel_post, block=False)
    )
    # 6. The bot's own membership: blocked, kicked, re-added.
    app.add_handler(
        ChatMemberHandler(
            subscriptions.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER, block=False
        )
    )
    app.add_error_handler(admin.on_error)
    return app
