"""Re-ranking the best passages of the exact BM25 first stage with their article's context.

The first stage is rank-bm25's BM25Okapi over passages (``SearchIndex.search``). Its best
``depth`` passages are then re-scored, everything read from what the index stored
(``SearchIndex.article_tokens``: the article's term keys and the passage's place in them)::

    score = bm25 / best_bm25                                   the passage's own match
          + article   * article_bm25 / best_article_bm25       its whole article's match
          + proximity * proximity / best_proximity             question words close together
          + lead      * 0.5 ** (tokens before the passage / lead_tokens)
          + kind      * [passage holds a number / date the question asks for]

* ``bm25`` is the first stage's score; for a topic search (no question, see
  ``question_kind``) it is first extended by pseudo-relevance feedback: the ``feedback_terms``
  most distinctive terms of the best passage (term frequency share x idf), weighted to
  ``feedback`` times the question's idf mass, scored with BM25's saturation in each passage.
* ``article_bm25``: BM25 of the whole article (body tokens), the question's idf, ``k1`` and
  ``b`` below, lengths relative to an estimate of the average article.
* ``proximity``: for each pair of different question terms at most ``window`` tokens apart
  in the passage, the smaller idf over the squared distance (BM25TP, Rasolofo & Savoy 2003).
* ``lead``: news puts the answer first (on NewsQA dev 31% of answers are in the first
  paragraph and 59% in the first four): a prior halving every ``lead_tokens`` index terms.

Every feature but the lead prior is divided by its best value among the candidates, so the
weights are shares of the best passage's evidence and BM25's scale never matters. Candidates
below ``depth`` keep their first-stage order after the re-ranked ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.search import bm25
from bot.search.index import Hit, PassageRef, Query, SearchIndex


@dataclass(frozen=True, slots=True)
class RankingWeights:
    """How candidates are re-ranked; see the module docstring for the formula.

    Chosen on development data only (``benchmarks/tune_ranking.py``): NewsQA dev (answer in
    the first quote and in the first reply) and SciFact train (nDCG@10); the figures that
    chose each weight are in that script's report, summed up here.
    """

    depth: int = 30  # first-stage passages re-ranked
    passage_k1: float | None = 0.3  # re-score the passage's BM25 with these (None: keep it)
    passage_b: float = 0.75
    article: float = 1.0
    article_k1: float = 1.2
    article_b: float = 0.9
    proximity: float = 0.25
    window: int = 5
    reverse: float = 0.0  # weight of a pair in the opposite order to the question's
    lead: float = 0.5
    lead_tokens: float = 80.0
    kind: float = 0.5
    feedback: float = 0.0
    feedback_terms: int = 20


# Topic searches (claims, keywords): what is about the topic, wherever it stands.
TOPIC_WEIGHTS = RankingWeights(
    passage_k1=None, article=0.0, proximity=0.0, lead=0.0, kind=0.0, feedback=0.7
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A re-ranked passage: its final score and its coverage (the share of the question's idf
    mass its title and own text contain)."""

    ref: PassageRef
    article_id: str
    score: float
    coverage: float


@dataclass(frozen=True, slots=True)
class QuestionTerms:
    """The question's term keys sorted (for lookups), their idf and their place in it."""

    keys: np.ndarray  # uint64, ascending
    idf: np.ndarray  # float64, negative idf floored at 0
    rank: np.ndarray  # int64: position in the question of keys[i]

    @classmethod
    def of(cls, query: Query) -> QuestionTerms:
        order = np.argsort(query.keys, kind="stable")
        return cls(query.keys[order], np.maximum(query.idf[order], 0.0), order)

    def positions(self, tokens: np.ndarray) -> np.ndarray:
        """For each token key, the index of its question term in ``keys``, or -1."""
        return term_positions(tokens, self.keys)


def rerank(
    index: SearchIndex,
    query: Query,
    hits: list[Hit],
    kind_keys: np.ndarray,
    term_weights: np.ndarray,
    weights: RankingWeights = RankingWeights(),
) -> list[Candidate]:
    """The best ``depth`` of ``hits`` (the first stage's, best first) re-ranked by the
    module's formula. ``kind_keys``: the sorted term keys marking the kind of answer the
    question expects (empty when it expects none); ``term_weights``: each query term's
    coverage weight, in query order."""
    head = hits[: weights.depth]
    if not head:
        return []
    terms = QuestionTerms.of(query)
    found = _Candidates.of(index, head, terms)
    if weights.passage_k1 is None:
        bm25 = np.array([s for _, s in head], np.float64)
    else:
        bm25 = found.passage_bm25(weights.passage_k1, weights.passage_b, index.generation.avgdl)
    if weights.feedback:
        bm25 = bm25 + found.feedback(index, terms, weights)
    score = bm25 / (bm25.max() or 1.0)
    score += weights.article * _share(found.article_bm25(weights.article_k1, weights.article_b))
    score += weights.proximity * _share(found.proximity(weights.window, weights.reverse))
    score += weights.lead * 0.5 ** (found.starts / weights.lead_tokens)
    if len(kind_keys) and weights.kind:
        score += weights.kind * found.holds(kind_keys)
    coverage = found.coverage(term_weights[terms.rank])
    order = np.lexsort((np.arange(len(head)), -score))  # ties: the first stage's order
    return [
        Candidate(head[i][0], found.ids[i], float(score[i]), float(coverage[i]))
        for i in order.tolist()
    ]


def _share(values: np.ndarray) -> np.ndarray:
    best = float(values.max()) if len(values) else 0.0
    return values / best if best > 0 else np.zeros_like(values)


@dataclass(slots=True)
class _Candidates:
    """The candidates' articles (title then text) laid end to end as term keys, with each
    question term's counts: every feature is then a few numpy operations, whatever the
    number of candidates. ``C`` candidates, ``A`` distinct articles, ``n`` question terms."""

    terms: QuestionTerms
    ids: list[str]  # each candidate's article id
    tokens: np.ndarray  # uint64: each distinct article's title then text, one after another
    article: np.ndarray  # int64 [C]: the candidate's article (0..A-1)
    article_lengths: np.ndarray  # int64 [A]: title and text
    title_tokens: np.ndarray  # int64: positions in ``tokens`` of the titles' tokens
    title_article: np.ndarray  # int64: the article of each of those
    average_article: float
    own: np.ndarray  # int64: positions in ``tokens`` of the candidates' own tokens, in order
    own_candidate: np.ndarray  # int64: the candidate of each of those
    own_term: np.ndarray  # int64: the question term of each of those, or -1
    lengths: np.ndarray  # int64 [C]: title and own tokens (the first stage's length)
    starts: np.ndarray  # float64 [C]: tokens of its article's text before the passage
    own_tf: np.ndarray  # int64 [C, n]
    title_tf: np.ndarray  # int64 [A, n]
    article_tf: np.ndarray  # int64 [A, n]

    @classmethod
    def of(cls, index: SearchIndex, head: list[Hit], terms: QuestionTerms) -> _Candidates:
        arrays: list[np.ndarray] = []
        title_lengths: list[int] = []
        article_of: dict[str, int] = {}
        ids, article, starts, ends = [], [], [], []
        for ref, _ in head:
            aid = index.article_id(ref)
            title, body, start, end = index.article_tokens(ref)
            if aid not in article_of:
                article_of[aid] = len(arrays)
                arrays.append(np.concatenate((title, body)))
                title_lengths.append(len(title))
            ids.append(aid)
            article.append(article_of[aid])
            starts.append(start)
            ends.append(end)
        tokens = np.concatenate(arrays)
        article_lengths = np.array([len(a) for a in arrays], np.int64)
        titles = np.array(title_lengths, np.int64)
        article_index = np.array(article, np.int64)
        offsets = np.concatenate(([0], np.cumsum(article_lengths)))[:-1]
        sizes = np.array(ends, np.int64) - np.array(starts, np.int64)
        own_candidate = np.repeat(np.arange(len(head)), sizes)
        within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        first = offsets[article_index] + titles[article_index] + np.array(starts, np.int64)
        own = first[own_candidate] + within
        token_term = terms.positions(tokens)
        token_article = np.repeat(np.arange(len(arrays)), article_lengths)
        in_title = np.arange(len(tokens)) - offsets[token_article] < titles[token_article]
        n = len(terms.keys)
        own_term = token_term[own]
        # The first stage's average passage length counts each passage's title and the
        # sentence shared by overlapping windows: times passages per article, an upper
        # estimate of the average article, which is all the article's own BM25 needs.
        average = index.generation.avgdl * len(index) / max(index.article_count, 1)
        return cls(
            terms,
            ids,
            tokens,
            article_index,
            article_lengths,
            np.flatnonzero(in_title),
            token_article[in_title],
            average,
            own,
            own_candidate,
            own_term,
            sizes + titles[article_index],
            np.array(starts, np.float64),
            _counts(own_candidate, own_term, len(head), n),
            _counts(token_article[in_title], token_term[in_title], len(arrays), n),
            _counts(token_article, token_term, len(arrays), n),
        )

    def passage_bm25(self, k1: float, b: float, avgdl: float) -> np.ndarray:
        """Each candidate's BM25 as the first stage counts it (title and own text), with
        other ``k1`` and ``b``."""
        tf = self.own_tf + self.title_tf[self.article]
        return _bm25(tf, self.terms.idf, self.lengths, avgdl, k1, b)

    def article_bm25(self, k1: float, b: float) -> np.ndarray:
        """BM25 of each candidate's whole article (title once, then every token)."""
        scores = _bm25(
            self.article_tf, self.terms.idf, self.article_lengths, self.average_article, k1, b
        )
        return scores[self.article]

    def proximity(self, window: int, reverse: float) -> np.ndarray:
        found = np.flatnonzero(self.own_term >= 0)  # positions among the own tokens
        return pair_proximity(
            found,
            self.own_term[found],
            self.own_candidate[found],
            self.terms.idf,
            self.terms.rank,
            window,
            len(self.ids),
            reverse,
        )

    def holds(self, marks: np.ndarray) -> np.ndarray:
        """1.0 for each candidate whose own tokens include one of the sorted ``marks`` that
        is not a question term."""
        hit = (term_positions(self.tokens[self.own], marks) >= 0) & (self.own_term < 0)
        held = np.bincount(self.own_candidate[hit], minlength=len(self.ids))
        return (held > 0).astype(np.float64)

    def coverage(self, weight: np.ndarray) -> np.ndarray:
        """Share of the question's ``weight`` (one per sorted term) that each candidate's
        title and own text contain."""
        present = (self.own_tf + self.title_tf[self.article]) > 0
        total = float(weight.sum())
        return (present * weight).sum(axis=1) / total if total > 0 else np.zeros(len(self.ids))

    def feedback(
        self, index: SearchIndex, terms: QuestionTerms, weights: RankingWeights
    ) -> np.ndarray:
        """Pseudo-relevance feedback: the best candidate's ``feedback_terms`` most
        distinctive other terms (share of its tokens x idf), together worth ``feedback``
        times the question's idf mass, scored in every candidate with BM25's saturation."""
        first = self.article[0]
        best = self.tokens[
            np.concatenate(
                (self.title_tokens[self.title_article == first], self.own[self.own_candidate == 0])
            )
        ]
        best = best[terms.positions(best) < 0]
        if not len(best):
            return np.zeros(len(self.ids))
        keys, counts = np.unique(best, return_counts=True)
        value = counts / len(best) * _idf(index, keys)
        keep = np.sort(np.argsort(-value, kind="stable")[: weights.feedback_terms])
        keys, value = keys[keep], value[keep]  # still ascending by key
        if not value.sum():
            return np.zeros(len(self.ids))
        term_weight = weights.feedback * float(terms.idf.sum()) * value / value.sum()
        own = term_positions(self.tokens[self.own], keys)
        title = term_positions(self.tokens[self.title_tokens], keys)
        tf = _counts(self.own_candidate, own, len(self.ids), len(keys))
        tf += _counts(self.title_article, title, len(self.article_lengths), len(keys))[self.article]
        params = index.params
        return _bm25(tf, term_weight, self.lengths, index.generation.avgdl, params.k1, params.b)


def _counts(rows: np.ndarray, terms: np.ndarray, n_rows: int, n_terms: int) -> np.ndarray:
    """[n_rows, n_terms] counts of (row, term) pairs; terms of -1 are not counted."""
    keep = terms >= 0
    flat = rows[keep] * n_terms + terms[keep]
    return np.bincount(flat, minlength=n_rows * n_terms).reshape(n_rows, n_terms)


def _bm25(
    tf: np.ndarray, idf: np.ndarray, lengths: np.ndarray, average: float, k1: float, b: float
) -> np.ndarray:
    """Rows of term counts scored with BM25's saturation and length normalisation."""
    norm = k1 * (1 - b + b * lengths / average)
    return (idf * (tf * (k1 + 1) / (tf + norm[:, None]))).sum(axis=1)


def term_positions(keys: np.ndarray, among: np.ndarray) -> np.ndarray:
    """For each key, its position in the sorted array ``among``, or -1 (int64)."""
    if not len(among):
        return np.full(len(keys), -1, np.int64)
    position = np.minimum(np.searchsorted(among, keys), len(among) - 1)
    return np.where(among[position] == keys, position, -1)


def pair_proximity(
    positions: np.ndarray,
    terms: np.ndarray,
    groups: np.ndarray,
    idf: np.ndarray,
    rank: np.ndarray,
    window: int,
    n_groups: int,
    reverse: float,
) -> np.ndarray:
    """BM25TP's term-pair evidence per group (passage or sentence): for matched tokens at
    ascending ``positions`` (question term ``terms``, in ``groups``), every pair of different
    terms of one group at most ``window`` apart adds the smaller idf over the squared
    distance, times ``reverse`` when the two come in the opposite order to the question's
    (``rank``: each term's place in the question)."""
    out = np.zeros(n_groups, np.float64)
    for shift in range(1, min(window, len(positions) - 1) + 1):  # the next matched tokens
        a, b = slice(0, len(positions) - shift), slice(shift, len(positions))
        distance = positions[b] - positions[a]
        pair = (groups[a] == groups[b]) & (terms[a] != terms[b]) & (distance <= window)
        if not pair.any():
            continue
        value = np.minimum(idf[terms[a]], idf[terms[b]]) / distance.astype(np.float64) ** 2
        value = np.where(rank[terms[a]] < rank[terms[b]], value, reverse * value)
        out += np.bincount(groups[a][pair], value[pair], minlength=n_groups)
    return out


def _idf(index: SearchIndex, keys: np.ndarray) -> np.ndarray:
    """The live idf of term keys (rank-bm25's, epsilon floor included; 0 if absent)."""
    terms = index.terms
    if not len(terms):
        return np.zeros(len(keys))
    position = np.minimum(np.searchsorted(terms, keys), len(terms) - 1)
    doc_freq = np.where(terms[position] == keys, index.doc_freq[position], 0).astype(np.int64)
    return bm25.idf_values(doc_freq, len(index), index.average_idf, index.params)
