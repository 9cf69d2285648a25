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
    def parse(cls, text: str, analyzer: Analyzer) -> Topic:
        words = text.split()
        include = [w for w in words if not w.startswith("-")]
        exclude = [w[1:] for w in words if w.startswith("-") and len(w) > 1]
        return cls(
            text,
            tuple(dict.fromkeys(analyzer.terms(" ".join(include)))),
            tuple(dict.fromkeys(analyzer.terms(" ".join(exclude)))),
        )


@dataclass(slots=True)
class _ArticleView:
    """One article's passages as term keys, and the weights of each term, computed once."""

    passages: list[np.ndarray]  # uint64 keys per passage, title included
    keys: set[int]  # every key of the article
    tags: set[int]  # keys of its own topics/tags/category


def relevance(index: SearchIndex, passages: list[np.ndarray], terms: tuple[str, ...]) -> float:
    """Best passage's BM25 score for ``terms`` over the sum of their idf. A term no article
    uses counts with the average idf: it is missing from this article too."""
    query = index.query(list(terms))
    mass = float(np.where(query.doc_freq > 0, query.idf, index.average_idf).sum())
    if not passages or mass <= 0:
        return 0.0
    k1, b, avgdl = index.params.k1, index.params.b, index.generation.avgdl
    best = 0.0
    for keys in passages:
        length = float(len(keys))
        score = 0.0
        for key, idf in zip(query.keys.tolist(), query.idf.tolist(), strict=True):
            tf = float(np.count_nonzero(keys == key))
            if tf and idf:
                score += idf * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avgdl)))
        best = max(best, score)
    return best / mass


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
        passages = index.article_terms(article_id)
        view = _ArticleView(
            passages,
            set(np.concatenate(passages).tolist()) if passages else set(),
            {term_hash(t) for t in analyzer.terms(" ".join(article.topics))},
        )
        candidates = {t.text: t for t in self.everything}
        for key in view.keys | view.tags:
            for topic in self._by_key.get(key, ()):
                candidates.setdefault(topic.text, topic)
        return [t for t in candidates.values() if self._matches(index, view, t)]

    def _matches(self, index: SearchIndex, view: _ArticleView, topic: Topic) -> bool:
        include, exclude = self._keys[topic.text]
        if exclude & (view.keys | view.tags):
            return False
        if topic.everything or include <= view.tags:
            return True
        return relevance(index, view.passages, topic.include) >= RELEVANCE_THRESHOLD
