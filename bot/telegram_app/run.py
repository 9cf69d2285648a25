"""Running the bot: long polling, or a webhook when ``BOT_WEBHOOK_URL`` is set; clear errors
for a bad token, an unreachable API or a data directory in use; the token kept out of
every log line."""

from __future__ import annotations

import asyncio
import logging
import secrets
import sys

from telegram import Bot, Update
from telegram.error import InvalidToken, NetworkError

from bot.config import Config
from bot.errors import DataDirLocked
from bot.telegram_app.app import build_application


class RedactToken(logging.Filter):
    """Replaces the bot token in log records (httpx logs request URLs, which contain it)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg = message.replace(self.token, "<token>")
            record.args = None
        if record.exc_info and not record.exc_text:  # formatters reuse exc_text if set
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.token in record.exc_text:
            record.exc_text = record.exc_text.replace(self.token, "<token>")
        return True


def protect_token(token: str) -> None:
    """Install the redaction on every root handler and quieten httpx's per-request lines."""
    redact = RedactToken(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    logging.getLogger("httpx").setLevel(logging.WARNING)


async def check_bot_api(config: Config) -> None:
    """One getMe before starting: PTB's own start-up would log a traceback for what is a
    configuration problem; here it becomes one clear sentence."""
    async with Bot(config.token, base_url=config.api_url):
        pass  # initialize() calls getMe


def run_telegram(config: Config) -> int:
    protect_token(config.token)
    try:
        asyncio.run(check_bot_api(config))
        app = build_application(config)
        if config.webhook_url:
            app.run_webhook(
                listen=config.webhook_listen,
                port=config.webhook_port,
                url_path="telegram",
                webhook_url=config.webhook_url.rstrip("/") + "/telegram",
                secret_token=config.webhook_secret or secrets.token_urlsafe(32),
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            app.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        print("Telegram rejected TELEGRAM_BOT_TOKEN: check it with @BotFather.", file=sys.stderr)
        return 2
    except NetworkError as exc:
        print(f"Cannot reach the Telegram Bot API at {config.api_url}: {exc}", file=sys.stderr)
        return 3
    except DataDirLocked as exc:  # raised by post_init, which opens the services
        print(f"Cannot start: {exc}.", file=sys.stderr)
        return 4
    return 0
