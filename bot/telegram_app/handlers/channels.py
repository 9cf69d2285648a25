"""Posts in the newsroom's channel (the bot is one of its administrators, so Telegram sends
it every ``channel_post`` and ``edited_channel_post``): a thin adapter that hands the post
to ``bot.sources.channels`` as plain data."""

from __future__ import annotations

from telegram import Message, MessageEntity, Update

from bot.store import Channel, ChannelPost
from bot.telegram_app.alerts import deliver_if_queued
from bot.telegram_app.context import Context, services

_LINKS = [MessageEntity.URL, MessageEntity.TEXT_LINK]


def channel_post(message: Message) -> tuple[Channel, ChannelPost]:
    """The post as the sources core takes it: text or caption, the links in it."""
    chat = message.chat
    if message.text is not None:
        text, entities = message.text, message.parse_entities(_LINKS)
    else:
        text, entities = message.caption or "", message.parse_caption_entities(_LINKS)
    links = tuple(
        dict.fromkeys(
            entity.url if entity.type == MessageEntity.TEXT_LINK and entity.url else shown
            for entity, shown in entities.items()
        )
    )
    post = ChannelPost(
        chat_id=chat.id,
        message_id=message.message_id,
        text=text,
        posted_at=message.date.timestamp(),
        links=links,
        media_group_id=message.media_group_id,
        edited_at=message.edit_date.timestamp() if message.edit_date else None,
    )
    return Channel(chat.id, chat.username or "", chat.title or ""), post


async def on_channel_post(update: Update, context: Context) -> None:
    """A new or edited post becomes (or updates) its article."""
    message = update.channel_post or update.edited_channel_post
    if message is None:
        return
    channel, post = channel_post(message)
    _archived, reload = await services(context).sources.archive_post(channel, post)
    deliver_if_queued(context.bot_data, reload)  # BOT_CHANNEL_ALERTS=1
