"""Which subscribers' topics a new article is for: an index of topic terms picks the candidate
topics (as a percolator does), BM25 decides, with the answer engine's analyzer and the live
archive's statistics, so "elections" matches "election" and word parts do not match.

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

Cost: only topics sharing a term with the article (or with its tags), and the "everything"
topic, are scored; the rest are never looked at, however many subscribers there are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bot.search.index import SearchIndex
from bot.search.segment import term_hash
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
    def parse(cls, text: str, analyzer: Analyzer, languages: frozenset[str] = frozenset()) -> Topic:
        """The topic's terms in the archive's ``languages``, analysed as a question is (a
        topic is a few words too: see ``Analyzer.question_terms``)."""
        words = text.split()
        include = [w for w in words if not w.startswith("-")]
        exclude = [w[1:] for w in words if w.startswith("-") and len(w) > 1]
        archive = _Languages(languages)
        return cls(
            text,
            tuple(analyzer.question_terms(" ".join(include), archive)),
            tuple(analyzer.question_terms(" ".join(exclude), archive)),
        )


@dataclass(frozen=True, slots=True)
class _Languages:
    """The archive as topic parsing sees it: its languages only. Every term counts as known,
    so a topic keeps all its terms (future articles may hold those the archive does not)."""

    languages: frozenset[str]

    def idf(self, term: str) -> float | None:
        return 0.0


class ArticleTerms:
    """One article's passages as term frequencies, and each term's BM25 weights in them,
    computed once per article however many topics are checked against it."""

    def __init__(self, index: SearchIndex, passages: list[np.ndarray], tags: set[int]) -> None:
        self.index = index
        self.tags = tags
        self._tf: dict[int, np.ndarray] = {}
        for n, keys in enumerate(passages):
            found, counts = np.unique(keys, return_counts=True)
            for key, count in zip(found.tolist(), counts.tolist(), strict=True):
                self._tf.setdefault(key, np.zeros(len(passages)))[n] = count
        self.keys = set(self._tf)
        p = index.params
        lengths = np.array([len(k) for k in passages], np.float64)
        self._norm = p.k1 * (1 - p.b + p.b * lengths / index.generation.avgdl)
        self._weights: dict[int, np.ndarray] = {}

    def weights(self, key: int, idf: float) -> np.ndarray | None:
        """BM25 weights of the term in each passage (None if the article lacks it)."""
        found = self._weights.get(key)
        if found is None:
            tf = self._tf.get(key)
            if tf is None or not idf:
                return None
            k1 = self.index.params.k1
            found = self._weights[key] = idf * (tf * (k1 + 1) / (tf + self._norm))
        return found


def relevance(index: SearchIndex, article: ArticleTerms, terms: tuple[str, ...]) -> float:
    """Best passage's BM25 score for ``terms`` over the sum of their idf. A term no article
    uses counts with the average idf: it is missing from this article too."""
    query = index.query(list(terms), remember=True)
    mass = float(np.where(query.doc_freq > 0, query.idf, index.average_idf).sum())
    if mass <= 0:
        return 0.0
    total = None
    for key, idf in zip(query.keys.tolist(), query.idf.tolist(), strict=True):
        weights = article.weights(key, idf)
        if weights is not None:
            total = weights if total is None else total + weights
    return 0.0 if total is None else float(total.max()) / mass


def parse_topic(text: str, analyzer: Analyzer, languages: frozenset[str]) -> Topic:
    """``Topic.parse``, remembered: the subscriptions are re-read at every commit. Keyed by
    the languages the analysis uses, not the archive's codes: the first article of unknown
    language ("", analysed as the default language) must not parse every topic again (it did
    in ``bench_topics``: 1.3 s of its 4.3)."""
    return _parsed(text, analyzer, analyzer.analysed_languages(languages))


@lru_cache(maxsize=250_000)
def _parsed(text: str, analyzer: Analyzer, languages: frozenset[str]) -> Topic:
    return Topic.parse(text, analyzer, languages)


class TopicMatcher:
    """The topics of many subscribers, indexed by term for matching new articles."""

    def __init__(self, topics: Iterable[Topic]) -> None:
        self.everything: list[Topic] = []
        self._by_key: dict[int, list[Topic]] = defaultdict(list)
        self._keys: dict[str, tuple[set[int], set[int]]] = {}  # text → (include, exclude) keys
        for topic in topics:
            include = {term_hash(t) for t in topic.include}
            self._keys[topic.text] = (include, {term_hash(t) for t in topic.exclude})
            if topic.everything:
                self.everything.append(topic)
            for key in include:
                self._by_key[key].append(topic)

    def matching(self, index: SearchIndex, article_id: str, analyzer: Analyzer) -> list[Topic]:
        """The topics the article is for (its tags analysed with ``analyzer``)."""
        article = index.article(article_id)
        if article is None:
            return []
        tags = {term_hash(t) for t in analyzer.terms(" ".join(article.topics), article.language)}
        view = ArticleTerms(index, index.article_terms(article_id), tags)
        candidates = {t.text: t for t in self.everything}
        by_key = self._by_key
        for key in view.keys | view.tags:
            for topic in by_key.get(key, ()):
                candidates.setdefault(topic.text, topic)
        return [t for t in candidates.values() if self._matches(index, view, t)]

    def _matches(self, index: SearchIndex, view: ArticleTerms, topic: Topic) -> bool:
        include, exclude = self._keys[topic.text]
        if exclude and (not exclude.isdisjoint(view.keys) or not exclude.isdisjoint(view.tags)):
            return False
        if topic.everything or include <= view.tags:
            return True
        return relevance(index, view, topic.include) >= RELEVANCE_THRESHOLD
