"""Inline keyboards and their callback data (``bot.telegram_app.keyboards``): what each
keyboard holds, Telegram's 64-byte limit, and strict parsing of what comes back."""

from __future__ import annotations

import pytest
from helpers import answered, quote
from hypothesis import given
from hypothesis import strategies as st

from bot.answers.model import Answer, AnswerStatus
from bot.articles.model import Article
from bot.i18n import available_languages, texts_for
from bot.store import article_key, new_token
from bot.telegram_app.keyboards import (
    AUTOMATIC,
    MorePress,
    about_data,
    alert_keyboard,
    answer_reply,
    language_keyboard,
    more_data,
    parse_about,
    parse_language,
    parse_more,
    parse_unsubscribe,
    topic_key,
    topics_keyboard,
)

MAX_CALLBACK_BYTES = 64
EN = texts_for("en")


def callback_data(keyboard) -> list[str]:
    return [b.callback_data for row in keyboard.inline_keyboard for b in row if b.callback_data]


def urls(keyboard) -> list[str]:
    return [b.url for row in keyboard.inline_keyboard for b in row if b.url]


def five_quotes() -> Answer:
    # Quotes 0 and 1 are from article 1, 2 from article 2 (no link), 3 and 4 from article 3.
    return answered(
        quote("First.", n=1),
        quote("Second.", n=1),
        quote("Third.", n=2, url=""),
        quote("Fourth.", n=3),
        quote("Fifth.", n=3),
    )


def article_id(n: int) -> str:
    return f"{n:016x}"  # as helpers.citation makes them


def labels(row) -> list[str]:
    return [b.text for b in row]


def test_the_first_page_has_more_and_a_row_per_article() -> None:
    reply = answer_reply(five_quotes(), "tok12345", EN)
    assert reply.more and reply.asked_about == (article_id(1), article_id(2))
    more, first, second = reply.keyboard.inline_keyboard
    assert labels(more) == ["More ▸"] and more[0].callback_data == "more:tok12345:3"
    # Its link and its Ask button side by side; without a link, the Ask button names it.
    assert labels(first) == ["Read: Title 1", "Ask about it"]
    assert first[0].url == "https://news.example.com/1"
    assert first[1].callback_data == about_data(article_id(1))
    assert labels(second) == ["Ask about: Title 2"]
    assert second[0].callback_data == about_data(article_id(2))
    assert urls(reply.keyboard) == ["https://news.example.com/1"]


def test_the_last_page_has_no_more_button() -> None:
    reply = answer_reply(five_quotes(), "tok12345", EN, first=3)
    assert not reply.more and callback_data(reply.keyboard) == [about_data(article_id(3))]
    assert urls(reply.keyboard) == ["https://news.example.com/3"]
    assert reply.asked_about == (article_id(3),)


def test_no_token_no_more_button() -> None:
    reply = answer_reply(five_quotes(), None, EN)
    assert not reply.more
    assert callback_data(reply.keyboard) == [about_data(article_id(1)), about_data(article_id(2))]


def test_an_unanswered_question_has_no_keyboard() -> None:
    reply = answer_reply(Answer("q", AnswerStatus.NO_MATCH), "tok12345", EN)
    assert reply.keyboard is None and not reply.more


def test_read_labels_are_capped() -> None:
    reply = answer_reply(answered(quote("Text.", title="Long title " * 20)), None, EN)
    [[read, _ask]] = reply.keyboard.inline_keyboard
    assert read.text.startswith("Read: Long title") and len(read.text) <= 6 + 40
    no_link = answer_reply(answered(quote("Text.", title="Long title " * 20, url="")), None, EN)
    [[ask]] = no_link.keyboard.inline_keyboard
    assert ask.text.startswith("Ask about: Long title") and len(ask.text) <= 11 + 40


def test_more_data_round_trips_and_fits() -> None:
    token = new_token()
    data = more_data(token, 9999)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert parse_more(data) == MorePress(token, 9999)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "more:",
        "more:zz",
        "more:tok12345:",
        "more:tok12345:abc",
        "more:tok12345:-5",
        "more:tok12345:0",
        "more:tok12345:+3",
        "more:tok12345:03",
        "more:tok12345:10000",
        "more:tok12345:3:4",
        "more:tok 2345:3",
        "more:" + "t" * 17 + ":3",
        " more:tok12345:3",
        "more:tok12345:3\n",
        "stats:",
        "reload:",
        "unsub:tok12345",
    ],
)
def test_forged_more_data_is_refused(data) -> None:
    assert parse_more(data) is None


def test_topic_buttons_fit_and_parse_back() -> None:
    topics = ["", "elections -trump", "é" * 100, "中国 " * 25]
    keyboard = topics_keyboard(topics, EN)
    data = callback_data(keyboard)
    assert len(data) == len(topics)
    assert all(len(d.encode()) <= MAX_CALLBACK_BYTES for d in data)
    assert [parse_unsubscribe(d) for d in data] == [topic_key(t) for t in topics]
    labels = [b.text for row in keyboard.inline_keyboard for b in row]
    assert labels[0] == "Remove every new article" and all(len(t) <= 60 for t in labels)
    assert topics_keyboard([], EN) is None


@pytest.mark.parametrize("data", ["unsub:", "unsub:zz", "unsub:" + "a" * 13, "more:x:1", None])
def test_forged_unsubscribe_data_is_refused(data) -> None:
    assert parse_unsubscribe(data) is None


@given(st.text(max_size=100))
def test_any_topic_key_fits_in_callback_data(topic: str) -> None:
    [data] = callback_data(topics_keyboard([topic], EN))
    assert len(data.encode()) <= MAX_CALLBACK_BYTES and parse_unsubscribe(data)


def test_alert_keyboard() -> None:
    article = Article(id="1", title="T" * 500, text="x", url="https://news.example.com/1")
    [[read, ask]] = alert_keyboard(article, EN).inline_keyboard
    assert read.url == "https://news.example.com/1"
    assert ask.text == "Ask about this article" and ask.callback_data == about_data("1")
    [[only]] = alert_keyboard(Article(id="2", title="Short", text="x"), EN).inline_keyboard
    assert only.callback_data == about_data("2")
    # An alert whose article key could not be registered goes without the Ask button.
    [[link]] = alert_keyboard(article, EN, ask=False).inline_keyboard
    assert link.url == "https://news.example.com/1"
    assert alert_keyboard(Article(id="2", title="Short", text="x"), EN, ask=False) is None


@given(st.text(min_size=1, max_size=500))
def test_any_article_id_fits_in_ask_data_and_parses_back(article: str) -> None:
    data = about_data(article)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert parse_about(data) == article_key(article)


@pytest.mark.parametrize(
    "data",
    [None, "", "about:", "about:zz", "about:" + "a" * 15, "about:" + "a" * 17,
     "about:" + "A" * 16, " about:" + "a" * 16, "about:" + "a" * 16 + "\n",
     "about:" + "a" * 16 + ":1", "more:" + "a" * 16, "unsub:" + "a" * 12],
)  # fmt: skip
def test_forged_ask_data_is_refused(data) -> None:
    assert parse_about(data) is None


def test_language_buttons_fit_and_parse_back() -> None:
    keyboard = language_keyboard("ru", texts_for("ru"))
    data = callback_data(keyboard)
    assert all(len(d.encode()) <= MAX_CALLBACK_BYTES for d in data)
    assert [parse_language(d) for d in data] == [*available_languages(), AUTOMATIC]
    labels = [b.text for row in keyboard.inline_keyboard for b in row]
    assert labels.count("✓ Русский") == 1 and labels[-1] == "Язык Telegram"
    assert language_keyboard(None, EN).inline_keyboard[-1][0].text == "✓ Telegram's language"


@pytest.mark.parametrize(
    "data",
    [None, "", "lang:", "lang:de", "lang:EN", "lang:en ", " lang:en", "lang:eng", "lang:autoo",
     "lang:en:1", "unsub:en", "lang:" + "a" * 60],
)  # fmt: skip
def test_forged_language_data_is_refused(data) -> None:
    assert parse_language(data) is None
