"""BM25Okapi with rank-bm25's exact arithmetic, served from a term-major sparse matrix.

rank-bm25's ``get_scores`` walks every document for every query term: ~120 ms per question
at 100k passages. Its score is a sum over query terms of a per-(term, passage) weight that
depends only on the corpus, so the weights are computed once here, with the same float64
operations in the same order as rank-bm25, and a question only touches the postings of its
own terms. The scores are bitwise equal to ``BM25Okapi(corpus).get_scores(query)``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class BM25Params:
    """rank-bm25's BM25Okapi settings. Defaults: best on SciFact's train queries
    (``benchmarks/tune_scifact.py``); rank-bm25's own defaults are k1=1.5, b=0.75."""

    k1: float = 1.2
    b: float = 0.5
    epsilon: float = 0.25


@dataclass(slots=True)
class Postings:
    """Term-major CSR: passages of term ``t`` are ``indices[indptr[t]:indptr[t+1]]``."""

    indptr: np.ndarray  # int64, len = terms + 1
    indices: np.ndarray  # int32 passage numbers, ascending within a term
    weights: np.ndarray  # float64 BM25 weight of (term, passage)
    idf: np.ndarray  # float64 per term, as rank-bm25's ``idf`` dict


def okapi_idf(doc_freq: np.ndarray, n_docs: int, epsilon: float) -> np.ndarray:
    """rank-bm25's ``BM25Okapi._calc_idf``; ``doc_freq`` in first-seen term order.

    ``math.log`` and a left-to-right sum (cumsum) reproduce rank-bm25 to the last bit;
    numpy's log and pairwise sum would differ in the last ulp.
    """
    idf = np.array(
        [math.log(n_docs - df + 0.5) - math.log(df + 0.5) for df in doc_freq.tolist()],
        dtype=np.float64,
    )
    if len(idf):
        average_idf = float(np.cumsum(idf)[-1]) / len(idf)
        idf[idf < 0] = epsilon * average_idf
    return idf


def build_postings(
    term_ids: np.ndarray, doc_ids: np.ndarray, n_terms: int, doc_len: np.ndarray, params: BM25Params
) -> Postings:
    """Weights for every (term, passage) pair from one entry per token occurrence.

    ``term_ids[i]`` occurs in passage ``doc_ids[i]``; term ids are numbered in order of first
    appearance, as rank-bm25's dicts are, which fixes its average-idf summation order.
    """
    n_docs = len(doc_len)
    stride = max(n_docs, 1)
    # Count occurrences per (term, passage) by sorting one int64 key: term-major order falls
    # out. In place and without integer division: at 1M passages these arrays hold ~30M items.
    keys = term_ids.astype(np.int64)
    keys *= stride
    keys += doc_ids
    keys.sort()
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))) if len(keys) else keys
    unique_keys = keys[starts]
    tf = np.diff(np.append(starts, len(keys))).astype(np.float64)
    indptr = np.searchsorted(unique_keys, np.arange(n_terms + 1, dtype=np.int64) * stride)
    doc_freq = np.diff(indptr)
    terms = np.repeat(np.arange(n_terms), doc_freq)
    docs = (unique_keys - terms * stride).astype(np.int32)
    idf = okapi_idf(doc_freq, n_docs, params.epsilon)
    avgdl = int(doc_len.sum()) / n_docs if n_docs else 1.0
    # Same expression, operand order and dtype as rank-bm25's get_scores.
    norm = params.k1 * (1 - params.b + params.b * doc_len.astype(np.float64)[docs] / avgdl)
    weights = idf[terms] * (tf * (params.k1 + 1) / (tf + norm))
    return Postings(indptr.astype(np.int64), docs, weights, idf)


class BM25Scorer:
    """Scores and top-k selection over :class:`Postings` for ``n_docs`` passages."""

    def __init__(self, postings: Postings, n_docs: int) -> None:
        self.postings = postings
        self.n_docs = n_docs
        self._scratch = threading.local()  # per-thread accumulators, reused across questions

    def _buffers(self) -> tuple[np.ndarray, np.ndarray]:
        buffers = getattr(self._scratch, "buffers", None)
        if buffers is None:
            buffers = (np.zeros(self.n_docs, np.float64), np.zeros(self.n_docs, bool))
            self._scratch.buffers = buffers
        return buffers

    def top(self, query_terms: Sequence[int], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Best ``k`` passages with a positive score, best first; ties go to the lower index.

        Adds each query term's weights in query order (repeats included), exactly as
        rank-bm25 accumulates, so the scores are bitwise rank-bm25's.
        """
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        p = self.postings
        scores, seen = self._buffers()
        touched = []
        for t in query_terms:
            lo, hi = p.indptr[t], p.indptr[t + 1]
            if hi > lo:
                idx = p.indices[lo:hi]
                scores[idx] += p.weights[lo:hi]
                seen[idx] = True
                touched.append(idx)
        if not touched:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        total = sum(len(t) for t in touched)
        # Selecting among candidates, never over the whole mostly-zero array (slow in numpy).
        if total * 16 < self.n_docs:
            # sort + neighbour mask: np.unique is ~40x slower here on numpy 2.4
            candidates = np.sort(np.concatenate(touched))
            candidates = candidates[np.r_[True, candidates[1:] != candidates[:-1]]]
        else:
            candidates = np.flatnonzero(seen)
        cand_scores = scores[candidates]
        scores[candidates] = 0.0
        seen[candidates] = False
        positive = cand_scores > 0
        candidates, cand_scores = candidates[positive], cand_scores[positive]
        if len(candidates) > k:
            cut = np.argpartition(-cand_scores, k - 1)[:k]
            # Keep every candidate tied with the k-th score so ties resolve by index.
            kth = cand_scores[cut].min()
            keep = cand_scores >= kth
            candidates, cand_scores = candidates[keep], cand_scores[keep]
        order = np.lexsort((candidates, -cand_scores))[:k]
        return candidates[order], cand_scores[order]

    def scores(self, query_terms: Sequence[int]) -> np.ndarray:
        """Dense scores of every passage (for tests and evaluation, not the hot path)."""
        out = np.zeros(self.n_docs, np.float64)
        p = self.postings
        for t in query_terms:
            lo, hi = p.indptr[t], p.indptr[t + 1]
            out[p.indices[lo:hi]] += p.weights[lo:hi]
        return out
