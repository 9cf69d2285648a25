"""The bot's texts in every language it has (``bot.i18n`` and ``bot/locale``): the catalogues
are complete and current (extracted with the project's own ``pybabel`` settings), their
translations keep every placeholder and tag, every text is valid Telegram HTML within
Telegram's limits once formatted with hostile values, plurals follow each language's rules,
dates and numbers are the language's, and right-to-left texts keep embedded Latin in place.

The end-to-end journeys through the fake Bot API are in ``test_i18n_e2e.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import string
import time
from html import escape
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from fake_bot_api import parse_html, utf16_len
from helpers import ROOT

from bot.commands import COMMANDS, help_text
from bot.i18n import (
    FSI,
    LOCALE_DIR,
    LRI,
    LRM,
    PDI,
    RLM,
    available_languages,
    catalogue_path,
    choose_texts,
    compile_catalogue,
    texts_for,
)
from bot.telegram_app import keyboards
from bot.telegram_app.handlers import questions

TRANSLATED = [code for code in available_languages() if code != "en"]
# Values a message may carry, as hostile as readers and articles make them: markup, an
# ampersand, a right-to-left title, a URL.
HOSTILE = "<b>R&D</b> «اخبار» https://news.example.com/a?b=1&c=2"
COUNTS = (0, 1, 2, 3, 5, 11, 21, 100, 101, 1_000_000)
CALLBACK_NOTICES = [  # answered to a button press: Telegram shows at most 200 characters
    keyboards.STALE_BUTTON,
    keyboards.TRY_AGAIN,
    questions.ARTICLE_GONE,
    "This answer has expired. Please ask again.",
    "No more quotes.",
    "Removed.",
    "That subscription was already gone.",
]
_TAG = re.compile(r"</?[a-z][^>]*>|&[a-z]+;")


def placeholders(message: str) -> set[str]:
    """The ``{names}`` of a message."""
    return {name for _, name, _, _ in string.Formatter().parse(message) if name is not None}


def message_ids(catalog: Catalog) -> set[tuple[str, ...]]:
    return {(m.id,) if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def read_catalogue(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale=language)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Catalog:
    """What ``pybabel extract`` finds in the code now, with the options in pyproject.toml."""
    output = tmp_path_factory.mktemp("pot") / "bot.pot"
    with contextlib.chdir(ROOT):  # where pybabel finds pyproject.toml
        CommandLineInterface().run(["pybabel", "-q", "extract", "-o", str(output)])
    return read_catalogue(output)


@pytest.fixture(scope="module")
def html_ids() -> set[str]:
    """The message ids used as HTML (``Texts.html``): extracted with that keyword alone."""
    from babel.messages.extract import extract_from_dir

    found = extract_from_dir(
        str(ROOT / "bot"), keywords={"html": None}, comment_tags=(), options_map={}
    )
    return {message for _, _, message, _, _ in found}


def sources(message) -> list[str]:
    return [message.id] if isinstance(message.id, str) else list(message.id)


def forms(message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string)


# -- catalogues: complete, current, consistent ---------------------------------------------


def test_the_template_is_what_the_code_marks(extracted) -> None:
    """``bot/locale/bot.pot`` is up to date: run ``pybabel extract`` after changing texts."""
    template = read_catalogue(LOCALE_DIR / "bot.pot")
    assert message_ids(template) == message_ids(extracted)
    assert len(extracted) > 100


def test_the_languages_are_english_and_the_catalogues() -> None:
    assert available_languages()[0] == "en"
    assert {"ru", "es", "fa", "ar"} <= set(TRANSLATED)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_and_nothing_is_stale_or_fuzzy(
    language: str, extracted
) -> None:
    catalog = read_catalogue(catalogue_path(language), language)
    assert message_ids(catalog) == message_ids(extracted)  # none missing, none stale
    assert not catalog.obsolete and not catalog.fuzzy
    assert catalog.num_plurals == get_plural(language).num_plurals
    for message in catalog:
        if not message.id:
            continue
        assert "fuzzy" not in message.flags, message.id
        assert all(form.strip() for form in forms(message)), message.id
        assert len(forms(message)) == (catalog.num_plurals if message.pluralizable else 1)


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_placeholders_and_markup(language: str, html_ids) -> None:
    """Every placeholder stays (a plural form for one or two may say the number in words:
    "مقالتان"), none is made up, and an HTML text keeps the original's tags and entities."""
    catalog = read_catalogue(catalogue_path(language), language)
    for message in catalog:
        if not message.id:
            continue
        wanted = set().union(*(placeholders(s) for s in sources(message)))
        is_html = sources(message)[0] in html_ids
        wanted_markup = sorted(_TAG.findall(sources(message)[0])) if is_html else []
        for form in forms(message):
            got = placeholders(form)
            assert got <= wanted, (message.id, form)
            allowed_missing = {"n"} if message.pluralizable else set()
            assert wanted - got <= allowed_missing, (message.id, form)
            if is_html:
                assert sorted(_TAG.findall(form)) == wanted_markup, (message.id, form)


def test_catalogues_compile_quickly_once(capsys) -> None:
    for language in TRANSLATED:
        start = time.perf_counter()
        compile_catalogue(language)
        elapsed = time.perf_counter() - start
        with capsys.disabled():
            print(f"\ncatalogue {language}: compiled in {elapsed * 1000:.1f} ms", end="")
        assert elapsed < 1.0
    assert texts_for("ru") is texts_for("ru")  # compiled once per process


# -- every text, formatted, is valid Telegram HTML within limits ---------------------------


def formatted(texts, message, n: int, html: bool) -> list[str]:
    """The message in ``texts`` with hostile values (for plurals, for count ``n``)."""
    values = dict.fromkeys(set().union(*(placeholders(s) for s in sources(message))), HOSTILE)
    if message.pluralizable:
        values.pop("n")
        return [texts.ngettext(message.id[0], message.id[1], n, **values)]
    if html:
        return [texts.html(message.id, **values)]
    return [texts.gettext(message.id, **values)]


@pytest.mark.parametrize("language", available_languages())
def test_every_text_is_valid_telegram_html_once_formatted(
    language: str, extracted, html_ids
) -> None:
    texts = texts_for(language)
    for message in extracted:
        if not message.id:
            continue
        as_html = isinstance(message.id, str) and message.id in html_ids
        for n in COUNTS if message.pluralizable else (1,):
            for text in formatted(texts, message, n, as_html):
                markup = text if as_html else escape(text)
                parsed = parse_html(markup)  # raises on a broken tag or a bare "&"
                assert utf16_len(parsed.text) <= 4096
                # The value holds Persian: in every language it is isolated.
                assert parsed.text.count(HOSTILE) == parsed.text.count(FSI + HOSTILE + PDI)
                assert text.count(PDI) == text.count(FSI) + text.count(LRI), text
                assert "{" not in parsed.text.replace(HOSTILE, ""), text  # all filled in
                if not as_html:
                    assert parse_html(escape(text)).text == text


@pytest.mark.parametrize("language", available_languages())
def test_fixed_texts_fit_their_telegram_fields(language: str) -> None:
    texts = texts_for(language)
    for notice in CALLBACK_NOTICES:
        assert 1 <= len(texts.gettext(notice)) <= 200
    for command in COMMANDS:  # setMyCommands: descriptions of 1-256 characters
        assert 1 <= len(texts.gettext(command.description)) <= 256
    assert len(help_text(True, texts)) <= 4096
    assert texts.gettext("More ▸") and texts.gettext("Ask about this article")


# -- choosing the language ---------------------------------------------------------------


def test_the_chats_choice_then_the_readers_language_then_bot_language_then_english() -> None:
    assert choose_texts("es", "ru", "fa").language == "es"
    assert choose_texts(None, "ru", "fa").language == "ru"
    assert choose_texts(None, "pt-br", "fa").language == "fa"  # no Portuguese: the default
    assert choose_texts(None, "RU", "en").language == "ru"
    assert choose_texts(None, "ru-RU", "en").language == "ru"  # Telegram sends IETF tags
    assert choose_texts(None, None, "de").language == "en"  # no German: English
    assert choose_texts("xx", "", "es").language == "es"  # a choice the bot lost
    with pytest.raises(ValueError, match="no catalogue"):
        texts_for("de")


# -- plurals, dates, numbers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "n", "expected"),
    [
        ("en", 1, "1 article"),
        ("en", 2, "2 articles"),
        ("ru", 1, "1 статья"),
        ("ru", 3, "3 статьи"),
        ("ru", 5, "5 статей"),
        ("ru", 11, "11 статей"),
        ("ru", 21, "21 статья"),
        ("ru", 22, "22 статьи"),
        ("es", 1, "1 artículo"),
        ("es", 2, "2 artículos"),
        ("es", 1_000_000, "1.000.000 de artículos"),
        ("fa", 3, "۳ مقاله"),
        ("ar", 0, "لا مقالات"),
        ("ar", 1, "مقالة واحدة"),
        ("ar", 2, "مقالتان"),
        ("ar", 3, "3 مقالات"),
        ("ar", 11, "11 مقالة"),
        ("ar", 100, "100 مقالة"),
    ],
)
def test_plurals_follow_the_language(language: str, n: int, expected: str) -> None:
    texts = texts_for(language)
    # A right-to-left line that starts with a value (the count) is marked right to left.
    mark = RLM if texts.rtl and expected[:1].isdigit() else ""
    assert texts.ngettext("{n} article", "{n} articles", n) == mark + expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "16 Aug 2020"),
        ("ru", "16 авг. 2020\u202fг."),  # CLDR: a narrow no-break space before "г."
        ("es", "16 ago 2020"),
        ("fa", "۱۶ اوت ۲۰۲۰"),
        ("ar", "16 أغسطس 2020"),
    ],
)
def test_dates_are_written_as_the_language_writes_them(language: str, expected: str) -> None:
    texts = texts_for(language)
    assert texts.date(dt.date(2020, 8, 16)) == expected
    assert texts.date(None) == ""


def test_numbers_durations_and_ages_are_localised() -> None:
    en, ru, fa = texts_for("en"), texts_for("ru"), texts_for("fa")
    assert [t.number(12345) for t in (en, ru, fa)] == ["12,345", "12\xa0345", "۱۲٬۳۴۵"]
    assert (en.number(2.5, decimals=1), ru.number(0.5, decimals=1)) == ("2.5", "0,5")
    assert fa.number(1.5, decimals=1) == "۱٫۵"
    assert [en.duration(s) for s in (7, 65, 3725, 90000)] == ["7s", "1m 5s", "1h 2m", "1d 1h"]
    assert (ru.duration(90000), fa.duration(3725)) == (
        "1 д. 1 ч",
        f"{RLM}{FSI}۱ ساعت{PDI} {FSI}۲ دقیقه{PDI}",
    )
    assert texts_for("ar").duration(7500) == f"{RLM}{FSI}ساعتان{PDI} و{FSI}5 دقائق{PDI}"
    assert en.ago(300) == "5 min. ago" and texts_for("es").ago(300) == "hace 5 min"
    assert fa.ago(7200) == "۲ ساعت پیش"


# -- right-to-left texts -----------------------------------------------------------------


def test_latin_values_and_commands_stay_in_place_in_right_to_left_texts() -> None:
    fa = texts_for("fa")
    assert fa.rtl and not texts_for("ru").rtl
    text = fa.gettext("Subscribed to {topic}.", topic=fa.gettext("“{topic}”", topic="TikTok"))
    assert f"{FSI}TikTok{PDI}" in text and text.index("«") < text.index("TikTok")
    usage = fa.gettext("Subscribe first with /subscribe.")
    assert f"{LRI}/subscribe{PDI}" in usage
    silent = fa.gettext("Silent alerts are on. Use /silent on or /silent off.")
    assert f"{LRI}/silent on{PDI}" in silent and f"{LRI}/silent off{PDI}" in silent
    italic = fa.html(
        "Hello! I answer questions about our newsroom's articles with quotes from them, each "
        "with its source.\n\nTry: <i>{question}</i>\n\n/subscribe to get new articles, "
        "/language to choose my language, /help for everything else.",
        question="What?",
    )
    assert "</i>" in italic and parse_html(italic).text.count(LRI) == 3  # the tag untouched


def test_each_line_reads_in_the_languages_direction_whatever_starts_it() -> None:
    """Clients take a line's direction from its first letter, not all skip isolates: a
    right-to-left line led by a value gets RLM, a left-to-right one led by Persian gets LRM;
    a Latin fragment ("add|remove <…>", used inside a usage) is left as written."""
    fa, en = texts_for("fa"), texts_for("en")
    assert fa.gettext("• {topic}", topic="TikTok") == f"{RLM}• {FSI}TikTok{PDI}"
    assert fa.gettext("Your alerts:") == "هشدارهای شما:"  # led by a Persian letter
    assert fa.gettext("add|remove <url or number>") == "add|remove <نشانی یا شماره>"
    failing = fa.ngettext("{n} failure in a row, last: {error}", "", 2, error="x").split("\n")
    assert failing[0].startswith(RLM)
    assert en.gettext("• {topic}", topic="انتخابات") == f"{LRM}• {FSI}انتخابات{PDI}"
    assert en.gettext("• {topic}", topic="TikTok") == "• TikTok"  # English as it was
    usage = next(line for line in help_text(False, fa).split("\n") if "/ask" in line)
    assert usage.startswith(f"{RLM}{FSI}/ask {FSI}<پرسش>{PDI}{PDI}")


def test_a_right_to_left_value_is_isolated_in_left_to_right_texts_and_only_then() -> None:
    en = texts_for("en")
    assert en.gettext("Subscribed to {topic}.", topic="«x»") == "Subscribed to «x»."
    assert en.gettext("New: {title}", title="انتخابات ۱۴۰۳") == f"New: {FSI}انتخابات ۱۴۰۳{PDI}"


def test_citation_lines_read_in_the_languages_order() -> None:
    parts = ["<b>Title</b>", "Wire", "16 Aug 2020"]
    assert texts_for("en").line(parts) == "<b>Title</b> · Wire · 16 Aug 2020"
    persian = texts_for("fa").line([*parts, ""])
    assert persian == RLM + " · ".join(f"{FSI}{p}{PDI}" for p in parts)
    mixed = texts_for("en").line(["<b>عنوان</b>", "Wire"])
    assert mixed.startswith("\u200e") and mixed.count(FSI) == 2


def test_a_broken_translation_falls_back_to_english(caplog) -> None:
    texts = texts_for("ru")
    assert texts._format("{missing}", "New: {title}", {"title": "T"}, str) == "New: T"
    assert "bad translation" in caplog.text
