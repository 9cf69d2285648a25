"""Telegram's command menu in every language the bot has (``setMyCommands`` with
``language_code``), and per chat once a chat chose its language with ``/language``.

Telegram picks a reader's menu from the most specific list set: the chat's own scope in the
reader's language, the chat's scope, then the default scope in the reader's language, then
the default scope. So the default scope holds BOT_LANGUAGE's menu (for readers whose
language the bot lacks), each language's own menu sits beside it, an admin's private chat
holds every command (per language, or in the admin's choice), and a chat that chose a
language gets its own scope in that language.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.commands import COMMANDS
from bot.config import Config
from bot.i18n import Texts, available_languages, choose_texts, texts_for

log = logging.getLogger(__name__)


def command_menu(admin: bool, texts: Texts) -> list[BotCommand]:
    """The public commands, or every command for an admin, described in ``texts``."""
    return [
        BotCommand(c.name, texts.gettext(c.description)) for c in COMMANDS if admin or not c.admin
    ]


async def set_command_menus(bot: Bot, config: Config, chosen: Mapping[int, str]) -> None:
    """At start-up: the public menu per language, and each admin's (``chosen``: the chats'
    ``/language`` choices)."""
    default = choose_texts(None, None, config.language)
    try:
        await bot.set_my_commands(command_menu(False, default), scope=BotCommandScopeDefault())
        for code in available_languages():
            await bot.set_my_commands(
                command_menu(False, texts_for(code)),
                scope=BotCommandScopeDefault(),
                language_code=code,
            )
    except TelegramError as exc:
        log.warning("could not set the command menu: %s", exc)
    for admin_id in sorted(config.admins):
        await set_chat_menu(bot, admin_id, True, chosen.get(admin_id), config.language)


async def set_chat_menu(
    bot: Bot, chat_id: int, admin: bool, chosen: str | None, default_language: str
) -> None:
    """One chat's menu: an admin's every command in each language (all in ``chosen`` if the
    admin chose one); anyone else's public commands in ``chosen``, or back to the default
    menus when the chat went back to Telegram's language (``chosen`` None)."""
    scope = BotCommandScopeChat(chat_id)
    try:
        if admin:
            await bot.set_my_commands(
                command_menu(True, choose_texts(chosen, None, default_language)), scope=scope
            )
            for code in available_languages():
                texts = choose_texts(chosen, code, default_language)
                await bot.set_my_commands(
                    command_menu(True, texts), scope=scope, language_code=code
                )
        elif chosen is not None:
            texts = choose_texts(chosen, None, default_language)
            await bot.set_my_commands(command_menu(False, texts), scope=scope)
        else:
            await bot.delete_my_commands(scope=scope)
    except TelegramError as exc:  # e.g. an admin who never opened a chat with the bot
        log.warning("could not set the command menu of chat %s: %s", chat_id, exc)
