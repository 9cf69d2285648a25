"""Raw scraped text (``.txt``): the article separated from the site's chrome.

A scraped page is the article plus the site's chrome: promo lines, photo captions, a date
line, a syndication note. Nothing marks which is which, so lines are classified with
general rules (never site-specific strings), in two passes:

1. Anywhere in the text, drop lines that are boilerplate whatever their position: promos
   ("Join our … Telegram channel", "Follow X on Facebook"; the capitalised name before the
   platform word is taken as the site name), reprint notes ("This article was originally
   published by X …"; X is the original source), copyright and cookie notices,
   "Advertisement"/"Related:"/"Read more" lines, and lines that are only a photo credit.
2. In the header region (before the first prose paragraph), take the first date-only line
   as the date, a "By …" line as the author, drop captions ending with a parenthesised
   credit such as "(Pexels/Released)", and take the first headline-like line as the title;
   unclassified lines before the title are site chrome and dropped, those after it
   (a standfirst, say) are kept.

A "KEY: value" block at the very top (Title/Date/Source/URL/Author/Tags/Language) wins over
guesses.
An agency dateline opening the body ("WASHINGTON (Reuters) - ") is cut and names the
original source. Short subheadings inside the body (e.g. "‘Diplomatic warfare’") are
content and stay, each as its own paragraph.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from bot.errors import ArticleError

from .dates import parse_date
from .model import Article, article_id, fallback_title
from .normalise import clean_inline, split_paragraphs


def _words(line: str) -> int:
    return len(line.split())


# --- pass 1: boilerplate anywhere -------------------------------------------------------

_PLATFORMS = {
    "telegram", "facebook", "twitter", "whatsapp", "instagram", "youtube", "tiktok",
    "linkedin", "threads", "mastodon", "bluesky", "signal", "x", "channel", "newsletter",
    "newsletters", "app", "podcast", "podcasts", "feed", "rss", "updates", "alerts",
}  # fmt: skip
_PROMO = re.compile(
    r"^(?:please\s+|and\s+)?(?:join|follow|subscribe|sign[\s-]?up|download|like\s+us|click"
    r"|tap|share\s+this|get\s+(?:our|the\s+latest)|don['’]?t\s+miss|never\s+miss|listen\s+to"
    r"|stay\s+(?:updated|informed|connected)|support\s+(?:us|our))(?![-\w])",
    re.IGNORECASE,
)
# Capitalised words that belong to the promo, not to a site name ("Join Our Channel").
_NOT_A_NAME = {"our", "us", "your", "my", "this", "free", "new", "official", "the"}
_REPRINT = [
    re.compile(
        r"^(?:this\s+(?:article|story|piece|report|post|column|op-ed)\s+)?(?:was\s+|is\s+)?"
        r"(?:originally|first)\s+(?:published|appeared|posted|ran)\s+(?:by|in|on|at)\s+"
        r"(?P<source>.+?)(?:(?:\s+and|,)\s+(?:is|was|has\s+been|re\w+)\b.*"
        r"|\s+on\s+(?:\w+\s+)?\d.*)?$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^(?:this\s+(?:article|story|piece|report|post)\s+(?:is|was|has\s+been)\s+)?"
        r"re(?:printed|published|posted)\s+(?:here\s+)?(?:with\s+(?:kind\s+)?permission\s+)?"
        r"(?:from|by|of|courtesy\s+of)\s+(?P<source>.+?)"
        r"(?:\s+under\s+.*|,?\s+with\s+(?:kind\s+)?permission.*)?$",
        re.IGNORECASE,
    ),
]
_SOURCE_NAME = re.compile(r"(?:[Tt]he\s+)?[A-Z\d][^,;]*")  # "Radio Free Asia", "The Conversation"
_BOILERPLATE = re.compile(
    r"^(?:advertisement|advertising|sponsored(?:\s+content)?|skip\s+to\s+(?:main\s+)?content"
    r"|related(?:\s+(?:articles?|stories|news|content|reading|coverage))?(?:\s*:.*)?"
    r"|(?:read|see)\s+(?:more|also|next)\b.*|more\s+on\s+this\s+story.*"
    r"|share(?:\s+(?:this|on)\b.*)?|print|email|comments?"
    r"|(?:previous|next)\s+(?:article|story|post)\b.*)$",
    re.IGNORECASE,
)
_LEGAL = re.compile(
    r"©|\(c\)\s*\d{4}|\bcopyright\s+(?:©\s*)?\d{4}|all\s+rights\s+reserved"
    r"|\b(?:we|this\s+(?:web)?site)\s+uses?\s+cookies|\baccept\s+(?:all\s+)?cookies",
    re.IGNORECASE,
)
_CREDIT_WORDS = (
    r"reuters|ap|afp|getty|photo|photos|image|images|credit|pexels|unsplash|shutterstock|"
    r"released|handout|file|courtesy|epa|xinhua|anadolu|wikimedia|creative\s+commons|pool"
)
_CREDIT_ONLY = re.compile(
    r"^(?:\([^()]{1,80}\)|(?:photo|image|picture|photograph|credit|illustration)s?"
    r"(?:\s+credit)?\s*:.*)$",
    re.IGNORECASE,
)


@dataclass
class _Page:
    """What the line rules have learned about the page so far."""

    title: str = ""
    date: dt.date | None = None
    author: str = ""
    url: str = ""
    site: str = ""
    original: str = ""
    source: str = ""  # an explicit "Source:" header, used as is
    topics: tuple[str, ...] = ()
    language: str = ""
    lines: list[str] = field(default_factory=list)


def _boilerplate(line: str, page: _Page) -> bool:
    """Whether ``line`` is boilerplate wherever it sits; records what it reveals."""
    if _words(line) > 40:
        return False
    if _PROMO.match(line) and (_promo_platform(line) is not None or _words(line) <= 4):
        page.site = page.site or _site_from_promo(line)
        return True
    for pattern in _REPRINT:
        # A source that is no short name means a sentence ("First published in 1990, the …").
        match = pattern.match(line)
        if match and _SOURCE_NAME.fullmatch(match["source"]) and _words(match["source"]) <= 8:
            page.original = page.original or match["source"].strip(" .!\"'“”‘’*_")
            return True
    return bool(_BOILERPLATE.match(line) or _LEGAL.search(line) or _CREDIT_ONLY.match(line))


def _tokens(line: str) -> list[str]:
    return [word.strip(".,:;!?()\"'“”‘’") for word in line.split()]


def _promo_platform(line: str) -> int | None:
    tokens = _tokens(line)
    return next((i for i, w in enumerate(tokens) if w.lower() in _PLATFORMS and i), None)


def _site_from_promo(line: str) -> str:
    """The capitalised name just before the platform word: "Join our AMN Telegram channel"
    → "AMN", "Follow The Daily Planet on Facebook" → "The Daily Planet"."""
    tokens = _tokens(line)
    end = _promo_platform(line)
    if end is None:
        return ""
    if tokens[end - 1].lower() == "on":
        end -= 1
    start = end
    # Index 0 is the (capitalised) verb itself, so the name cannot start there.
    while start > 1 and _name_word(tokens[start - 1]):
        start -= 1
    if start > 1 and tokens[start - 1] == "The" and start < end:
        start -= 1
    return " ".join(tokens[start:end])


def _name_word(token: str) -> bool:
    return token[:1].isupper() and token.lower() not in _NOT_A_NAME


# --- pass 2: the header region ------------------------------------------------------------

_NAME = r"[A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|de|van|von|der|da|di|del|la|le|bin|al))*"
_BYLINE = re.compile(
    rf"^(?:By|BY)\s+(?P<author>{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*)"
    r"\s*(?:[,|–—-]\s*.{0,60})?$"  # an affiliation after the names: ", Reuters"
)
_CAPTION_CREDIT = re.compile(r"\((?P<credit>[^()]{1,60})\)$")
_CREDIT_WORD = re.compile(rf"\b(?:{_CREDIT_WORDS})\b", re.IGNORECASE)
_HEADER_LINES = 12
# With no headline-like line, a first line this short is still taken as the title.
_SHORT_FIRST_LINE = 10


def _caption(line: str) -> bool:
    """A photo caption: a short line ending with a parenthesised credit ("(AP Photo/X)")."""
    match = _CAPTION_CREDIT.search(line)
    return bool(
        match
        and _words(line) <= 40
        and ("/" in match["credit"] or _CREDIT_WORD.search(match["credit"]))
    )


_MENU_SEPARATOR = re.compile(r"\s[|›»>•·/]\s")


def _headline(line: str) -> bool:
    """Headline-like: 3–25 words, no closing punctuation, not a "Home | News" menu."""
    words = sum(any(char.isalpha() for char in word) for word in line.split())
    return (
        3 <= words <= 25
        and not line.endswith((".", ":", ";", ","))
        and len(_MENU_SEPARATOR.findall(line)) < 2
    )


def _starts_body(lines: list[str], index: int) -> bool:
    """Prose begins: a long line, or the first of three long lines in a row (wrapped text)."""
    if _words(lines[index]) >= 20:
        return True
    run = lines[index : index + 3]
    return len(run) == 3 and all(len(line.strip()) >= 30 for line in run)


def _read_header(page: _Page) -> None:
    """Classify the header region of ``page.lines`` in place (consumed lines become "")."""
    lines = page.lines
    before_title: list[int] = []
    seen = 0
    for index, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        seen += 1
        if seen > _HEADER_LINES:
            break
        if date := parse_date(line):
            page.date = page.date or date
        elif match := _BYLINE.match(line):
            page.author = page.author or match["author"]
        elif _caption(line):
            pass
        elif _starts_body(lines, index):
            break
        elif not page.title and _headline(line):
            page.title = line
            for earlier in before_title:
                lines[earlier] = ""
        else:
            if not page.title:
                before_title.append(index)
            continue
        lines[index] = ""


_KEY_VALUE = re.compile(
    r"^(?P<key>title|headline|date|published|source|site|publisher|url|link|author|byline"
    r"|tags|topics|category|language|lang)\s*:\s*(?P<value>.*)$",
    re.IGNORECASE,
)


def _read_key_values(page: _Page) -> None:
    """Honour a ``Key: value`` block at the very top (it ends at the first other line)."""
    lines = page.lines
    index = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    while index < len(lines) and (match := _KEY_VALUE.match(lines[index].strip())):
        key, value = match["key"].lower(), clean_inline(match["value"])
        if key in {"title", "headline"}:
            page.title = value
        elif key in {"date", "published"}:
            page.date = parse_date(value)
        elif key in {"source", "site", "publisher"}:
            page.source = value
        elif key in {"url", "link"}:
            page.url = value
        elif key in {"author", "byline"}:
            page.author = re.sub(r"^by\s+", "", value, flags=re.IGNORECASE)
        elif key in {"language", "lang"}:
            page.language = value
        else:
            page.topics = tuple(t for t in map(clean_inline, value.split(",")) if t)
        lines[index] = ""
        index += 1


_DATELINE = re.compile(
    r"^(?:[A-Z][A-Z .'’/-]+(?:,\s*[A-Z][a-z]+\.?\s+\d{1,2})?\s)?"  # "LONDON, March 3 "
    r"\((?P<agency>[A-Z][\w&.'’]*(?:\s+[\w&.'’]+){0,3})\)\s*[-–—]+\s+"  # "(Reuters) - "
)


def _source(page: _Page) -> str:
    if page.source:
        return page.source
    if page.site and page.original and page.site != page.original:
        return f"{page.site} (originally {page.original})"
    return page.site or page.original


def read_plain_text(text: str, relpath: str) -> Article:
    """The article in a scraped ``.txt`` page (rules in the module docstring)."""
    page = _Page(lines=text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    _read_key_values(page)
    page.lines = ["" if _boilerplate(clean_inline(line), page) else line for line in page.lines]
    _read_header(page)
    paragraphs = split_paragraphs("\n".join(page.lines))
    if paragraphs and (match := _DATELINE.match(paragraphs[0])):
        page.original = page.original or match["agency"]
        paragraphs[0] = paragraphs[0][match.end() :]
    title = clean_inline(page.title)
    if not title and len(paragraphs) > 1 and _words(paragraphs[0]) <= _SHORT_FIRST_LINE:
        title = paragraphs.pop(0)
    if not paragraphs:
        raise ArticleError("no body text after removing boilerplate")
    return Article(
        id=article_id(relpath),
        title=title or fallback_title(relpath),
        text="\n\n".join(paragraphs),
        source=_source(page),
        date=page.date,
        url=page.url,
        author=page.author,
        topics=page.topics,
        path=relpath,
        language=page.language,
    )
