"""The numba build of ``bm25.top`` (imported only by ``bm25.warm_up``; numba is optional).

Same arithmetic as the numpy kernel, term by term and in question order, so scores are equal
to the bit. Short questions use MaxScore: question positions are sorted by their weight's upper
bound; the longest prefix whose bounds sum to at most the current k-th score are "non-essential"
lists, which cannot lift a passage into the top k alone, so only passages found in the
essential lists are visited and the others are probed by binary search, stopping as soon as
the passage cannot beat the k-th score any more.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bot.search.bm25 import MAXSCORE_TERMS, BM25Params, ScoredTerms, SegmentPostings, frozen


@njit(cache=True, nogil=True)
def _weight(idf, tf, length, k1, b, avgdl):
    return idf * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avgdl)))


@njit(cache=True, nogil=True)
def _worse(score_a, doc_a, score_b, doc_b):
    """Whether (score_a, doc_a) ranks below (score_b, doc_b): lower score, or a tie and later."""
    return score_a < score_b or (score_a == score_b and doc_a > doc_b)


@njit(cache=True, nogil=True)
def _push(heap_s, heap_d, size, k, score, doc):
    """Offer a passage to the min-heap of the best k (root = the k-th best); returns size."""
    if size < k:
        i = size
        size += 1
    elif _worse(heap_s[0], heap_d[0], score, doc):
        i = 0  # replace the root, then sift down
        heap_s[0], heap_d[0] = score, doc
        while True:
            left, right, low = 2 * i + 1, 2 * i + 2, i
            if left < size and _worse(heap_s[left], heap_d[left], heap_s[low], heap_d[low]):
                low = left
            if right < size and _worse(heap_s[right], heap_d[right], heap_s[low], heap_d[low]):
                low = right
            if low == i:
                return size
            heap_s[i], heap_s[low] = heap_s[low], heap_s[i]
            heap_d[i], heap_d[low] = heap_d[low], heap_d[i]
            i = low
    else:
        return size
    heap_s[i], heap_d[i] = score, doc  # sift up
    while i > 0:
        parent = (i - 1) // 2
        if not _worse(heap_s[i], heap_d[i], heap_s[parent], heap_d[parent]):
            break
        heap_s[i], heap_s[parent] = heap_s[parent], heap_s[i]
        heap_d[i], heap_d[parent] = heap_d[parent], heap_d[i]
        i = parent
    return size


@njit(cache=True, nogil=True)
def _sorted_best(heap_s, heap_d, size):
    order = np.argsort(-heap_s[:size], kind="mergesort")  # stable: doc order among equals
    docs = heap_d[:size][order]
    scores = heap_s[:size][order]
    # Among equal scores the lower passage comes first.
    i = 0
    while i < size:
        j = i
        while j + 1 < size and scores[j + 1] == scores[i]:
            j += 1
        if j > i:
            docs[i : j + 1] = np.sort(docs[i : j + 1])
        i = j + 1
    return docs, scores


@njit(cache=True, nogil=True)
def _term_at_a_time(lo, hi, idf, post_doc, post_tf, doc_len, deleted, k1, b, avgdl, k, floor):
    n_docs = doc_len.shape[0]
    scores = np.zeros(n_docs, np.float64)
    seen = np.zeros(n_docs, np.bool_)
    touched = np.empty(0, np.int32)
    count = 0
    for p in range(lo.shape[0]):
        if idf[p] == 0.0:
            continue
        for j in range(lo[p], hi[p]):
            d = post_doc[j]
            if not seen[d]:
                seen[d] = True
                if count == touched.shape[0]:
                    grown = np.empty(max(1024, 2 * count), np.int32)
                    grown[:count] = touched[:count]
                    touched = grown
                touched[count] = d
                count += 1
            scores[d] += _weight(idf[p], float(post_tf[j]), float(doc_len[d]), k1, b, avgdl)
    heap_s = np.empty(k, np.float64)
    heap_d = np.empty(k, np.int32)
    size = 0
    for i in range(count):
        d = touched[i]
        s = scores[d]
        if s > floor and not deleted[d]:
            size = _push(heap_s, heap_d, size, k, s, d)
    return _sorted_best(heap_s, heap_d, size)


@njit(cache=True, nogil=True)
def _advance(post_doc, start, end, doc):
    """First position in [start, end) whose passage is >= doc (galloping, then binary)."""
    step = 1
    low = start
    high = start
    while high < end and post_doc[high] < doc:
        low = high + 1
        high = start + step
        step *= 2
    if high > end:
        high = end
    while low < high:
        mid = (low + high) // 2
        if post_doc[mid] < doc:
            low = mid + 1
        else:
            high = mid
    return low


@njit(cache=True, nogil=True)
def _maxscore(lo, hi, idf, bound, post_doc, post_tf, doc_len, deleted, k1, b, avgdl, k, floor):
    m = lo.shape[0]
    order = np.argsort(bound, kind="mergesort")  # ascending upper bound
    prefix = np.cumsum(bound[order])  # prefix[i]: bound sum of order[0..i]
    cursor = lo.copy()
    contribution = np.zeros(m, np.float64)
    heap_s = np.empty(k, np.float64)
    heap_d = np.empty(k, np.int32)
    size = 0
    threshold = floor
    essential = 0  # order[essential:] are the essential lists
    while essential < m and prefix[essential] <= threshold:
        essential += 1
    while essential < m:
        doc = np.int32(2147483647)
        for r in range(essential, m):
            p = order[r]
            if cursor[p] < hi[p] and post_doc[cursor[p]] < doc:
                doc = post_doc[cursor[p]]
        if doc == 2147483647:
            break
        length = float(doc_len[doc])
        partial = 0.0
        for p in range(m):
            contribution[p] = 0.0
        for r in range(essential, m):
            p = order[r]
            c = cursor[p]
            if c < hi[p] and post_doc[c] == doc:
                w = _weight(idf[p], float(post_tf[c]), length, k1, b, avgdl)
                contribution[p] = w
                partial += w
                cursor[p] = c + 1
        if deleted[doc]:
            continue
        possible = partial * 1.000000001 + (prefix[essential - 1] if essential > 0 else 0.0)
        r = essential - 1
        while r >= 0 and possible > threshold:
            p = order[r]
            c = _advance(post_doc, cursor[p], hi[p], doc)
            cursor[p] = c
            possible -= bound[p]
            if c < hi[p] and post_doc[c] == doc:
                w = _weight(idf[p], float(post_tf[c]), length, k1, b, avgdl)
                contribution[p] = w
                possible += w * 1.000000001
            r -= 1
        if possible <= threshold:
            continue
        score = 0.0
        for p in range(m):  # question order: the exact sum
            score += contribution[p]
        if score > threshold:
            size = _push(heap_s, heap_d, size, k, score, doc)
            if size == k and heap_s[0] > threshold:
                threshold = heap_s[0]
                while essential < m and prefix[essential] <= threshold:
                    essential += 1
    return _sorted_best(heap_s, heap_d, size)


def top(
    postings: SegmentPostings,
    terms: ScoredTerms,
    bounds: np.ndarray,
    params: BM25Params,
    avgdl: float,
    k: int,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    keep = (terms.local_ids >= 0) & (terms.idf != 0)
    ids = terms.local_ids[keep]
    if not len(ids):
        return np.zeros(0, np.int32), np.zeros(0, np.float64)
    lo = postings.term_docs[ids]
    hi = postings.term_docs[ids + 1]
    idf = terms.idf[keep]
    args = (postings.post_doc, postings.post_tf, postings.doc_len, postings.deleted)
    settings = (params.k1, params.b, avgdl, k, threshold)
    if len(ids) <= MAXSCORE_TERMS:
        return _maxscore(lo, hi, idf, bounds[keep], *args, *settings)
    return _term_at_a_time(lo, hi, idf, *args, *settings)


def warm() -> None:
    """Compile every specialisation once, on a tiny segment (or load it from the cache)."""
    postings = SegmentPostings(
        term_docs=frozen(np.array([0, 2, 3], np.int64)),
        post_doc=frozen(np.array([0, 1, 1], np.int32)),
        post_tf=frozen(np.array([1, 2, 1], np.int32)),
        doc_len=frozen(np.array([3, 4], np.int32)),
        deleted=frozen(np.zeros(2, np.bool_)),
        term_max_tf=frozen(np.array([2, 1], np.int32)),
        term_min_len=frozen(np.array([3, 4], np.int32)),
    )
    terms = ScoredTerms(np.array([0, 1], np.int64), np.array([1.0, 0.5]))
    bounds = np.array([2.0, 1.0])
    top(postings, terms, bounds, BM25Params(), 3.5, 1, 0.0)
    many = ScoredTerms(
        np.zeros(MAXSCORE_TERMS + 1, np.int64), np.ones(MAXSCORE_TERMS + 1, np.float64)
    )
    top(postings, many, np.ones(MAXSCORE_TERMS + 1), BM25Params(), 3.5, 1, 0.0)
