"""The numba build of ``bm25.top`` (imported only by ``bm25.warm_up``; numba is optional).

One compiled call per segment and question. The question's terms are looked up in the
segment's term table, then its posting lists are walked rarest first, term at a time, into a
reused accumulator. Before a long list, if the k-th best partial score already beats every
score a passage not yet seen could reach (the remaining lists' upper bounds), no new passage
can enter the top k: the long lists are then only probed, by binary search, for the passages
already seen that could still make it (Moffat & Zobel's "continue" strategy, made exact with
MaxScore-style bounds). Common words thus cost a few probes instead of their whole list.

Accumulating in that order rounds differently from rank-bm25's question order, so the
survivors within 1e-9 of the k-th partial score are scored again exactly, in question order,
and ranked on those scores: the result is the same, bit for bit, as the numpy kernel's.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bot.search.bm25 import BM25Params, BoundBasis, SegmentPostings, frozen

# Partial sums are float32 (half the memory traffic of float64 at 1M passages: ~2x faster),
# each within (terms + 2) * 2**-24 of the exact sum; questions have at most ~200 terms, so
# these margins cover any rounding. Only the selection uses them: scores are exact.
_LOOSE = 1.0 - 1e-3  # a partial sum may round this much below its exact value
_TIGHT = 1.0 + 1e-3  # and a bound is inflated by this much


@njit(cache=True, nogil=True)
def _weight(idf, tf, norm, k1):
    """rank-bm25's weight; ``norm`` is the passage's k1 * (1 - b + b * length / avgdl)."""
    return idf * (tf * (k1 + 1) / (tf + norm))


@njit(cache=True, nogil=True)
def _find(array, start, end, value):
    """Position of ``value`` in the sorted ``array[start:end]``, or -1."""
    while start < end:
        middle = (start + end) // 2
        if array[middle] < value:
            start = middle + 1
        else:
            end = middle
    return start


@njit(cache=True, nogil=True)
def _kth_largest(values, count, k):
    """The k-th largest of ``values[:count]`` (count >= k), by a size-k min-heap."""
    heap = np.empty(k, np.float64)
    size = 0
    for i in range(count):
        v = values[i]
        if size < k:
            heap[size] = v
            j = size
            size += 1
            while j > 0 and heap[(j - 1) // 2] > heap[j]:
                heap[(j - 1) // 2], heap[j] = heap[j], heap[(j - 1) // 2]
                j = (j - 1) // 2
        elif v > heap[0]:
            heap[0] = v
            j = 0
            while True:
                low, left, right = j, 2 * j + 1, 2 * j + 2
                if left < k and heap[left] < heap[low]:
                    low = left
                if right < k and heap[right] < heap[low]:
                    low = right
                if low == j:
                    break
                heap[j], heap[low] = heap[low], heap[j]
                j = low
    return heap[0]


@njit(cache=True, nogil=True)
def _keep(touched, count, acc, seen, deleted, remaining, kth, floor):
    """Move the passages of ``touched[:count]`` that can still reach the top k (live, and
    their score plus what is left to add reaches the k-th partial score and passes the
    floor) to the front, marked in ``seen``; the others leave the running. Returns how many."""
    limit = max(kth, floor)
    kept = 0
    for i in range(count):
        d = touched[i]
        if not deleted[d] and acc[d] + remaining >= limit:
            touched[kept], touched[i] = d, touched[kept]
            seen[d] = True
            kept += 1
        else:
            seen[d] = False
    return kept


@njit(cache=True, nogil=True)
def _search(
    keys, idf, term_hash, term_docs, post_doc, post_tf, norm, deleted, term_bound, scale, k1, k,
    floor, acc, seen, touched, partial, norm32,
):  # fmt: skip
    m = keys.shape[0]
    lo = np.zeros(m, np.int64)
    hi = np.zeros(m, np.int64)
    bound = np.zeros(m, np.float64)
    negative = False
    n_terms = term_hash.shape[0]
    for p in range(m):
        if idf[p] == 0.0:
            continue
        t = _find(term_hash, 0, n_terms, keys[p])
        if t == n_terms or term_hash[t] != keys[p]:
            continue
        lo[p], hi[p] = term_docs[t], term_docs[t + 1]
        if idf[p] < 0:
            negative = True  # partial sums are then no lower bounds: no pruning
        elif scale > 0:
            bound[p] = idf[p] * term_bound[t] * scale * _TIGHT
        else:  # the stored bounds are for another k1 or b: the tf part is below k1 + 1
            bound[p] = idf[p] * (k1 + 1) * _TIGHT
    order = np.argsort(hi - lo, kind="mergesort")  # rarest first
    remaining = 0.0
    for p in range(m):
        remaining += bound[p]
    count = 0  # passages seen: touched[:count]
    candidates = -1  # once pruning: touched[:candidates] may still make the top k
    attempts = 0
    best = np.float32(np.inf) if negative else np.float32(0.0)  # the highest partial score so far
    for r in range(m):
        p = order[r]
        length = hi[p] - lo[p]
        if length == 0:
            continue
        if (
            candidates < 0
            and not negative
            and count >= k
            and 4 * length > count
            and attempts < 4
            and remaining < best
        ):
            attempts += 1
            n = 0
            for i in range(count):
                d = touched[i]
                if not deleted[d]:
                    partial[n] = acc[d]
                    n += 1
            if n >= k:
                kth = _kth_largest(partial, n, k) * _LOOSE
                if remaining < kth:  # an unseen passage can never reach the top k now
                    candidates = _keep(touched, count, acc, seen, deleted, remaining, kth, floor)
        remaining -= bound[p]
        if candidates < 0:
            if negative:
                for j in range(lo[p], hi[p]):
                    d = post_doc[j]
                    if not seen[d]:
                        seen[d] = True
                        touched[count] = d
                        count += 1
                    acc[d] += _weight(idf[p], post_tf[j], norm[d], k1)
            else:  # weights are positive: an accumulator at 0 is a passage not seen yet
                w32 = np.float32(idf[p])
                kk = np.float32(k1 + 1)
                for j in range(lo[p], hi[p]):
                    d = post_doc[j]
                    touched[count] = d
                    count += acc[d] == 0.0
                    tf = np.float32(post_tf[j])
                    a = acc[d] + w32 * (tf * kk / (tf + norm32[d]))
                    acc[d] = a
                    if a > best:
                        best = a
            continue
        if 16 * candidates < length:  # few passages left in the running: look them up
            for i in range(candidates):
                d = touched[i]
                j = _find(post_doc, lo[p], hi[p], d)
                if j < hi[p] and post_doc[j] == d:
                    acc[d] += np.float32(_weight(idf[p], post_tf[j], norm[d], k1))
        else:  # many: one pass over the list, adding to those still in the running
            w32 = np.float32(idf[p])
            kk = np.float32(k1 + 1)
            for j in range(lo[p], hi[p]):
                d = post_doc[j]
                if seen[d]:
                    tf = np.float32(post_tf[j])
                    acc[d] += w32 * (tf * kk / (tf + norm32[d]))
        if candidates > k:
            for i in range(candidates):
                partial[i] = acc[touched[i]]
            kth = _kth_largest(partial, candidates, k) * _LOOSE
            candidates = _keep(touched, candidates, acc, seen, deleted, remaining, kth, floor)
    pool = count if candidates < 0 else candidates
    # The survivors: live, above the floor, within rounding of the k-th partial score.
    n = 0
    for i in range(pool):
        d = touched[i]
        if not deleted[d] and (negative or acc[d] > floor * _LOOSE):
            partial[n] = acc[d]
            n += 1
    # With a negative idf, float32 partial sums may cancel: every survivor is rescored.
    cut = _kth_largest(partial, n, k) * _LOOSE if n >= k and not negative else -np.inf
    docs = np.empty(n, np.int32)
    scores = np.empty(n, np.float64)
    found = 0
    for i in range(pool):
        d = touched[i]
        if deleted[d] or (not negative and (acc[d] <= floor * _LOOSE or acc[d] < cut)):
            continue
        score = 0.0
        for p in range(m):  # exact: question order, as rank-bm25 sums
            if hi[p] > lo[p]:
                j = _find(post_doc, lo[p], hi[p], d)
                if j < hi[p] and post_doc[j] == d:
                    score += _weight(idf[p], post_tf[j], norm[d], k1)
        if score > floor:
            docs[found], scores[found] = d, score
            found += 1
    for i in range(count):  # leave the scratch arrays clean for the next question
        acc[touched[i]] = 0.0
        seen[touched[i]] = False
    docs, scores = docs[:found], scores[:found]
    by_doc = np.argsort(docs, kind="mergesort")
    docs, scores = docs[by_doc], scores[by_doc]
    best = np.argsort(-scores, kind="mergesort")[:k]  # stable: ties keep passage order
    return docs[best], scores[best]


class _Scratch:
    """Per-thread accumulators sized for one segment, reused across questions."""

    def __init__(self, size: int) -> None:
        self.acc = np.zeros(size, np.float32)
        self.seen = np.zeros(size, np.bool_)
        self.touched = np.zeros(size + 1, np.int32)  # +1: the branchless append writes ahead
        self.partial = np.zeros(size, np.float64)


def top(
    postings: SegmentPostings,
    keys: np.ndarray,
    idf: np.ndarray,
    params: BM25Params,
    avgdl: float,
    k: int,
    threshold: float,
    scratch: _Scratch,
) -> tuple[np.ndarray, np.ndarray]:
    p = postings
    return _search(
        keys, idf, p.term_hash, p.term_docs, p.post_doc, p.post_tf, p.norm, p.deleted,
        p.term_bound, p.basis.scale(params, avgdl), params.k1, k, threshold, scratch.acc,
        scratch.seen, scratch.touched, scratch.partial, p.norm32,
    )  # fmt: skip


def scratch(size: int) -> _Scratch:
    return _Scratch(size)


def warm() -> None:
    """Compile once, on a tiny segment with the real argument types (or load the cache)."""
    postings = SegmentPostings(
        term_hash=frozen(np.array([5, 9], np.uint64)),
        term_docs=frozen(np.array([0, 2, 3], np.int64)),
        post_doc=frozen(np.array([0, 1, 1], np.int32)),
        post_tf=frozen(np.array([1, 2, 1], np.int32)),
        doc_len=frozen(np.array([3, 4], np.int32)),
        norm=frozen(np.array([1.1, 1.3])),
        norm32=frozen(np.array([1.1, 1.3], np.float32)),
        deleted=frozen(np.zeros(2, np.bool_)),
        term_bound=frozen(np.array([1.5, 1.0])),
        basis=BoundBasis(1.2, 0.5, 3.5),
    )
    keys = np.array([5, 9], np.uint64)
    top(postings, keys, np.array([1.0, 0.5]), BM25Params(), 3.5, 1, 0.0, scratch(2))
