"""The bot's own texts in the reader's language: gettext catalogues, with Babel for plural
rules, dates, numbers and durations. Core code: nothing here knows Telegram.

Message ids are the English texts, marked where they are used: calls of
:meth:`Texts.gettext`, :meth:`Texts.ngettext` and :meth:`Texts.html`, and :func:`N_` for
texts defined before a reader is known (command descriptions). ``pybabel extract`` collects
them into ``bot/locale/bot.pot`` (its options are in ``pyproject.toml``) and
``bot/locale/<code>/LC_MESSAGES/bot.po`` translates them; the README's "Languages" section
says how to add a language.

The ``.po`` files are compiled when a language is first used, in memory (Babel's ``read_po``
and ``write_mo``, then ``gettext.GNUTranslations``), once per process: they are the only
source, nobody has a compile step to forget, and no compiled ``.mo`` can go stale beside
them. It costs a few milliseconds per language (``tests/test_i18n.py`` prints it).

Placeholders are ``str.format`` names (``{topic}``). Values are formatted for the language:
integers with its digits and grouping, and strings wrapped in Unicode isolates (U+2068 …
U+2069) where their direction could disturb the sentence: always in a right-to-left
language, and in a left-to-right one when the value holds right-to-left letters. So a Latin
title or a URL inside Persian text, or a Persian topic inside English text, stays in place.
In a right-to-left translation the commands it names ("/feed add", "--purge") are isolated
left-to-right the same way, so that their slash or dashes stay in front: translators write
them plainly.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import html
import io
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_skeleton, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.units import format_unit

from bot.articles.languages import language_code

log = logging.getLogger(__name__)

DOMAIN = "bot"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
SOURCE_LANGUAGE = "en"  # the message ids: English needs no catalogue

FSI, LRI, PDI = "\u2068", "\u2066", "\u2069"  # first-strong and left-to-right isolates, end
LRM, RLM = "\u200e", "\u200f"  # marks that set a line's direction
SEPARATOR = " · "  # between the parts of a citation line
# Babel formats with Latin digits everywhere. Persian readers expect Persian digits (the
# Iranian and Afghan press uses them throughout); Arabic news sites mostly print Latin
# digits, so Arabic keeps them.
_DIGITS = {"fa": str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")}
# English dates keep the bot's style ("16 Aug 2020"); other languages use their CLDR order.
_DATE_PATTERNS = {"en": "d MMM y"}
_DATE_SKELETON = "yMMMd"
# Durations (/stats) in CLDR's narrow units ("3d 4h"), except where those are Latin letters
# (Persian) or single letters a reader cannot guess (Arabic).
_DURATION_LENGTHS = {"fa": "short", "ar": "long"}
# A command with its literal words ("/feed add", "/silent on", "--purge"); not "</i>".
_COMMAND = re.compile(r"(?<![<\w])(?:/[a-z_]+|--[a-z]+)(?:[ |](?:[a-z_]+|--[a-z]+))*")


def N_(message: str) -> str:
    """Marks ``message`` for extraction; translated later, with a :class:`Texts`."""
    return message


@functools.cache
def available_languages() -> tuple[str, ...]:
    """English, then every language with a catalogue in ``bot/locale``, by code."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE_LANGUAGE, *found)


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_catalogue(language: str) -> gettext.NullTranslations:
    """``language``'s catalogue read and compiled in memory (English: the message ids)."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    with catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # a fuzzy entry is not a translation yet
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@functools.cache
def texts_for(language: str) -> Texts:
    """The texts of ``language`` (an available one), compiled on first use and kept."""
    if language not in available_languages():
        raise ValueError(f"no catalogue for language {language!r}")
    return Texts(language, compile_catalogue(language))


def choose_texts(chosen: str | None, reader: str | None, default: str) -> Texts:
    """The chat's choice (``/language``), else the reader's Telegram language when the bot
    has it, else the newsroom's default (``BOT_LANGUAGE``) when it has that, else English.

    Telegram sends IETF tags ("pt-br", "zh-hans"); only the language counts.
    """
    available = available_languages()
    for candidate in (chosen, reader, default):
        code = language_code(candidate or "")
        if code in available:
            return texts_for(code)
    return texts_for(SOURCE_LANGUAGE)


def has_rtl(text: str) -> bool:
    """Whether ``text`` holds right-to-left letters (Hebrew, Arabic, Persian, …)."""
    return any(unicodedata.bidirectional(char) in ("R", "AL") for char in text)


class Texts:
    """One language's texts, handed to whatever renders a reply (never a global): the chat's
    or reader's language is chosen once per update with :func:`choose_texts`."""

    def __init__(self, language: str, translations: gettext.NullTranslations) -> None:
        self.language = language
        self.locale = Locale.parse(language)
        self.rtl = self.locale.character_order == "right-to-left"
        self._translations = translations
        self._digits = _DIGITS.get(language)

    def __repr__(self) -> str:
        return f"Texts({self.language!r})"

    @property
    def name(self) -> str:
        """The language's own name for itself ("Русский", "فارسی")."""
        name = self.locale.get_display_name(self.language) or self.language
        return name[:1].upper() + name[1:]

    # -- messages ---------------------------------------------------------------------

    def gettext(self, message: str, /, **values: object) -> str:
        """``message`` translated (plain text), with ``values`` put in."""
        if not message:  # gettext("") is the catalogue's header
            return ""
        return self._format(self._translations.gettext(message), message, values, _as_is)

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        """The form of ``singular``/``plural`` that the language uses for ``n`` (``{n}``)."""
        source = singular if n == 1 else plural
        translated = self._translations.ngettext(singular, plural, n)
        return self._format(translated, source, {"n": n, **values}, _as_is)

    def html(self, message: str, /, **values: object) -> str:
        """``message`` translated, as Telegram HTML: the message may hold tags (translations
        keep them), every value is escaped."""
        return self._format(self._translations.gettext(message), message, values, _escape)

    def _format(
        self, template: str, source: str, values: dict[str, object], escape: Callable[[str], str]
    ) -> str:
        if self.rtl:  # commands keep their slash and dashes in front
            template = _mark_lines(_COMMAND.sub(lambda m: f"{LRI}{m[0]}{PDI}", template))
        shown = {name: self._value(value, escape) for name, value in values.items()}
        try:
            text = template.format_map(shown)
        except (KeyError, IndexError, ValueError):  # a broken translation: say it in English
            log.error("bad translation of %r in %s", source, self.language)
            text = source.format_map(shown)
        return text if self.rtl else _mark_rtl_lines(text)

    def isolate(self, text: str) -> str:
        """``text`` in Unicode isolates when its direction could upset the line around it."""
        if text and (self.rtl or has_rtl(text)):
            return f"{FSI}{text}{PDI}"
        return text

    def _value(self, value: object, escape: Callable[[str], str]) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            return self.number(value)
        return self.isolate(escape(str(value)))

    def line(self, parts: Iterable[str], prefix: str = "") -> str:
        """Parts of a citation ("Title · Source · date"), the empty ones left out, after
        ``prefix`` (an emoji, a bullet), in the reading order of the language: each part
        isolated and the line's direction marked when some part or the language is
        right-to-left (``parts`` may be HTML)."""
        parts = [p for p in parts if p]
        if not (self.rtl or any(has_rtl(p) for p in parts)):
            return prefix + SEPARATOR.join(parts)
        mark = RLM if self.rtl else LRM
        return mark + prefix + SEPARATOR.join(f"{FSI}{p}{PDI}" for p in parts)

    # -- numbers, dates, durations ----------------------------------------------------

    def _localise_digits(self, text: str) -> str:
        return text.translate(self._digits) if self._digits else text

    def number(self, value: float, decimals: int = 0) -> str:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        # The language's own separators ("12٬345" in Persian); Babel keeps Latin digits.
        text = format_decimal(value, pattern, locale=self.locale, numbering_system="default")
        return self._localise_digits(text)

    def date(self, date: dt.date | None) -> str:
        """An article's date as the language writes it ("16 Aug 2020", "16 авг. 2020 г."),
        or "" for an undated article."""
        if date is None:
            return ""
        pattern = _DATE_PATTERNS.get(self.language)
        if pattern is not None:
            text = format_date(date, pattern, locale=self.locale)
        else:
            text = format_skeleton(_DATE_SKELETON, date, locale=self.locale)
        return self._localise_digits(text)

    def ago(self, seconds: float) -> str:
        """How long ago, in words ("5 min. ago", "hace 5 min")."""
        text = format_timedelta(
            dt.timedelta(seconds=-max(0.0, seconds)),
            threshold=2.0,  # the larger unit from two of it on: "90 min. ago", "2 hr. ago"
            add_direction=True,
            format="short",
            locale=self.locale,
        )
        return self._localise_digits(text)

    def duration(self, seconds: float) -> str:
        """A duration in its two largest units ("3d 4h", "3 д. 4 ч")."""
        seconds = int(seconds)
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        if days:
            units = [(days, "day"), (hours, "hour")]
        elif hours:
            units = [(hours, "hour"), (minutes, "minute")]
        elif minutes:
            units = [(minutes, "minute"), (secs, "second")]
        else:
            units = [(secs, "second")]
        length = _DURATION_LENGTHS.get(self.language, "narrow")
        parts = [
            self._localise_digits(
                format_unit(value, f"duration-{unit}", length=length, locale=self.locale)
            )
            for value, unit in units
        ]
        if len(parts) == 1:
            return parts[0]
        # TRANSLATORS: a duration in two units, e.g. "3d 4h" (days and hours).
        return self.gettext("{larger} {smaller}", larger=parts[0], smaller=parts[1])


# Clients take a line's direction from its first letter, and not all of them skip isolates
# to find it: a line must not leave that to a value.


def _mark_lines(template: str) -> str:
    """A right-to-left template with RLM before each line that starts with a value or a
    command (or has no letter of its own); a line starting with Latin words is a fragment
    meant to run left to right ("add|remove <نشانی>") and stays as it is."""

    def marked(line: str) -> str:
        for char in line:
            if char in ("{", LRI):
                return RLM + line
            if unicodedata.bidirectional(char) in ("L", "R", "AL"):
                return line
        return RLM + line

    return "\n".join(marked(line) for line in template.split("\n"))


def _mark_rtl_lines(text: str) -> str:
    """A left-to-right text with LRM before each line whose first letter is right to left
    (a Persian title at the start of an English line)."""
    if not has_rtl(text):
        return text

    def marked(line: str) -> str:
        for char in line:
            direction = unicodedata.bidirectional(char)
            if direction in ("R", "AL"):
                return LRM + line
            if direction == "L":
                return line
        return line

    return "\n".join(marked(line) for line in text.split("\n"))


def _as_is(text: str) -> str:
    return text


def _escape(text: str) -> str:
    return html.escape(text, quote=True)
