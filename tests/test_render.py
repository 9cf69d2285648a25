"""Telegram HTML rendering (``bot.telegram_app.render``) as pure functions: escaping, limits
counted in UTF-16 code units as Telegram counts them, and paging of answers."""

from __future__ import annotations

import pytest
from fake_bot_api import parse_html, utf16_len
from helpers import DATE, answered, citation, quote

from bot.answers.model import Answer, AnswerStatus
from bot.articles.model import Article
from bot.i18n import texts_for
from bot.telegram_app.render import (
    MAX_MESSAGE,
    MAX_TITLE,
    answer_page,
    article_list,
    citation_html,
    clip,
    escape,
    link,
    quote_html,
    shorten,
    unanswered_html,
    visible_len,
)
from bot.telegram_app.render import utf16_len as render_utf16_len

EN = texts_for("en")


def telegram_length(html: str) -> int:
    """What Telegram counts: the UTF-16 length of the text once the HTML is parsed."""
    return utf16_len(parse_html(html).text)


def test_lengths_are_utf16_code_units() -> None:
    assert render_utf16_len("abc") == 3
    assert render_utf16_len("😀") == 2  # outside the BMP: a surrogate pair
    assert render_utf16_len("é中") == 2
    html = f"<b>{escape('a < b & 😀')}</b>"
    assert visible_len(html) == telegram_length(html) == 10


def test_clip_cuts_to_the_limit_and_never_inside_a_surrogate_pair() -> None:
    text = "a" * 4094 + "😀😀"  # 4098 code units
    clipped = clip(text)
    assert utf16_len(clipped) <= MAX_MESSAGE and clipped.endswith("…")
    clipped.encode("utf-8")  # a lone surrogate would raise here
    assert clip("short") == "short"
    assert clip("😀" * 10, limit=6) == "😀😀…"


def test_shorten_caps_characters() -> None:
    assert shorten("x" * MAX_TITLE) == "x" * MAX_TITLE
    long = shorten("word " * 100)
    assert len(long) <= MAX_TITLE and long.endswith("…")
    assert shorten("abc def", 5) == "abc…"


def test_every_user_and_article_string_is_escaped() -> None:
    assert escape("""<a href="x">&'""") == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
    assert link("Tom & Jerry <3", 'https://x.example/?a=1&b="2"') == (
        '<a href="https://x.example/?a=1&amp;b=&quot;2&quot;">Tom &amp; Jerry &lt;3</a>'
    )
    assert link("<No link>", "") == "&lt;No link&gt;"
    html = citation_html(citation(title="A <b>bold</b> title", source="R&D Weekly"), EN)
    assert "A &lt;b&gt;bold&lt;/b&gt; title" in html and "R&amp;D Weekly" in html
    assert parse_html(html).text == "A <b>bold</b> title · R&D Weekly · 16 Aug 2020 · ¶2"


def test_a_quote_marks_its_terms_in_bold_inside_a_blockquote() -> None:
    text = "Pompeo said <TikTok> & others"
    html = quote_html(quote(text, [(0, 6), (13, 19)]), EN)
    assert html.startswith("<blockquote><b>Pompeo</b> said &lt;<b>TikTok</b>&gt; &amp; others")
    parsed = parse_html(html)
    assert parsed.text.startswith(text)
    kinds = [e["type"] for e in parsed.entities]
    assert kinds.count("bold") == 3 and "blockquote" in kinds  # two terms and the title


def test_titles_and_sources_are_capped_in_citations() -> None:
    html = citation_html(citation(title="T" * 1000, source="S" * 1000), EN)
    assert telegram_length(html) < 2 * MAX_TITLE + 40


def test_pages_hold_three_quotes_and_say_where_the_next_starts() -> None:
    answer = answered(*(quote(f"Quote number {n}.", n=n) for n in range(5)))
    first, next_quote = answer_page(answer, 0, EN)
    assert next_quote == 3 and first.count("<blockquote>") == 3
    second, next_quote = answer_page(answer, 3, EN)
    assert next_quote == 5 and "Quote number 3." in second and "Quote number 2." not in second
    assert answer_page(answer, 5, EN) == ("", 5)


def test_a_page_stops_before_telegrams_limit_in_utf16() -> None:
    # 1,100 emoji are 2,200 code units: two such quotes (4,400) are too many for one message,
    # though as characters (2,200) they would seem to fit.
    answer = answered(*(quote("😀" * 1100, n=n) for n in range(3)))
    for first, expected_next in ((0, 1), (1, 2), (2, 3)):
        html, next_quote = answer_page(answer, first, EN)
        assert next_quote == expected_next
        assert telegram_length(html) <= MAX_MESSAGE


@pytest.mark.parametrize("size", [500, 1200, 1400])
def test_pages_of_long_quotes_always_fit(size: int) -> None:
    quotes = [quote("é" * size + "&<>" + "中" * (size // 2), n=n) for n in range(7)]
    answer = answered(*quotes)
    first = 0
    while first < len(quotes):
        html, next_quote = answer_page(answer, first, EN)
        assert next_quote > first  # one quote always fits
        assert telegram_length(html) <= MAX_MESSAGE
        assert visible_len(html) == telegram_length(html)
        first = next_quote


def test_an_unanswered_question_lists_the_closest_articles_escaped() -> None:
    answer = Answer("q", AnswerStatus.NO_MATCH, related=[citation(1, title="Fish & <chips>")])
    html = unanswered_html(answer, EN)
    assert parse_html(html).text.startswith("Nothing in the articles answers this.")
    assert "Fish &amp; &lt;chips&gt;" in html
    assert unanswered_html(Answer("", AnswerStatus.EMPTY), EN).startswith("Please type a question")


def test_article_lists() -> None:
    assert article_list([], "Latest", EN) == "No articles yet."
    articles = [
        Article(id="1", title="A & B", text="x", source="<Wire>", date=DATE),
        Article(id="2", title="Undated", text="x", url="https://news.example.com/2"),
    ]
    html = article_list(articles, "Latest <articles>", EN)
    assert parse_html(html).text == ("Latest <articles>\n• A & B · <Wire> · 16 Aug 2020\n• Undated")
    assert '<a href="https://news.example.com/2">Undated</a>' in html
