"""Typed access to what handlers share: the services in ``bot_data``, admin checks."""

from __future__ import annotations

from collections.abc import Awaitable

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.services import Services

Context = ContextTypes.DEFAULT_TYPE


def services(context: Context) -> Services:
    return context.bot_data["services"]


def is_admin(update: Update, context: Context) -> bool:
    user = update.effective_user
    return user is not None and user.id in services(context).config.admins


async def unless_unchanged(edit: Awaitable[object]) -> None:
    """Run an edit; Telegram's "message is not modified" (a button pressed twice, an edit
    with the same text) means there is nothing to do, not an error."""
    try:
        await edit
    except BadRequest as exc:
        if "not modified" not in str(exc):
            raise
