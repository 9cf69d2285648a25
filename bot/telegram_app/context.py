"""Typed access to what handlers share: the services in ``bot_data``, admin checks."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.services import Services

Context = ContextTypes.DEFAULT_TYPE


def services(context: Context) -> Services:
    return context.bot_data["services"]


def is_admin(update: Update, context: Context) -> bool:
    user = update.effective_user
    return user is not None and user.id in services(context).config.admins
