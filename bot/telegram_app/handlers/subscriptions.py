"""Alert subscriptions: /subscribe, /unsubscribe, /subscriptions, /silent, and keeping
chats' reachability in step with Telegram (blocked, kicked, migrated)."""

from __future__ import annotations

import hashlib

from telegram import (
    ChatMember,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ChatType

from bot.alerts.topics import Topic
from bot.store import StoreError, normalise_topic
from bot.telegram_app.context import Context, services, unless_unchanged

UNSUBSCRIBE_PREFIX = "unsub"


def topic_key(topic: str) -> str:
    """A short stand-in for a topic in callback data (topics may be up to 100 characters,
    callback data only 64 bytes); the handler looks the topic up among the chat's own."""
    return hashlib.sha1(topic.encode()).hexdigest()[:12]


def _describe(topic: str) -> str:
    return "every new article" if topic == "" else f"“{topic}”"


def _summary(topics: list[str]) -> str:
    if not topics:
        return "You have no alert subscriptions. /subscribe to get new articles."
    lines = ["Your alerts:"] + [f"• {_describe(t)}" for t in topics]
    return "\n".join(lines)


async def _may_change(update: Update, context: Context) -> bool:
    """In groups only the group's admins may change its subscriptions."""
    chat = update.effective_chat
    if chat.type == ChatType.PRIVATE:
        return True
    message = update.message
    if (
        message is not None
        and message.sender_chat is not None
        and message.sender_chat.id == chat.id
    ):
        return True  # an anonymous admin, writing as the group itself
    user = update.effective_user
    if user is not None:
        member = await context.bot.get_chat_member(chat.id, user.id)
        if member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER):
            return True
    await update.effective_message.reply_text("Only this group's admins can change its alerts.")
    return False


async def on_subscribe(update: Update, context: Context) -> None:
    if not await _may_change(update, context):
        return
    chat = update.effective_chat
    s = services(context)
    store = s.subscriptions
    topic = " ".join(context.args or [])
    parsed = Topic.parse(topic, s.engine.analyzer)
    if topic.strip() and normalise_topic(topic) and not (parsed.include or parsed.exclude):
        await update.effective_message.reply_text(
            f"“{topic}” has no words I can match articles on. Try names or subjects, "
            "e.g. /subscribe elections, or /subscribe alone for every new article."
        )
        return
    try:
        created = store.subscribe(chat.id, topic, chat_type=chat.type, title=chat.title or "")
    except StoreError as exc:
        await update.effective_message.reply_text(str(exc))
        return
    head = "Subscribed to" if created else "You were already subscribed to"
    await update.effective_message.reply_text(
        f"{head} {_describe(normalise_topic(topic))}.\n\n{_summary(store.topics(chat.id))}"
    )


async def on_unsubscribe(update: Update, context: Context) -> None:
    if not await _may_change(update, context):
        return
    chat_id = update.effective_chat.id
    store = services(context).subscriptions
    topic = " ".join(context.args or [])
    if not topic.strip():
        await update.effective_message.reply_text(
            "Usage: /unsubscribe <topic>, or /unsubscribe all\n\n" + _summary(store.topics(chat_id))
        )
        return
    if topic.strip().casefold() == "all":
        removed = store.unsubscribe_all(chat_id)
        head = f"Removed {removed} subscription(s)."
    else:
        head = (
            "Unsubscribed."
            if store.unsubscribe(chat_id, topic)
            else f"You were not subscribed to “{topic}”."
        )
    await update.effective_message.reply_text(f"{head}\n\n{_summary(store.topics(chat_id))}")


def _topics_keyboard(topics: list[str]) -> InlineKeyboardMarkup | None:
    rows = [
        [
            InlineKeyboardButton(
                f"Remove {_describe(t)}"[:60], callback_data=f"{UNSUBSCRIBE_PREFIX}:{topic_key(t)}"
            )
        ]
        for t in topics
    ]
    return InlineKeyboardMarkup(rows) if rows else None


async def on_subscriptions(update: Update, context: Context) -> None:
    topics = services(context).subscriptions.topics(update.effective_chat.id)
    await update.effective_message.reply_text(
        _summary(topics), reply_markup=_topics_keyboard(topics)
    )


async def on_unsubscribe_button(update: Update, context: Context) -> None:
    query = update.callback_query
    if not await _may_change(update, context):
        await query.answer()
        return
    key = query.data.split(":", 1)[1]
    store = services(context).subscriptions
    chat_id = update.effective_chat.id
    topic = next((t for t in store.topics(chat_id) if topic_key(t) == key), None)
    removed = topic is not None and store.unsubscribe(chat_id, topic)
    await query.answer("Removed." if removed else "That subscription was already gone.")
    topics = store.topics(chat_id)
    await unless_unchanged(
        query.edit_message_text(_summary(topics), reply_markup=_topics_keyboard(topics))
    )


async def on_silent(update: Update, context: Context) -> None:
    if not await _may_change(update, context):
        return
    store = services(context).subscriptions
    chat_id = update.effective_chat.id
    arg = (context.args or [""])[0].casefold()
    if arg not in ("on", "off"):
        state = "on" if store.is_silent(chat_id) else "off"
        await update.effective_message.reply_text(
            f"Silent alerts are {state}. Use /silent on or /silent off."
        )
        return
    if not store.set_silent(chat_id, arg == "on"):
        await update.effective_message.reply_text("Subscribe first with /subscribe.")
        return
    await update.effective_message.reply_text(
        "Alerts will arrive silently." if arg == "on" else "Alerts will arrive with a notification."
    )


async def on_my_chat_member(update: Update, context: Context) -> None:
    """Blocked, kicked or left: stop alerts; added back: resume them."""
    change: ChatMemberUpdated = update.my_chat_member
    store = services(context).subscriptions
    status = change.new_chat_member.status
    if status in (ChatMember.BANNED, ChatMember.LEFT):
        store.deactivate(change.chat.id, f"bot {status}")
    elif status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR):
        store.reactivate(change.chat.id)


async def on_migrate(update: Update, context: Context) -> None:
    """A group became a supergroup: its subscriptions follow it to the new chat id."""
    message = update.effective_message
    if message.migrate_to_chat_id:
        services(context).subscriptions.migrate_chat(message.chat_id, message.migrate_to_chat_id)
