"""Helpers injecting realistic updates (messages, button presses, inline queries...)."""

from __future__ import annotations

import copy
import time
from typing import Any

from .builders import chat_type_for_id, detect_entities, file_ids, member_json


class UpdateInjectionMixin:
    """``api.send_user_message(...)`` & co.: build Update JSON like Telegram and queue it.

    All helpers are synchronous and thread-safe (they take the state lock and wake pollers).
    """

    _lock: Any

    # ------------------------------------------------------------------ injection helpers

    def send_user_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        reply_to_message_id: int | None = None,
        entities: list[dict] | None = None,
        chat_title: str | None = None,
    ) -> dict:
        """A text message from a user (update type ``message``); returns the Message dict."""
        extra: dict[str, Any] = {"text": text}
        ents = detect_entities(text) if entities is None else entities
        if ents:
            extra["entities"] = ents
        return self._inject_user_message(
            chat_id,
            extra,
            user_id=user_id,
            chat_type=chat_type,
            username=username,
            first_name=first_name,
            last_name=last_name,
            language_code=language_code,
            reply_to_message_id=reply_to_message_id,
            chat_title=chat_title,
        )

    def send_group_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int = 1001,
        chat_type: str | None = None,
        title: str = "Test group",
        **kwargs: Any,
    ) -> dict:
        """Like send_user_message in a group (chat_id < 0; supergroup if <= -10**12)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        return self.send_user_message(
            chat_id,
            text,
            user_id=user_id,
            chat_type=chat_type or chat_type_for_id(chat_id),
            chat_title=title,
            **kwargs,
        )

    def edit_user_message(self, chat_id: int, message_id: int, new_text: str) -> dict:
        """The user edits an earlier message (update type ``edited_message``)."""
        with self._lock:
            record = self._messages.get((chat_id, message_id))
            if record is None or record["from_bot"]:
                raise LookupError(f"no user message {message_id} in chat {chat_id}")
            msg = copy.deepcopy(record["message"])
            msg["text"] = new_text
            msg.pop("entities", None)
            ents = detect_entities(new_text)
            if ents:
                msg["entities"] = ents
            msg["edit_date"] = max(int(time.time()), msg["date"] + 1)
            record["message"] = msg
            self._enqueue({"edited_message": copy.deepcopy(msg)})
            return copy.deepcopy(msg)

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        callback_data: str,
        user_id: int | None = None,
        *,
        check_keyboard: bool = True,
    ) -> str:
        """A user presses an inline button of a bot message; returns the callback query id."""
        with self._lock:
            record = self._messages.get((chat_id, message_id))
            if record is None:
                raise LookupError(f"no message {message_id} in chat {chat_id}")
            markup = record["message"].get("reply_markup") or {}
            datas = [
                b.get("callback_data")
                for row in markup.get("inline_keyboard", [])
                for b in row
                if isinstance(b, dict)
            ]
            if check_keyboard and callback_data not in datas:
                raise LookupError(
                    f"message {message_id} in chat {chat_id} has no button with callback_data "
                    f"{callback_data!r} (buttons: {datas})"
                )
            if user_id is None:
                if chat_id < 0:
                    raise ValueError("user_id is required for group chats")
                user_id = chat_id
            user = self._ensure_user(user_id)
            query_id = str(next(self._query_ids))
            query = {
                "id": query_id,
                "from": dict(user),
                "message": copy.deepcopy(record["message"]),
                "chat_instance": str(abs(hash((chat_id, self.bot_id))) % 10**18),
                "data": callback_data,
            }
            self._callback_queries[query_id] = {
                "id": query_id,
                "data": callback_data,
                "chat_id": chat_id,
                "message_id": message_id,
                "user_id": user_id,
                "created": time.monotonic(),
                "answered": False,
            }
            self._enqueue({"callback_query": query})
            return query_id

    def inline_query(
        self, user_id: int, query: str, *, offset: str = "", chat_type: str | None = "sender"
    ) -> str:
        """A user types ``@bot query``; returns the inline query id."""
        with self._lock:
            user = self._ensure_user(user_id)
            query_id = str(next(self._query_ids))
            payload = {"id": query_id, "from": dict(user), "query": query, "offset": offset}
            if chat_type:
                payload["chat_type"] = chat_type
            self._inline_queries[query_id] = {
                "id": query_id,
                "user_id": user_id,
                "query": query,
                "created": time.monotonic(),
                "answered": False,
            }
            self._enqueue({"inline_query": payload})
            return query_id

    def chosen_inline_result(
        self, user_id: int, result_id: str, query: str, *, inline_message_id: str | None = None
    ) -> dict:
        with self._lock:
            user = dict(self._ensure_user(user_id))
            payload = {"result_id": result_id, "from": user, "query": query}
            if inline_message_id:
                payload["inline_message_id"] = inline_message_id
            self._enqueue({"chosen_inline_result": payload})
            return payload

    def send_sticker(
        self, chat_id: int, user_id: int | None = None, *, emoji: str = "\N{THUMBS UP SIGN}"
    ) -> dict:
        sticker = {
            **file_ids(f"sticker{chat_id}{time.time_ns()}"),
            "width": 512,
            "height": 512,
            "emoji": emoji,
            "set_name": "HotCherry",
            "is_animated": True,
            "is_video": False,
            "type": "regular",
            "file_size": 24_000,
        }
        return self._inject_user_message(chat_id, {"sticker": sticker}, user_id=user_id)

    def send_photo(
        self, chat_id: int, user_id: int | None = None, *, caption: str | None = None
    ) -> dict:
        base = file_ids(f"photo{chat_id}{time.time_ns()}")
        sizes = [
            {**base, "file_unique_id": base["file_unique_id"] + str(w), "width": w,
             "height": w * 3 // 4, "file_size": w * 40}
            for w in (90, 320, 800)
        ]  # fmt: skip
        extra: dict[str, Any] = {"photo": sizes}
        if caption:
            extra["caption"] = caption
            ents = detect_entities(caption)
            if ents:
                extra["caption_entities"] = ents
        return self._inject_user_message(chat_id, extra, user_id=user_id)

    def send_document(
        self,
        chat_id: int,
        user_id: int | None = None,
        *,
        file_name: str = "article.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
    ) -> dict:
        doc = {
            **file_ids(f"doc{chat_id}{time.time_ns()}"),
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": 123_456,
        }
        extra: dict[str, Any] = {"document": doc}
        if caption:
            extra["caption"] = caption
        return self._inject_user_message(chat_id, extra, user_id=user_id)

    def send_voice(self, chat_id: int, user_id: int | None = None, *, duration: int = 3) -> dict:
        voice = {
            **file_ids(f"voice{chat_id}{time.time_ns()}"),
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": 9_000,
        }
        return self._inject_user_message(chat_id, {"voice": voice}, user_id=user_id)

    def my_chat_member(
        self, chat_id: int, user_id: int, old_status: str = "member", new_status: str = "kicked"
    ) -> dict:
        """The bot's membership changed (e.g. member -> kicked when a user blocks the bot).

        Side effects mirror Telegram: kicked -> sends fail with 403; member/administrator ->
        allowed again; left in a group -> 403 too.
        """
        with self._lock:
            user = self._ensure_user(user_id)
            chat = self._ensure_chat(chat_id, chat_type_for_id(chat_id), user=user)
            payload = {
                "chat": dict(chat),
                "from": dict(user),
                "date": int(time.time()),
                "old_chat_member": member_json(self.bot_user, old_status),
                "new_chat_member": member_json(self.bot_user, new_status),
            }
            if new_status == "kicked":
                self._blocked.add(chat_id)
            elif new_status == "left":
                self._left.add(chat_id)
            elif new_status in ("member", "administrator", "creator", "restricted"):
                self._blocked.discard(chat_id)
                self._left.discard(chat_id)
            self._enqueue({"my_chat_member": payload})
            return payload

    def migrate_group_update(self, old_id: int, new_id: int, *, user_id: int = 1001) -> dict:
        """Group ``old_id`` became supergroup ``new_id``: the two service messages Telegram sends.

        Returns the message in the old group (with ``migrate_to_chat_id``).
        """
        with self._lock:
            self._ensure_chat(old_id, "group")
            old_msg = self._inject_user_message(
                old_id, {"migrate_to_chat_id": new_id}, user_id=user_id, chat_type="group"
            )
            title = self._chats[old_id].get("title")
            self._ensure_chat(new_id, "supergroup", title=title)
            self._inject_user_message(
                new_id, {"migrate_from_chat_id": old_id}, user_id=user_id, chat_type="supergroup"
            )
            self._migrated[old_id] = new_id
            return old_msg

    # ------------------------------------------------------------------ channels

    def send_channel_post(
        self,
        chat_id: int,
        text: str | None = None,
        *,
        username: str | None = "newsroom",
        title: str = "Newsroom",
        caption: str | None = None,
        photo: bool = False,
        media_group_id: str | None = None,
        entities: list[dict] | None = None,
        author_signature: str | None = None,
    ) -> dict:
        """A post in a channel the bot administers (update type ``channel_post``), as
        Telegram sends it: ``chat`` and ``sender_chat`` are the channel, there is no
        ``from``; a photo carries its text as ``caption`` (with ``caption_entities``)."""
        if chat_id > -(10**12):
            raise ValueError("channel ids are -100… (e.g. -1001234567890)")
        with self._lock:
            chat = self._ensure_chat(chat_id, "channel", title=title)
            if username:
                chat["username"] = username
            msg: dict[str, Any] = {
                "message_id": self._alloc_message_id(chat_id),
                "sender_chat": dict(chat),
                "chat": dict(chat),
                "date": int(time.time()),
            }
            if author_signature:
                msg["author_signature"] = author_signature
            if photo or caption is not None:
                base = file_ids(f"channel{chat_id}{msg['message_id']}")
                msg["photo"] = [{**base, "width": 800, "height": 600, "file_size": 32_000}]
            if media_group_id is not None:
                msg["media_group_id"] = media_group_id
            if text is not None:
                msg["text"] = text
                ents = detect_entities(text) if entities is None else entities
                if ents:
                    msg["entities"] = ents
            if caption is not None:
                msg["caption"] = caption
                ents = detect_entities(caption) if entities is None else entities
                if ents:
                    msg["caption_entities"] = ents
            return self._deliver_incoming(chat_id, msg, "channel_post")

    def send_channel_album(
        self, chat_id: int, captions: list[str | None], *, media_group_id: str = "1356891", **kw
    ) -> list[dict]:
        """An album: one ``channel_post`` per photo sharing a ``media_group_id``, each with
        its own caption (usually only the first has one), sent one right after another."""
        return [
            self.send_channel_post(
                chat_id, caption=caption, photo=True, media_group_id=media_group_id, **kw
            )
            for caption in captions
        ]

    def edit_channel_post(self, chat_id: int, message_id: int, new_text: str) -> dict:
        """The channel edits a post (update type ``edited_channel_post``): its text, or its
        caption if it is a photo."""
        with self._lock:
            record = self._messages.get((chat_id, message_id))
            if record is None or record["message"]["chat"]["type"] != "channel":
                raise LookupError(f"no channel post {message_id} in chat {chat_id}")
            msg = copy.deepcopy(record["message"])
            field = "caption" if "photo" in msg else "text"
            msg[field] = new_text
            msg.pop(f"{field}_entities" if field == "caption" else "entities", None)
            ents = detect_entities(new_text)
            if ents:
                msg["caption_entities" if field == "caption" else "entities"] = ents
            msg["edit_date"] = max(int(time.time()), msg["date"] + 1)
            record["message"] = msg
            self._enqueue({"edited_channel_post": copy.deepcopy(msg)})
            return copy.deepcopy(msg)

    # ------------------------------------------------------------------ internal state helpers

    def _ensure_user(
        self,
        user_id: int,
        *,
        username: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
    ) -> dict:
        user = self._users.get(user_id)
        if user is None:
            user = {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}"}
            user["username"] = username or f"user{user_id}"
            self._users[user_id] = user
        if first_name:
            user["first_name"] = first_name
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        return user

    def _ensure_chat(
        self,
        chat_id: int,
        chat_type: str | None = None,
        *,
        title: str | None = None,
        user: dict | None = None,
    ) -> dict:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat_type = chat_type or chat_type_for_id(chat_id)
            chat = {"id": chat_id, "type": chat_type}
            if chat_type == "private":
                who = user if user and user["id"] == chat_id else self._ensure_user(chat_id)
                chat["first_name"] = who["first_name"]
                if who.get("last_name"):
                    chat["last_name"] = who["last_name"]
                if who.get("username"):
                    chat["username"] = who["username"]
            else:
                chat["title"] = title or "Test group"
                if chat_type == "group":
                    chat["all_members_are_administrators"] = False
            self._chats[chat_id] = chat
        elif title and chat["type"] != "private":
            chat["title"] = title
        return chat

    def _alloc_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id[chat_id]
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _inject_user_message(
        self,
        chat_id: int,
        extra: dict,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
        reply_to_message_id: int | None = None,
        chat_title: str | None = None,
    ) -> dict:
        with self._lock:
            if user_id is None:
                user_id = 1001 if chat_id < 0 else chat_id
            user = self._ensure_user(
                user_id,
                username=username,
                first_name=first_name,
                last_name=last_name,
                language_code=language_code,
            )
            chat = self._ensure_chat(chat_id, chat_type, title=chat_title, user=user)
            msg: dict[str, Any] = {
                "message_id": self._alloc_message_id(chat_id),
                "from": dict(user),
                "chat": dict(chat),
                "date": int(time.time()),
            }
            if reply_to_message_id is not None:
                replied = self._messages.get((chat_id, reply_to_message_id))
                if replied is None:
                    raise LookupError(f"no message {reply_to_message_id} in chat {chat_id}")
                msg["reply_to_message"] = self._reply_copy(replied["message"])
            msg.update(extra)
            return self._deliver_incoming(chat_id, msg, "message")

    def _deliver_incoming(self, chat_id: int, msg: dict, update_type: str) -> dict:
        """Record a message sent to the bot (users', channels') and queue its update."""
        with self._lock:
            self._messages[(chat_id, msg["message_id"])] = {
                "chat_id": chat_id,
                "message_id": msg["message_id"],
                "from_bot": False,
                "deleted": False,
                "message": msg,
            }
            self._enqueue({update_type: copy.deepcopy(msg)})
            return copy.deepcopy(msg)

    @staticmethod
    def _reply_copy(message: dict) -> dict:
        replied = copy.deepcopy(message)
        replied.pop("reply_to_message", None)
        return replied

    def _enqueue(self, payload: dict) -> dict:
        with self._lock:
            update = {"update_id": next(self._update_ids), **payload}
            self._updates.append(update)
            self.updates_log.append(update)
        self._notify()
        return update
