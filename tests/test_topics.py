"""Topic relevance for alerts: stems not substrings, exclusions, tags, partial topics."""

from __future__ import annotations

import pytest

from bot.alerts.topics import ArticleTerms, Topic, TopicMatcher, parse_topic, relevance
from bot.articles.model import Article
from bot.search.lifecycle import build_index
from bot.text.analysis import Analyzer

ARTICLES = [
    Article("vote", "Voters head to the polls", "The election campaign ended after weeks of "
            "debate. Turnout in the election is expected to be high, and so is change."),
    Article("fraud", "Vote count questioned", "Observers alleged fraud in the election count "
            "and asked for a recount in three districts. Officials rejected any change."),
    Article("climate", "Markets change course", "Share prices changed direction on Monday as "
            "traders reacted to a change in interest rates."),
    Article("selection", "Team selection announced", "The coach announced the selection for "
            "the cup final, one change with two new players in the squad."),
    Article("summit", "Climate summit opens", "Delegates met to discuss climate targets."),
    Article("harbour", "Ferry timetable", "Ferries will run every hour from the harbour in "
            "summer.", topics=("Transport",)),
]  # fmt: skip


@pytest.fixture(scope="module")
def index():
    return build_index(ARTICLES, Analyzer())


def topic(text: str) -> Topic:
    return Topic.parse(text, Analyzer())


def matching(index, text: str) -> set[str]:
    matcher = TopicMatcher([topic(text)])
    return {a.id for a in index.articles() if matcher.matching(index, a.id, Analyzer())}


def test_stems_match_and_substrings_do_not(index) -> None:
    # "elections" is stemmed like "election"; "selection" contains "election" but is another word.
    assert matching(index, "elections") == {"vote", "fraud"}


def test_exclusions(index) -> None:
    assert matching(index, "election -fraud") == {"vote"}
    assert matching(index, "-fraud") == {"vote", "climate", "selection", "summit", "harbour"}


def test_a_common_word_alone_does_not_carry_a_longer_topic(index) -> None:
    article = ArticleTerms(index, index.article_terms("climate"), set())
    assert relevance(index, article, topic("climate change").include) < 0.6
    assert "climate" not in matching(index, "climate change")


def test_tags_match_outright(index) -> None:
    assert matching(index, "transport") == {"harbour"}


def test_everything_and_stopword_topics(index) -> None:
    assert topic("").everything and matching(index, "") == {a.id for a in ARTICLES}
    assert topic("the of").include == () and topic("the of").exclude == ()


def test_only_topics_sharing_a_term_are_scored(index, monkeypatch) -> None:
    """The percolator: 5,000 topics that cannot match cost nothing per article."""
    import bot.alerts.topics as topics

    scored: list[tuple[str, ...]] = []
    real = topics.relevance

    def counting(index, passages, terms):
        scored.append(terms)
        return real(index, passages, terms)

    monkeypatch.setattr(topics, "relevance", counting)
    unrelated = [topic(f"zebra{n} quagga{n}") for n in range(5000)]
    matcher = TopicMatcher([*unrelated, topic("election count")])
    assert [t.text for t in matcher.matching(index, "fraud", Analyzer())] == ["election count"]
    assert scored == [topic("election count").include]


def test_topics_are_stemmed_in_the_archives_languages() -> None:
    articles = [
        Article("ru", "Выборы в парламент", "Избиратели пришли на выборы в воскресенье. "
                "Явка была высокой во всех округах.", language="ru"),
        Article("en", "Harbour news", "Ferries ran every hour from the harbour.", language="en"),
        *(Article(f"x{n}", f"Погода {n}", f"Дождь шёл весь день номер {n}.", language="ru")
          for n in range(4)),
    ]  # fmt: skip
    index = build_index(articles, Analyzer())
    assert index.languages == {"ru", "en"}
    topic = Topic.parse("выборов", Analyzer(), index.languages)  # genitive plural
    matcher = TopicMatcher([topic])
    assert [a.id for a in index.articles() if matcher.matching(index, a.id, Analyzer())] == ["ru"]


def test_a_topic_is_parsed_once_for_languages_that_analyse_alike() -> None:
    """Unknown language ("") is analysed as the default one: an archive's first article of
    unknown language must not make every subscriber's topic be parsed again."""
    analyzer = Analyzer()
    first = parse_topic("oil prices rise", analyzer, frozenset({"en"}))
    assert parse_topic("oil prices rise", analyzer, frozenset({"", "en"})) is first
    assert parse_topic("oil prices rise", analyzer, frozenset({"en", "ru"})) is not first
