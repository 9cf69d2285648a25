"""A fake Telegram Bot API server for end-to-end tests and benchmarks.

``from fake_bot_api import FakeBotAPI`` (with ``tests/`` on ``sys.path``).  See ``server.py``.
"""

from .html_entities import HtmlParseError, ParsedText, parse_html, utf16_len
from .server import FakeBotAPI, ThreadedFakeBotAPI
from .validation import ApiError

__all__ = [
    "ApiError",
    "FakeBotAPI",
    "HtmlParseError",
    "ParsedText",
    "ThreadedFakeBotAPI",
    "parse_html",
    "utf16_len",
]
