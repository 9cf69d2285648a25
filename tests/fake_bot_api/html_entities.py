"""A strict re-implementation of Telegram's HTML ``parse_mode`` parser.

The logic follows tdlib's ``parse_html`` (td/telegram/MessageEntity.cpp) closely, including
its error wording, so that a message the fake accepts is a message Telegram accepts.  The one
deliberate difference: with ``strict_ampersand=True`` (the default) a bare ``&`` that does not
start a recognised entity is an error, while real Telegram silently keeps it as a literal.
The Bot API documentation says such characters *must* be escaped, so the fake is stricter to
catch escaping bugs early.

Offsets/lengths of the produced entities are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["HtmlParseError", "ParsedText", "is_valid_button_url", "parse_html", "utf16_len"]

_SPACES = " \t\r\n\v\0"
_SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML.  ``str(err)`` is the tdlib message."""


@dataclass
class ParsedText:
    text: str
    entities: list[dict] = field(default_factory=list)


def utf16_len(s: str) -> int:
    """Length of ``s`` in UTF-16 code units (what Telegram counts)."""
    return len(s.encode("utf-16-le")) // 2


def is_valid_button_url(url: str) -> bool:
    """http(s) URLs with a host and ``tg://`` links are accepted, like Telegram buttons."""
    if not isinstance(url, str) or not url or any(c in url for c in " \t\r\n"):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return bool(parts.hostname)
    if scheme == "tg":
        return bool(parts.netloc or parts.path)
    return False


def _byte_offset(text: str, pos: int) -> int:
    return len(text[:pos].encode("utf-8"))


def _char(text: str, i: int) -> str:
    return text[i] if i < len(text) else "\0"


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode an HTML entity starting at ``text[pos] == '&'`` like tdlib does.

    Returns (decoded character, position after the entity) or None if it is not an entity.
    The trailing ``;`` is optional (as in tdlib).
    """
    end = pos + 1
    if _char(text, end) == "#":
        end += 1
        value = 0
        if _char(text, end) == "x":
            end += 1
            start = end
            while _char(text, end) in "0123456789abcdefABCDEF" and _char(text, end) != "\0":
                end += 1
            value = int(text[start:end], 16) if end > start else 0
        else:
            start = end
            while _char(text, end).isdigit() and _char(text, end).isascii():
                end += 1
            value = int(text[start:end]) if end > start else 0
        if value == 0 or value >= 0x10FFFF or end - pos >= 10 or 0xD800 <= value <= 0xDFFF:
            return None
        ch = chr(value)
    else:
        while _char(text, end).isascii() and _char(text, end).isalpha():
            end += 1
        name = text[pos + 1 : end]
        if name not in _NAMED_ENTITIES:
            return None
        ch = _NAMED_ENTITIES[name]
    if _char(text, end) == ";":
        end += 1
    return ch, end


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    begin_pos: int
    expandable: bool = False


def _make_entity(tag: _OpenTag, offset: int, length: int, inner_text: str) -> dict | None:
    name = tag.name
    if name in _SIMPLE_TAG_TYPES:
        ent = {"type": _SIMPLE_TAG_TYPES[name], "offset": offset, "length": length}
        if name == "code" and tag.argument:
            ent["language"] = tag.argument  # provisional, merged into <pre> when closed
        return ent
    if name == "blockquote":
        kind = "expandable_blockquote" if tag.expandable else "blockquote"
        return {"type": kind, "offset": offset, "length": length}
    if name == "tg-emoji":
        return {
            "type": "custom_emoji",
            "offset": offset,
            "length": length,
            "custom_emoji_id": tag.argument,
        }
    if name == "a":
        url = tag.argument or inner_text
        if url.startswith("tg://user?id="):
            try:
                user_id = int(url.split("=", 1)[1])
            except ValueError:
                return None
            return {
                "type": "text_mention",
                "offset": offset,
                "length": length,
                "user": {"id": user_id, "is_bot": False, "first_name": "User"},
            }
        if not is_valid_button_url(url) and not url.startswith(("mailto:", "tg://")):
            return None  # Telegram silently drops links with invalid URLs
        return {"type": "text_link", "offset": offset, "length": length, "url": url}
    return None  # pragma: no cover - all supported tags handled above


def parse_html(text: str, *, strict_ampersand: bool = True) -> ParsedText:
    """Parse Telegram-flavoured HTML into plain text + MessageEntity dicts.

    Raises HtmlParseError with Telegram's wording (without the
    "Bad Request: can't parse entities: " prefix).
    """
    result: list[str] = []
    utf16_offset = 0
    entities: list[dict] = []
    stack: list[_OpenTag] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_entity(text, i)
            if decoded is not None:
                ch, i = decoded
                result.append(ch)
                utf16_offset += utf16_len(ch)
                continue
            if strict_ampersand:
                raise HtmlParseError(
                    f'Character "&" at byte offset {_byte_offset(text, i)} does not start an '
                    'HTML entity and must be escaped as "&amp;" (fake Bot API: real Telegram '
                    "keeps it literally)"
                )
        if c != "<":
            result.append(c)
            utf16_offset += utf16_len(c)
            i += 1
            continue

        begin_pos = i
        i += 1
        if _char(text, i) != "/":
            # start tag
            while _char(text, i) not in _SPACES and _char(text, i) != ">":
                i += 1
            if i >= n:
                raise HtmlParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(text, begin_pos)}"
                )
            tag_name = text[begin_pos + 1 : i].lower()
            if tag_name not in _SUPPORTED_TAGS:
                raise HtmlParseError(
                    f'Unsupported start tag "{tag_name}" at byte offset '
                    f"{_byte_offset(text, begin_pos)}"
                )
            argument = ""
            expandable = False
            has_emoji_id = False
            while _char(text, i) != ">":
                while i < n and text[i] in _SPACES:
                    i += 1
                if _char(text, i) == ">":
                    break
                attr_begin = i
                while _char(text, i) not in _SPACES and _char(text, i) not in "=>":
                    i += 1
                attr_name = text[attr_begin:i]
                if not attr_name:
                    raise HtmlParseError(
                        f'Empty attribute name in the tag "{tag_name}" at byte offset '
                        f"{_byte_offset(text, begin_pos)}"
                    )
                while i < n and text[i] in _SPACES:
                    i += 1
                if _char(text, i) != "=":
                    if tag_name == "blockquote" and attr_name == "expandable":
                        expandable = True
                        if i >= n:
                            raise HtmlParseError(
                                f"Unclosed start tag at byte offset {_byte_offset(text, begin_pos)}"
                            )
                        continue
                    raise HtmlParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag_name}" at byte offset {_byte_offset(text, begin_pos)}'
                    )
                i += 1
                while i < n and text[i] in _SPACES:
                    i += 1
                if i >= n:
                    raise HtmlParseError(
                        f'Unclosed start tag "{tag_name}" at byte offset '
                        f"{_byte_offset(text, begin_pos)}"
                    )
                if text[i] not in "'\"":
                    token_begin = i
                    while _char(text, i).isascii() and (
                        _char(text, i).isalnum() or text[i] in ".-"
                    ):
                        i += 1
                    value = text[token_begin:i].lower()
                    if _char(text, i) not in _SPACES and _char(text, i) != ">":
                        raise HtmlParseError(
                            "Unexpected end of name token at byte offset "
                            f"{_byte_offset(text, token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and text[i] != quote:
                        if text[i] == "&":
                            decoded = _decode_entity(text, i)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(text[i])
                        i += 1
                    value = "".join(chars)
                    if _char(text, i) == quote:
                        i += 1
                if i >= n:
                    raise HtmlParseError(
                        f"Unclosed start tag at byte offset {_byte_offset(text, begin_pos)}"
                    )
                if tag_name == "a" and attr_name == "href":
                    argument = value
                elif tag_name == "code" and attr_name == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag_name == "span" and attr_name == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag_name == "tg-emoji" and attr_name == "emoji-id":
                    argument = value
                    has_emoji_id = True
                elif tag_name == "blockquote" and attr_name == "expandable":
                    expandable = True
            if tag_name == "span" and argument != "spoiler":
                raise HtmlParseError(
                    'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(text, begin_pos)}"
                )
            if tag_name == "tg-emoji" and not (has_emoji_id and argument.isdigit()):
                raise HtmlParseError(
                    'Tag "tg-emoji" must have a numeric attribute "emoji-id" at byte offset '
                    f"{_byte_offset(text, begin_pos)}"
                )
            stack.append(_OpenTag(tag_name, argument, utf16_offset, begin_pos, expandable))
            i += 1  # skip '>'
            continue

        # end tag
        if not stack:
            raise HtmlParseError(
                f"Unexpected end tag at byte offset {_byte_offset(text, begin_pos)}"
            )
        while _char(text, i) not in _SPACES and _char(text, i) != ">":
            i += 1
        end_tag_name = text[begin_pos + 2 : i]
        while i < n and text[i] in _SPACES:
            i += 1
        if _char(text, i) != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin_pos)}")
        i += 1
        tag = stack.pop()
        if end_tag_name and end_tag_name.lower() != tag.name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin_pos)}, "
                f'expected "</{tag.name}>", found "</{end_tag_name}>"'
            )
        length = utf16_offset - tag.utf16_offset
        if length <= 0:
            continue
        inner = _utf16_slice("".join(result), tag.utf16_offset, utf16_offset)
        entity = _make_entity(tag, tag.utf16_offset, length, inner)
        if entity is None:
            continue
        if tag.name == "pre" and entities:
            last = entities[-1]
            if (
                last["type"] == "code"
                and last["offset"] == entity["offset"]
                and last["length"] == entity["length"]
            ):
                entities.pop()
                if last.get("language"):
                    entity["language"] = last["language"]
        entities.append(entity)

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    for ent in entities:
        if ent["type"] == "code":
            ent.pop("language", None)  # only <pre><code class="language-x"> keeps a language
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText("".join(result), entities)


def _utf16_slice(s: str, start: int, end: int) -> str:
    raw = s.encode("utf-16-le")
    return raw[start * 2 : end * 2].decode("utf-16-le", "replace")


def strip_text(parsed: ParsedText) -> ParsedText:
    """Trim leading/trailing whitespace like Telegram does, shifting/clipping entities."""
    text = parsed.text
    stripped_left = text.lstrip()
    lead = utf16_len(text) - utf16_len(stripped_left)
    stripped = stripped_left.rstrip()
    total = utf16_len(stripped)
    entities = []
    for ent in parsed.entities:
        start = max(ent["offset"] - lead, 0)
        end = min(ent["offset"] + ent["length"] - lead, total)
        if end > start:
            entities.append({**ent, "offset": start, "length": end - start})
    return ParsedText(stripped, entities)
