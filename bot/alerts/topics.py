"""Is a new article relevant to a subscriber's topic? Decided with the answer engine's
analyzer and BM25 weights, so "elections" matches "election" and word parts do not match.

A topic is words to look for and ``-words`` to exclude. Relevance is the best passage's BM25
score for the topic's terms divided by the sum of their idf: about 1 when every term occurs
once in a passage of average length (the article title counts in every passage), less when
terms are missing or diluted. An article that only shares a common word with a longer topic
("change" for "climate change") falls well short, since that word is a small share of the
topic's idf mass.

The threshold, 0.6, comes from ``benchmarks/calibrate_topics.py``: on 2,225 BBC articles,
ten multi- and single-word topics were alerted 1,843 times at 0.5 with 71% of the alerts in
the topic's own category, 1,416 times at 0.6 with 80%, and 992 times at 0.8 with 86%. At 0.6
precision is high without losing most of the real matches. A one-word topic matches any
article that uses the word (its score is then ~1), whatever the threshold.
An article's own tags (topics, category) naming every topic word also match outright.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.search.index import SearchIndex
from bot.text.analysis import Analyzer

RELEVANCE_THRESHOLD = 0.6


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed topic: ``include`` terms (empty means every article) and ``exclude`` terms."""

    text: str
    include: tuple[str, ...]
    exclude: tuple[str, ...]

    @property
    def everything(self) -> bool:
        return not self.include

    @classmethod
    def parse(cls, text: str, analyzer: Analyzer) -> Topic:
        words = text.split()
        include = [w for w in words if not w.startswith("-")]
        exclude = [w[1:] for w in words if w.startswith("-") and len(w) > 1]
        return cls(
            text,
            tuple(dict.fromkeys(analyzer.terms(" ".join(include)))),
            tuple(dict.fromkeys(analyzer.terms(" ".join(exclude)))),
        )


def relevance(index: SearchIndex, article_id: str, terms: tuple[str, ...]) -> float:
    """Best passage's BM25 score for ``terms`` over the sum of their idf. A term no article
    uses counts with the average idf: it is missing from this article too."""
    scores = index.article_scores(article_id, terms)
    mass = sum(index.average_idf if index.idf(t) is None else index.idf(t) for t in terms)
    return float(scores.max()) / mass if len(scores) and mass > 0 else 0.0


def matches(
    index: SearchIndex, article_id: str, topic: Topic, tags: frozenset[str] = frozenset()
) -> bool:
    """Whether the article is for this topic. ``tags`` are the analysed terms of the
    article's own topics/tags/category: a topic naming them all matches outright."""
    if topic.exclude and (
        index.article_mentions(article_id, topic.exclude) or tags & set(topic.exclude)
    ):
        return False
    if topic.everything or tags.issuperset(topic.include):
        return True
    return relevance(index, article_id, topic.include) >= RELEVANCE_THRESHOLD
