"""Is a new article relevant to a subscriber's topic? Decided with the answer engine's
analyzer and BM25 weights, so "elections" matches "election" and word parts do not match.

A topic is words to look for and ``-words`` to exclude. Relevance is the best passage's BM25
score for the topic's terms divided by the sum of their idf: about 1 when every term occurs
once in a passage of average length (the article title counts in every passage), less when
terms are missing or diluted. The threshold 0.5 accepts an article whose best passage mentions
the topic's main terms, and refuses one that only shares a common word with a longer topic
(e.g. "change" for "climate change": idf(change) is a small share of the topic's idf mass).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.search.index import SearchIndex
from bot.text.analysis import Analyzer

RELEVANCE_THRESHOLD = 0.5


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
    """Best passage's BM25 score for ``terms`` over the sum of their idf (0 if unknown)."""
    scores = index.article_scores(article_id, terms)
    mass = sum(index.idf(t) or 0.0 for t in terms)
    return float(scores.max()) / mass if len(scores) and mass > 0 else 0.0


def matches(index: SearchIndex, article_id: str, topic: Topic) -> bool:
    if topic.exclude and index.article_mentions(article_id, topic.exclude):
        return False
    if topic.everything:
        return True
    return relevance(index, article_id, topic.include) >= RELEVANCE_THRESHOLD
