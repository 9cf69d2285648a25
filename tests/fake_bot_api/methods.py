"""Bot API method implementations (``_m_<lowercased method name>``) for FakeBotAPI."""

from __future__ import annotations

import asyncio
import collections
import copy
import math
import re
import time
from typing import Any

from .builders import member_json
from .validation import (
    ApiError,
    Params,
    parse_message_text,
    validate_inline_results,
    validate_reply_markup,
)

DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)  # fmt: skip  (Telegram's default: everything except chat_member and message_reaction*)
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip
QUERY_EXPIRED = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_LANGUAGE_CODE_RE = re.compile(r"^(?:[a-z]{2})?$")  # ISO 639-1, or empty for every language


def _language_code(params: Params) -> str:
    """The ``language_code`` of the *MyCommands methods: a two-letter code or empty."""
    code = params.str("language_code", "") or ""
    if not _LANGUAGE_CODE_RE.match(code):
        raise ApiError.bad_request("LANGUAGE_CODE_INVALID")
    return code


def scope_key(scope: dict | None) -> str:
    """``default``, ``all_private_chats``, ``chat:<id>``, ``chat_member:<id>:<user_id>``..."""
    if not scope:
        return "default"
    kind = scope.get("type", "default")
    if "chat_id" in scope:
        kind += f":{scope['chat_id']}"
    if "user_id" in scope:
        kind += f":{scope['user_id']}"
    return kind


class BotMethodsMixin:
    """Handlers of the supported Bot API methods; state lives in FakeBotAPI.__init__.

    Every ``_m_<name>`` method is dispatched for ``POST /bot<token>/<name>`` (case-insensitive).
    Sync handlers run under the state lock; ``getUpdates`` is async (long polling).
    """

    # mypy: attributes provided by FakeBotAPI
    _lock: Any
    _changed: Any

    # ------------------------------------------------------------------ chat resolution / limits

    def _resolve_chat(self, params: Params, *, for_send: bool = True) -> dict:
        raw = params.chat_id()
        if isinstance(raw, str):  # @username
            for chat in self._chats.values():
                if chat.get("username", "").lower() == raw[1:].lower():
                    raw = chat["id"]
                    break
            else:
                raise ApiError.bad_request("chat not found")
        chat_id = raw
        if chat_id in self._deleted:
            raise ApiError.bad_request("chat not found")
        if chat_id in self._migrated and for_send:
            raise ApiError.bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[chat_id]},
            )
        chat = self._chats.get(chat_id)
        if chat is None:
            if self.strict_chats:
                raise ApiError.bad_request("chat not found")
            chat = self._ensure_chat(chat_id)
        if for_send:
            kind = chat["type"]
            if chat_id in self._blocked:
                if kind == "private":
                    raise ApiError(403, "Forbidden: bot was blocked by the user")
                raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
            if chat_id in self._left:
                raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        return chat

    def _check_rate(self, method: str, chat: dict) -> None:
        limits = self._rate_limits
        if limits is None:
            return
        now = time.monotonic()
        chat_id = chat["id"]
        checks: list[tuple[str, collections.deque[float], int | None, float]] = [
            ("global", self._rate_global, limits["global"], 1.0),
            ("chat", self._rate_chat[chat_id], limits["chat"], 1.0),
        ]
        if chat["type"] != "private":
            checks.append(("group", self._rate_group[chat_id], limits["group"], 60.0))
        for scope, window, limit, span in checks:
            if limit is None:
                continue
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) >= limit:
                retry_after = max(1, math.ceil(window[0] + span - now))
                self.rate_violations.append(
                    {"method": method, "chat_id": chat_id, "scope": scope, "time": time.time(),
                     "retry_after": retry_after}
                )  # fmt: skip
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
        for _scope, window, _limit, _span in checks:
            window.append(now)

    def _parse_text(self, text: str | None, params: Params) -> Any:
        return parse_message_text(
            text,
            params.str("parse_mode"),
            params.json("entities"),
            strict_ampersand=self.strict_ampersand,
        )

    def _find_message(self, params: Params, missing: str) -> dict:
        if "inline_message_id" in params:
            raise ApiError.bad_request(missing)
        chat = self._resolve_chat(params, for_send=False)
        message_id = params.int("message_id")
        if message_id is None:
            raise ApiError.bad_request("message identifier is not specified")
        record = self._messages.get((chat["id"], message_id))
        if record is None or record["deleted"]:
            raise ApiError.bad_request(missing)
        return record

    # ------------------------------------------------------------------ API methods

    def _m_getme(self, params: Params) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_getupdates(self, params: Params) -> list[dict]:
        offset = params.int("offset")
        limit = min(max(params.int("limit", 100) or 100, 1), 100)
        timeout = max(0.0, min(params.float("timeout", 0.0) or 0.0, self.max_long_poll))
        allowed = params.json("allowed_updates")
        loop = asyncio.get_running_loop()
        with self._lock:
            if self.webhook.get("url"):
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if isinstance(allowed, list):
                self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
            if offset is not None:
                if offset < 0:
                    del self._updates[: max(len(self._updates) + offset, 0)]
                else:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._poll_generation += 1
            generation = self._poll_generation
        self._notify()  # wakes (and thereby terminates) an older long poll
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            with self._lock:
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                self._updates = [
                    u for u in self._updates if self._update_type(u) in self._allowed_updates
                ]
                batch = copy.deepcopy(self._updates[:limit])
            remaining = deadline - loop.time()
            if batch or self._closing or remaining <= 0:
                with self._lock:
                    self._delivered_update_ids.update(u["update_id"] for u in batch)
                return batch
            assert event is not None
            with self._lock:
                self.active_long_polls += 1
            self._notify()
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass
            finally:
                with self._lock:
                    self.active_long_polls -= 1

    @staticmethod
    def _update_type(update: dict) -> str:
        return next(key for key in update if key != "update_id")

    def _m_setwebhook(self, params: Params) -> bool:
        url = params.str("url", "") or ""
        if url and not url.lower().startswith("https://"):
            raise ApiError.bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.bool("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {"url": url}
        for key in ("max_connections", "ip_address", "secret_token"):
            if key in params:
                self.webhook[key] = params.str(key)
        if "allowed_updates" in params:
            self.webhook["allowed_updates"] = params.json("allowed_updates")
        return True

    def _m_deletewebhook(self, params: Params) -> bool:
        if params.bool("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {"url": ""}
        return True

    def _m_getwebhookinfo(self, params: Params) -> dict:
        info = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook.get("max_connections"):
            info["max_connections"] = int(self.webhook["max_connections"])
        if self.webhook.get("allowed_updates"):
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    def _m_setmycommands(self, params: Params) -> bool:
        commands = params.json("commands")
        if not isinstance(commands, list):
            raise ApiError.bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise ApiError.bad_request("BOT_COMMANDS_TOO_MUCH")
        for cmd in commands:
            if not isinstance(cmd, dict) or not _COMMAND_RE.match(str(cmd.get("command", ""))):
                raise ApiError.bad_request("BOT_COMMAND_INVALID")
            desc = cmd.get("description")
            if not isinstance(desc, str) or not 1 <= len(desc) <= 256:
                raise ApiError.bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = (scope_key(params.json("scope")), _language_code(params))
        self.commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _m_getmycommands(self, params: Params) -> list[dict]:
        key = (scope_key(params.json("scope")), _language_code(params))
        return copy.deepcopy(self.commands.get(key, []))

    def _m_deletemycommands(self, params: Params) -> bool:
        key = (scope_key(params.json("scope")), _language_code(params))
        self.commands.pop(key, None)
        return True

    def _m_sendmessage(self, params: Params) -> dict:
        chat = self._resolve_chat(params)
        chat_id = chat["id"]
        text = params.str("text")
        parsed = self._parse_text(text, params)
        markup = validate_reply_markup(params.json("reply_markup"))
        reply_params = params.json("reply_parameters")
        if reply_params is None and "reply_to_message_id" in params:
            reply_params = {
                "message_id": params.int("reply_to_message_id"),
                "allow_sending_without_reply": params.bool("allow_sending_without_reply"),
            }
        replied = None
        if reply_params:
            target_chat = int(reply_params.get("chat_id", chat_id))
            replied = self._messages.get((target_chat, int(reply_params.get("message_id", 0))))
            if replied is None or replied["deleted"]:
                replied = None
                if not reply_params.get("allow_sending_without_reply"):
                    raise ApiError.bad_request("message to be replied not found")
        self._check_rate("sendMessage", chat)
        message: dict[str, Any] = {
            "message_id": self._alloc_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": dict(chat),
            "date": int(time.time()),
        }
        if replied is not None:
            message["reply_to_message"] = self._reply_copy(replied["message"])
        message["text"] = parsed.text
        if parsed.entities:
            message["entities"] = parsed.entities
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        link_preview = params.json("link_preview_options")
        record = {
            "chat_id": chat_id,
            "message_id": message["message_id"],
            "text": parsed.text,
            "html": text,
            "parse_mode": params.str("parse_mode"),
            "entities": parsed.entities,
            "reply_markup": markup,
            "disable_notification": params.bool("disable_notification"),
            "protect_content": params.bool("protect_content"),
            "link_preview_options": link_preview,
            "reply_to_message_id": replied["message_id"] if replied else None,
            "edits": 0,
            "deleted": False,
            "from_bot": True,
            "date": message["date"],
            "message": message,
        }
        self._messages[(chat_id, message["message_id"])] = record
        self._bot_messages.append(record)
        return copy.deepcopy(message)

    def _edit_common(self, params: Params, *, new_text: bool) -> dict | bool:
        if "inline_message_id" in params:
            # messages sent via inline mode are not tracked; accept the edit
            if new_text:
                self._parse_text(params.str("text"), params)
            validate_reply_markup(params.json("reply_markup"))
            return True
        record = self._find_message(params, "message to edit not found")
        if not record["from_bot"]:
            raise ApiError.bad_request("message can't be edited")
        chat = self._chats[record["chat_id"]]
        message = record["message"]
        markup = validate_reply_markup(params.json("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise ApiError.bad_request("REPLY_MARKUP_INVALID")
        if new_text:
            parsed = self._parse_text(params.str("text"), params)
            text, entities = parsed.text, parsed.entities
        else:
            text, entities = record["text"], record["entities"]
        if (
            text == record["text"]
            and entities == record["entities"]
            and (markup or None) == (message.get("reply_markup") or None)
        ):
            raise ApiError.bad_request(NOT_MODIFIED)
        self._check_rate("editMessageText" if new_text else "editMessageReplyMarkup", chat)
        if new_text:
            record.update(
                text=text,
                html=params.str("text"),
                parse_mode=params.str("parse_mode"),
                entities=entities,
                link_preview_options=params.json("link_preview_options"),
            )
            message["text"] = text
            if entities:
                message["entities"] = entities
            else:
                message.pop("entities", None)
        record["reply_markup"] = markup
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        record["edits"] += 1
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _m_editmessagetext(self, params: Params) -> dict | bool:
        return self._edit_common(params, new_text=True)

    def _m_editmessagereplymarkup(self, params: Params) -> dict | bool:
        return self._edit_common(params, new_text=False)

    def _m_deletemessage(self, params: Params) -> bool:
        record = self._find_message(params, "message to delete not found")
        chat = self._chats[record["chat_id"]]
        if (
            not record["from_bot"]
            and chat["type"] != "private"
            and self.bot_id not in self._admins.get(chat["id"], [])
        ):
            raise ApiError.bad_request("message can't be deleted")
        record["deleted"] = True
        return True

    def _m_answercallbackquery(self, params: Params) -> bool:
        query_id = params.str("callback_query_id") or ""
        query = self._callback_queries.get(query_id)
        if (
            query is None
            or query["answered"]
            or time.monotonic() - query["created"] > self.callback_query_timeout
        ):
            raise ApiError.bad_request(QUERY_EXPIRED)
        text = params.str("text")
        if text is not None and len(text) > 200:
            raise ApiError.bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        self.callback_answers.append(
            {
                "callback_query_id": query_id,
                "text": text,
                "show_alert": params.bool("show_alert"),
                "url": params.str("url"),
                "cache_time": params.int("cache_time", 0),
                "data": query["data"],
                "chat_id": query["chat_id"],
                "message_id": query["message_id"],
                "time": time.time(),
            }
        )
        return True

    def _m_answerinlinequery(self, params: Params) -> bool:
        query_id = params.str("inline_query_id") or ""
        query = self._inline_queries.get(query_id)
        if (
            query is None
            or query["answered"]
            or time.monotonic() - query["created"] > self.inline_query_timeout
        ):
            raise ApiError.bad_request(QUERY_EXPIRED)
        results = validate_inline_results(
            params.json("results"), strict_ampersand=self.strict_ampersand
        )
        query["answered"] = True
        self.inline_answers.append(
            {
                "inline_query_id": query_id,
                "query": query["query"],
                "user_id": query["user_id"],
                "results": results,
                "cache_time": params.int("cache_time", 300),
                "is_personal": params.bool("is_personal"),
                "next_offset": params.str("next_offset", ""),
                "button": params.json("button"),
                "time": time.time(),
            }
        )
        return True

    def _m_sendchataction(self, params: Params) -> bool:
        chat = self._resolve_chat(params)
        action = params.str("action")
        if action not in CHAT_ACTIONS:
            raise ApiError.bad_request("wrong parameter action in request")
        self.chat_actions.append({"chat_id": chat["id"], "action": action, "time": time.time()})
        return True

    def _m_getchat(self, params: Params) -> dict:
        chat = self._resolve_chat(params, for_send=False)
        full = {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }
        if chat["id"] in self._migrated:
            full["migrated_to_chat_id"] = self._migrated[chat["id"]]  # informational only
        return full

    def _member_status(self, chat: dict, user_id: int) -> str:
        chat_id = chat["id"]
        if chat["type"] == "private":
            return "member"
        if self._creators.get(chat_id) == user_id:
            return "creator"
        if user_id in self._admins.get(chat_id, []):
            return "administrator"
        if user_id == self.bot_id and chat_id in self._blocked:
            return "kicked"
        if user_id == self.bot_id and chat_id in self._left:
            return "left"
        return "member"

    def _user_json(self, user_id: int) -> dict:
        return dict(self.bot_user) if user_id == self.bot_id else dict(self._ensure_user(user_id))

    def _m_getchatmember(self, params: Params) -> dict:
        chat = self._resolve_chat(params, for_send=False)
        user_id = params.int("user_id", required=True)
        assert user_id is not None
        return member_json(self._user_json(user_id), self._member_status(chat, user_id))

    def _m_getchatadministrators(self, params: Params) -> list[dict]:
        chat = self._resolve_chat(params, for_send=False)
        if chat["type"] == "private":
            raise ApiError.bad_request("there are no administrators in the private chat")
        ids = list(self._admins.get(chat["id"], []))
        creator = self._creators.get(chat["id"])
        if creator is not None and creator not in ids:
            ids.insert(0, creator)
        return [member_json(self._user_json(uid), self._member_status(chat, uid)) for uid in ids]

    def _m_leavechat(self, params: Params) -> bool:
        chat = self._resolve_chat(params, for_send=False)
        if chat["type"] == "private":
            raise ApiError.bad_request("chat member status can't be changed in private chats")
        self._left.add(chat["id"])
        return True

    def _m_close(self, params: Params) -> bool:
        self.closed = True
        return True

    def _m_logout(self, params: Params) -> bool:
        self.logged_out = True
        return True
