"""The commands are documented where readers look, and nowhere wrongly: ``/help``, the README's
"Commands in Telegram" table and Telegram's command menu all list exactly ``COMMANDS`` (as
sqlite-utils tests its docs), in every language the bot has, and admin commands stay out of
what everyone sees."""

from __future__ import annotations

import re

import pytest
from helpers import ROOT, TOKEN
from telegram.ext import CommandHandler

from bot.commands import COMMANDS, help_text
from bot.config import Config
from bot.i18n import FSI, RLM, available_languages, texts_for
from bot.telegram_app.app import build_application
from bot.telegram_app.menus import command_menu

PUBLIC = [c.name for c in COMMANDS if not c.admin]
ADMIN_ONLY = [c.name for c in COMMANDS if c.admin]
EVERY = [c.name for c in COMMANDS]


def readme_commands() -> dict[str, bool]:
    """``{command: admin}`` from the README's "Commands in Telegram" table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Commands in Telegram", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `/")]
    found = {}
    for row in rows:
        first_cell = row.split(" | ")[0]
        for name in re.findall(r"`/(\w+)", first_cell):
            found[name] = "(admins)" in first_cell
    return found


def help_commands(text: str) -> list[str]:
    """The commands at the start of lines (in right-to-left languages, after the mark that
    sets the line's direction and inside an isolate)."""
    return re.findall(rf"^{RLM}?{FSI}?/(\w+)", text, flags=re.MULTILINE)


@pytest.mark.parametrize("language", available_languages())
def test_help_lists_every_command_and_admins_see_theirs(language: str) -> None:
    texts = texts_for(language)
    assert help_commands(help_text(True, texts)) == EVERY
    assert help_commands(help_text(False, texts)) == PUBLIC


def test_the_readme_table_lists_every_command_and_marks_the_admin_ones() -> None:
    documented = readme_commands()
    assert sorted(documented) == sorted(EVERY)
    assert sorted(name for name, admin in documented.items() if admin) == sorted(ADMIN_ONLY)


@pytest.mark.parametrize("language", available_languages())
def test_the_command_menu_shows_admin_commands_to_admins_only(language: str) -> None:
    texts = texts_for(language)
    assert [c.command for c in command_menu(False, texts)] == PUBLIC
    assert [c.command for c in command_menu(True, texts)] == EVERY
    descriptions = {c.name: texts.gettext(c.description) for c in COMMANDS}
    assert all(c.description == descriptions[c.command] for c in command_menu(True, texts))
    assert all(1 <= len(c.description) <= 256 for c in command_menu(True, texts))


@pytest.fixture
def registered_commands(tmp_path) -> set[str]:
    app = build_application(Config(token=TOKEN, data_dir=tmp_path / "data"))
    return {
        command
        for handlers in app.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }


def test_every_command_has_a_handler_and_every_handler_is_documented(registered_commands):
    assert registered_commands == set(EVERY)
