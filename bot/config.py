"""Configuration, loaded once into a typed object from environment variables.

``Config.from_mapping`` takes any mapping so tests pass a dict; ``load_config`` reads the
process environment over an optional ``.env`` file. Nothing happens at import time.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from bot.articles.languages import language_code
from bot.errors import ConfigError

DEFAULT_API_URL = "https://api.telegram.org/bot"
# Defaults live beside the code, so `python /path/to/bot.py` works from any directory.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")


@dataclass(frozen=True)
class Config:
    token: str | None = field(default=None, repr=False)  # never printed
    api_url: str = DEFAULT_API_URL
    admins: frozenset[int] = frozenset()
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    data_dir: Path = PROJECT_ROOT / "data"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    scan_interval: float | None = None  # seconds between automatic corpus scans
    log_level: str = "INFO"
    language: str = "en"  # the newsroom's language: articles of unknown language, the bot's texts
    # Live sources (bot/sources/)
    feeds: tuple[str, ...] = ()  # followed at start-up, idempotently
    feed_interval: float = 300.0  # seconds between polls of one feed
    channels: frozenset[str] = frozenset()  # channel ids / lower-case usernames; empty: all
    channel_alerts: bool = False  # announce channel posts to subscribers
    fetch_allow_private: bool = False  # fetch from loopback/private addresses (tests, intranets)
    fetch_timeout: float = 30.0  # seconds for one request, redirects and body included

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "bot.sqlite3"

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Config:
        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        token = get("TELEGRAM_BOT_TOKEN")
        if token is not None and not _TOKEN_SHAPE.match(token):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN does not look like a bot token (expected '123456:ABC…' "
                "as given by @BotFather)"
            )
        api_url = get("TELEGRAM_API_URL") or DEFAULT_API_URL
        _check_url("TELEGRAM_API_URL", api_url)
        webhook_url = get("BOT_WEBHOOK_URL")
        if webhook_url:
            _check_url("BOT_WEBHOOK_URL", webhook_url)
        return cls(
            token=token,
            api_url=api_url,
            admins=_parse_admins(get("BOT_ADMINS") or ""),
            corpus_dir=Path(get("BOT_CORPUS_DIR") or PROJECT_ROOT / "corpus"),
            data_dir=Path(get("BOT_DATA_DIR") or PROJECT_ROOT / "data"),
            webhook_url=webhook_url,
            webhook_listen=get("BOT_WEBHOOK_LISTEN") or "127.0.0.1",
            webhook_port=_parse_number("BOT_WEBHOOK_PORT", get("BOT_WEBHOOK_PORT"), 8443, int),
            webhook_secret=get("BOT_WEBHOOK_SECRET"),
            scan_interval=_parse_number("BOT_SCAN_INTERVAL", get("BOT_SCAN_INTERVAL"), None, float),
            log_level=_parse_log_level(get("BOT_LOG_LEVEL") or "INFO"),
            language=_parse_language(get("BOT_LANGUAGE") or "en"),
            feeds=_parse_feeds(get("BOT_FEEDS") or ""),
            feed_interval=_parse_number(
                "BOT_FEED_INTERVAL", get("BOT_FEED_INTERVAL"), 300.0, float
            ),
            channels=_parse_channels(get("BOT_CHANNELS") or ""),
            channel_alerts=_parse_flag("BOT_CHANNEL_ALERTS", get("BOT_CHANNEL_ALERTS")),
            fetch_allow_private=_parse_flag(
                "BOT_FETCH_ALLOW_PRIVATE", get("BOT_FETCH_ALLOW_PRIVATE")
            ),
            fetch_timeout=_parse_number("BOT_FETCH_TIMEOUT", get("BOT_FETCH_TIMEOUT"), 30.0, float),
        )


def _check_url(name: str, value: str) -> None:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")


def _parse_language(value: str) -> str:
    code = language_code(value)
    if not code:
        raise ConfigError(
            f"BOT_LANGUAGE must be a language code such as en, ru or fa, got {value!r}"
        )
    return code


def _parse_log_level(value: str) -> str:
    level = value.upper()
    if level not in logging.getLevelNamesMapping():
        raise ConfigError(f"BOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {value!r}")
    return level


def _parse_admins(value: str) -> frozenset[int]:
    admins = set()
    for part in filter(None, (p.strip() for p in value.split(","))):
        if not part.lstrip("-").isdigit():
            raise ConfigError(f"BOT_ADMINS must be comma-separated Telegram user ids, got {part!r}")
        admins.add(int(part))
    return frozenset(admins)


def _parse_feeds(value: str) -> tuple[str, ...]:
    """Feed URLs separated by spaces, commas or newlines, in order, each once."""
    urls = [u for u in re.split(r"[\s,]+", value) if u]
    for url in urls:
        _check_url("BOT_FEEDS", url)
    return tuple(dict.fromkeys(urls))


def _parse_channels(value: str) -> frozenset[str]:
    """Channel ids (-100…) and @usernames; usernames are matched without "@", any case."""
    channels = set()
    for part in filter(None, re.split(r"[\s,]+", value)):
        if part.lstrip("-").isdigit():
            channels.add(str(int(part)))
        elif re.fullmatch(r"@?[A-Za-z][A-Za-z0-9_]{3,31}", part):
            channels.add(part.removeprefix("@").casefold())
        else:
            raise ConfigError(
                f"BOT_CHANNELS must list channel ids (-100…) or @usernames, got {part!r}"
            )
    return frozenset(channels)


def _parse_flag(name: str, value: str | None) -> bool:
    if value is None:
        return False
    if value.casefold() in ("1", "true", "yes", "on"):
        return True
    if value.casefold() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {value!r}")


def _parse_number(name, value, default, kind):
    if value is None:
        return default
    try:
        number = kind(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if number <= 0:
        raise ConfigError(f"{name} must be positive, got {value!r}")
    return number


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of a ``.env`` file (comments, blank lines and quotes handled)."""
    values = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_config(env: Mapping[str, str] | None = None, dotenv: Path = Path(".env")) -> Config:
    """The environment wins over ``.env``, so deployments can override a developer's file."""
    return Config.from_mapping({**read_dotenv(dotenv), **(os.environ if env is None else env)})
