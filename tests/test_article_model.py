"""The rules every Article obeys whatever its origin: capped fields, web-only links."""

from __future__ import annotations

import pytest

from bot.articles import Article
from bot.articles.model import (
    MAX_AUTHOR_CHARS,
    MAX_SOURCE_CHARS,
    MAX_TITLE_CHARS,
    MAX_TOPIC_CHARS,
    MAX_TOPICS,
    MAX_URL_CHARS,
    shorten,
)


def test_huge_fields_are_capped_on_creation() -> None:
    title = " ".join(f"word{i}" for i in range(300_000))
    article = Article(
        "a",
        title,
        "Body.",
        source="Daily " * 1000,
        author="Ann Lee, " * 1000,
        topics=(*(f"topic {i}" for i in range(100)), "x" * (MAX_TOPIC_CHARS + 1)),
        url="https://e.x/" + "a" * MAX_URL_CHARS,
    )
    assert len(article.title) <= MAX_TITLE_CHARS
    assert article.title.endswith("…") and title.startswith(article.title[:-1] + " ")
    assert len(article.source) <= MAX_SOURCE_CHARS and article.source.endswith("Daily…")
    assert len(article.author) <= MAX_AUTHOR_CHARS and article.author.endswith("Lee…")
    assert article.topics == tuple(f"topic {i}" for i in range(MAX_TOPICS))
    assert article.url == ""


def test_fields_within_the_caps_are_kept_as_they_are() -> None:
    topics = (*(f"t{i}" for i in range(MAX_TOPICS - 1)), "x" * MAX_TOPIC_CHARS)
    url = "https://e.x/" + "a" * (MAX_URL_CHARS - len("https://e.x/"))
    title = "t" * MAX_TITLE_CHARS
    article = Article("a", title, "Body.", topics=topics, url=url)
    assert (article.title, article.topics, article.url) == (title, topics, url)


def test_shorten_cuts_at_a_word_boundary() -> None:
    assert shorten("short", 10) == "short"
    assert shorten("alpha beta gamma", 12) == "alpha beta…"
    assert shorten("alpha beta, gamma", 12) == "alpha beta…"
    assert shorten("alphas betagamma", 12) == "alphas…"  # "alphas" fills half the limit
    assert shorten("ab cdefghijklmnop", 12) == "ab cdefghij…"  # a cut word beats a stub
    assert shorten("抖音是什么抖音是什么抖音是什么", 6) == "抖音是什么…"


@pytest.mark.parametrize(
    ("declared", "code"),
    [
        ("en", "en"),
        ("en-US", "en"),
        ("pt_BR", "pt"),
        ("ZH-Hans-CN", "zh"),
        (" fa ", "fa"),
        ("iw", "he"),  # retired code old pages still send
        ("xx", ""),
        ("english", ""),
        ("en, fr", ""),
        ("eng", ""),  # ISO 639-2 is not 639-1
        ("", ""),
    ],
)
def test_language_is_an_iso_639_1_code_or_empty(declared: str, code: str) -> None:
    assert Article("a", "T", "Body.", language=declared).language == code
