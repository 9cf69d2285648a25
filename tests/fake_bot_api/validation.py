"""Parameter access and Telegram-like validation for the fake Bot API."""

from __future__ import annotations

import json
from typing import Any

from .html_entities import (
    HtmlParseError,
    ParsedText,
    is_valid_button_url,
    parse_html,
    strip_text,
    utf16_len,
)

__all__ = [
    "MAX_MESSAGE_LENGTH",
    "ApiError",
    "Params",
    "parse_message_text",
    "validate_inline_results",
    "validate_reply_markup",
]

MAX_MESSAGE_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_RESULTS = 50
MAX_INLINE_RESULT_ID_BYTES = 64
INLINE_RESULT_TYPES = frozenset(
    {
        "article", "photo", "gif", "mpeg4_gif", "video", "audio", "voice", "document",
        "location", "venue", "contact", "game", "sticker",
    }
)  # fmt: skip
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": ..., ...}``."""

    def __init__(self, error_code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    @classmethod
    def bad_request(cls, detail: str, parameters: dict | None = None) -> ApiError:
        return cls(400, f"Bad Request: {detail}", parameters)

    def payload(self) -> dict:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class Params:
    """Typed access to request parameters.

    PTB 22 sends ``application/x-www-form-urlencoded`` bodies where string values are sent
    verbatim and every other value is JSON-encoded (``"123"``, ``"true"``, ``'{"inline_keyboard":
    ...}'``); with file uploads it is ``multipart/form-data`` with the same encoding.  Other
    clients send a JSON body with real types.  The accessors below accept both.
    """

    def __init__(self, raw: dict[str, Any]):
        self.raw = raw

    def __contains__(self, name: str) -> bool:
        return name in self.raw and self.raw[name] is not None

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value
        return json.dumps(value) if isinstance(value, (dict, list)) else str(value)

    def int(self, name: str, default: int | None = None, *, required: bool = False) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                raise ApiError.bad_request(f"{name} is empty")
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip().strip('"'))
        except ValueError:
            if required:
                raise ApiError.bad_request(f"invalid {name} specified") from None
            return default

    def chat_id(self, name: str = "chat_id") -> int | str:
        value = self.raw.get(name)
        if value is None or value == "":
            raise ApiError.bad_request("chat_id is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip().strip('"')
        try:
            return int(text)
        except ValueError:
            if text.startswith("@"):
                return text
            raise ApiError.bad_request("chat not found") from None

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1", "yes")

    def json(self, name: str, default: Any = None) -> Any:
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError.bad_request(f"can't parse {name} JSON object") from None
        return value

    def float(self, name: str, default: float | None = None) -> float | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            return default


def parse_message_text(
    text: str | None,
    parse_mode: str | None,
    entities: list | None = None,
    *,
    strict_ampersand: bool = True,
    empty_error: str = "message text is empty",
    too_long_error: str = "message is too long",
    limit: int = MAX_MESSAGE_LENGTH,
) -> ParsedText:
    """Parse/validate a message text; raises ApiError like sendMessage would."""
    if text is None or text == "":
        raise ApiError.bad_request(empty_error)
    mode = (parse_mode or "").strip()
    if mode.lower() == "html":
        try:
            parsed = parse_html(text, strict_ampersand=strict_ampersand)
        except HtmlParseError as exc:
            raise ApiError.bad_request(f"can't parse entities: {exc}") from None
    elif mode == "" or mode.lower() in ("markdown", "markdownv2"):
        # Markdown is not interpreted by the fake: the text is kept verbatim.
        parsed = ParsedText(text, list(entities or []) if not mode else [])
    else:
        raise ApiError.bad_request("unsupported parse_mode")
    parsed = strip_text(parsed)
    if not parsed.text:
        raise ApiError.bad_request(empty_error)
    if utf16_len(parsed.text) > limit:
        raise ApiError.bad_request(too_long_error)
    return parsed


def _button_error(detail: str) -> ApiError:
    return ApiError.bad_request(f"can't parse inline keyboard button: {detail}")


def validate_reply_markup(markup: Any) -> dict | None:
    """Validate a reply_markup object; returns it (as dict) or raises ApiError."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError.bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ApiError.bad_request(
                "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
            )
        for row in rows:
            for button in row:
                _validate_inline_button(button)
        return markup
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ApiError.bad_request("can't parse reply keyboard markup JSON object")
        for row in rows:
            for button in row:
                label = button.get("text") if isinstance(button, dict) else button
                if not isinstance(label, str) or not label:
                    raise ApiError.bad_request(
                        'can\'t parse keyboard button: Field "text" must be of type String'
                    )
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise ApiError.bad_request("can't parse reply keyboard markup JSON object")


def _validate_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise _button_error("InlineKeyboardButton must be an Object")
    text = button.get("text")
    if not isinstance(text, str):
        raise _button_error('Field "text" must be of type String')
    if not text.strip():
        raise ApiError.bad_request("BUTTON_TEXT_INVALID")
    actions = [key for key in _BUTTON_ACTIONS if key in button and button[key] is not None]
    if not actions:
        raise _button_error("Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise _button_error(
            f"exactly one of the optional fields must be used, got {', '.join(actions)}"
        )
    if "callback_data" in actions:
        data = button["callback_data"]
        if not isinstance(data, str) or not (
            1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
        ):
            raise ApiError.bad_request("BUTTON_DATA_INVALID")
    if "url" in actions and not is_valid_button_url(button["url"]):
        raise ApiError.bad_request("BUTTON_URL_INVALID")


def validate_inline_results(results: Any, *, strict_ampersand: bool = True) -> list[dict]:
    if not isinstance(results, list):
        raise ApiError.bad_request("can't parse inline query results JSON object")
    if len(results) > MAX_INLINE_RESULTS:
        raise ApiError.bad_request("RESULTS_TOO_MUCH")
    seen: set[str] = set()
    for result in results:
        if not isinstance(result, dict):
            raise ApiError.bad_request("can't parse InlineQueryResult JSON object")
        rid = result.get("id")
        if (
            not isinstance(rid, str)
            or not rid
            or len(rid.encode("utf-8")) > MAX_INLINE_RESULT_ID_BYTES
        ):
            raise ApiError.bad_request("RESULT_ID_INVALID")
        if rid in seen:
            raise ApiError.bad_request("RESULT_ID_DUPLICATE")
        seen.add(rid)
        rtype = result.get("type")
        if rtype not in INLINE_RESULT_TYPES:
            raise ApiError.bad_request("RESULT_TYPE_INVALID")
        if rtype == "article":
            if not isinstance(result.get("title"), str) or not result["title"]:
                raise ApiError.bad_request("RESULT_TITLE_EMPTY")
            if "input_message_content" not in result:
                raise ApiError.bad_request(
                    "can't parse InlineQueryResultArticle: input_message_content is required"
                )
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            parse_message_text(
                content.get("message_text"),
                content.get("parse_mode"),
                content.get("entities"),
                strict_ampersand=strict_ampersand,
                empty_error="MESSAGE_EMPTY",
            )
        if "reply_markup" in result:
            markup = result["reply_markup"]
            if not isinstance(markup, dict) or "inline_keyboard" not in markup:
                raise ApiError.bad_request("REPLY_MARKUP_INVALID")
            validate_reply_markup(markup)
    return results
