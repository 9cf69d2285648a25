"""The numba build of ``bm25.top`` (imported only by ``bm25.warm_up``; numba is optional).

One compiled call per segment and question: MaxScore (Turtle & Flood) in windows of 4,096
passages with block-max bounds, as Lucene's ``MaxScoreBulkScorer`` does. Segments store, for
each long list, where its postings of every window begin and their highest tf part there
(``bm25.window_table``). Per window, the question's lists are split by their bound *in that
window* into *essential* and *non-essential* ones: the non-essential lists' bounds add up to
less than the bar (the k-th best score found so far, or the floor a search of several
segments passes, less the margins below), so a passage found in none of the essential lists
cannot make the top k. The essential lists are added up into a buffer that stays in the CPU's
first cache; then, most valuable first, each non-essential list's part in the window is added
to the passages still in the running (looked up one by one when they are few, in one pass when
they are many), and before each list the passages whose best case falls short leave.

The bar does not start at zero: k live passages hold a list's k-th best part, so that part
times the list's idf is a floor under the k-th best score. Segments store each long list's
parts at a few ranks (``bm25.RANKS``; the one used allows for the segment's deletions) and
the kernel finds a short list's as it walks it: the bench's questions at 100k passages pool
a tenth of what they pooled without it (55 passages on average, not 570). Windows are taken
most promising first (the sum of their lists' bounds there), so the bar rises early; the
scan ends at the first window whose best case is below it. Each window's postings are
prefetched while the one before is scored: a new question finds its lists in main memory,
and the hardware's prefetcher does not hide runs this short.

The selection adds the float32 tf parts stored at indexing time (``post_part``: no per-passage
length is read while selecting), computed with the segment's own average length: today's may
differ, which moves every weight by at most the ratio of the two (``BoundBasis.scales``), and
the selection's margins take that in. Every passage within those margins of the k-th best is
then scored exactly, with the live statistics, in rank-bm25's question order, and ranked on
that score: the result is the same, bit for bit, as the numpy kernel's. Negative idf (tiny
archives) breaks the bounds, and parts stored for another k1 or b mean nothing: ``top`` leaves
those questions to the numpy kernel.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from bot.search.bm25 import (
    RANKS,
    WINDOW,
    BM25Params,
    BoundBasis,
    ScoredTerms,
    SegmentPostings,
    frozen,
    top_numpy,
)

# Selection sums are float32, each within a relative (terms + 3) * 2**-24 of the exact sum of
# the stored parts: these margins cover any question of up to ~5,000 terms (the bar counts
# the rounding on both sides).
_LOOSE = 1.0 - 1e-3  # a selection sum may round this much below its exact value
_TIGHT = 1.0 + 1e-3  # and a bound is inflated by this much
_WINDOW = WINDOW  # passages per window: its float32 buffer fits the first-level cache
# A window's postings are start + (0.._WINDOW-1) in a sound segment. Masked, a damaged window
# table or posting can give a wrong passage, never a write outside the buffer: segments too big
# to checksum at every opening are trusted by their sizes and the table's ends only.
_MASK = _WINDOW - 1
_RANKS = np.array(RANKS, np.int64)
_RESCORE_BLOCK = 64  # passages rescored together (their look-ups' memory stays bounded)


@intrinsic
def _prefetch(typing_context, array, index):
    """Ask the CPU to bring in the cache line of ``array[index]`` (LLVM's ``prefetch``: read,
    keep in every cache level); the loop goes on while it arrives."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        data = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, data, [args[1]])
        byte_pointer, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        prefetch = builder.module.declare_intrinsic(
            "llvm.prefetch",
            [byte_pointer],
            ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
        )
        builder.call(prefetch, [builder.bitcast(pointer, byte_pointer), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


@njit(cache=True, nogil=True)
def _fetch_window(w, lists, n_lists, row, edge, post_doc, post_part):
    """Prefetch every long list's postings in window ``w``, a line (16 postings) at a time.

    Each list's part of a window is a few cache lines, and a new question finds most of them
    in main memory: read in turn, every line is a wait the hardware prefetcher is too slow to
    hide on runs this short. Asked for a window ahead, they arrive together."""
    for q in range(n_lists):
        p = lists[q]
        if row[p] >= 0:
            for j in range(edge[p, w], edge[p, w + 1], 16):
                _prefetch(post_doc, j)
                _prefetch(post_part, j)


@njit(cache=True, nogil=True)
def _weight(idf, tf, norm, k1):
    """rank-bm25's weight; ``norm`` is the passage's k1 * (1 - b + b * length / avgdl)."""
    return idf * (tf * (k1 + 1) / (tf + norm))


@njit(cache=True, nogil=True)
def _live(d, n_docs, any_deleted, deleted):
    """Whether passage ``d`` may score: inside the segment and not deleted (the flags are
    read only when the segment has deletions: each is a cache miss)."""
    return d < n_docs and not (any_deleted and deleted[d])


@njit(cache=True, nogil=True)
def _find(array, start, end, value):
    """First position in the sorted ``array[start:end]`` holding ``value`` or more."""
    while start < end:
        middle = (start + end) // 2
        if array[middle] < value:
            start = middle + 1
        else:
            end = middle
    return start


@njit(cache=True, nogil=True)
def _push(heap, size, k, value):
    """Put ``value`` in a size-k min-heap; returns the heap's new size. Callers test
    ``size < k or value > heap[0]`` first: a call per element costs 30x."""
    if size < k:
        heap[size] = value
        j = size
        size += 1
        while j > 0 and heap[(j - 1) // 2] > heap[j]:
            up = (j - 1) // 2
            heap[up], heap[j] = heap[j], heap[up]
            j = up
        return size
    heap[0] = value
    j = 0
    while True:
        low, left, right = j, 2 * j + 1, 2 * j + 2
        if left < k and heap[left] < heap[low]:
            low = left
        if right < k and heap[right] < heap[low]:
            low = right
        if low == j:
            return size
        heap[j], heap[low] = heap[low], heap[j]
        j = low


@njit(cache=True, nogil=True)
def _guess(key, n):
    """Where a uniform 64-bit key is expected in a sorted table of ``n`` keys."""
    return min(int(float(key) * (n / 18446744073709551616.0)), n - 1)


@njit(cache=True, nogil=True)
def resolve(term_hash, live_df, keys, ids, doc_freq):
    """``bm25.resolve``, into ``ids`` and ``doc_freq`` (results given, not returned: numba
    boxes each array it returns, ~0.35 µs apiece). Keys are uniform 64-bit hashes, so a key's
    place in the sorted table is about key / 2**64 of the way along it: one guess, then
    doubling steps, touches a few cache lines where a binary search touches ~log2(terms)
    (the table is cold for most words of a new question)."""
    n = term_hash.shape[0]
    if n == 0:
        ids[:] = -1
        return
    for i in range(keys.shape[0]):  # every key's first probe at once: they are misses
        _prefetch(term_hash, _guess(keys[i], n))
    for i in range(keys.shape[0]):
        key = keys[i]
        ids[i] = -1
        guess = _guess(key, n)
        if term_hash[guess] < key:  # the key is after the guess
            low, step = guess, 1  # term_hash[low] < key
            while low + step < n and term_hash[low + step] < key:
                low += step
                step *= 2
            t = _find(term_hash, low + 1, min(low + step + 1, n), key)
        else:  # at or before it
            high, step = guess, 1  # term_hash[high] >= key
            while high - step >= 0 and term_hash[high - step] >= key:
                high -= step
                step *= 2
            t = _find(term_hash, max(high - step + 1, 0), high, key)
        if t < n and term_hash[t] == key:
            ids[i] = t
            doc_freq[i] += live_df[t]


@njit(cache=True, nogil=True)
def idf_values(doc_freq, n_docs, mean_idf, epsilon, idf):
    """``bm25.idf_values``, into ``idf``: ``okapi_idf`` and its floor, with the same libm
    ``log``."""
    for i in range(doc_freq.shape[0]):
        df = doc_freq[i]
        idf[i] = 0.0
        if df > 0:
            raw = math.log(n_docs - df + 0.5) - math.log(df + 0.5)
            idf[i] = epsilon * mean_idf if raw < 0 else raw


@njit(cache=True, nogil=True)
def _search(
    terms, idf, term_docs, post_doc, post_tf, post_part, norm, deleted, term_bound,
    term_window, window_post, window_max, rank_part, min_rank, low, high, k1, k, floor,
    buffer, window, pool_doc, pool_score, found_doc, found_score,
):  # fmt: skip
    """Writes the best passages and their scores into ``found_doc`` and ``found_score``
    and returns how many, or -1: the numpy kernel's question. Selection sums are in stored
    units (``post_part``): a passage's live score lies between ``low`` and ``high`` times
    its sum (within rounding)."""
    m = terms.shape[0]
    for p in range(m):
        # Negative (or NaN, from damaged counts): no bounds. Below float32's range: weights
        # the selection cannot see.
        if not idf[p] >= 0 or 0 < idf[p] < 1e-30:
            return -1
    n_docs = norm.shape[0]
    n_windows = (n_docs + _WINDOW - 1) // _WINDOW
    lo = np.zeros(m, np.int64)
    hi = np.zeros(m, np.int64)
    row = np.full(m, -1, np.int64)  # the list's row in the window tables, -1: walked
    # Stored units: the stored parts' highest, times idf, inflated by _TIGHT (float32 parts and
    # idf round above their float64 values by far less).
    bound = np.zeros(m, np.float64)
    lists = np.empty(m, np.int64)  # the question's positions with postings
    n_lists = 0
    # A floor under the k-th best score, before any is found: k live passages hold each list's
    # k-th best part (a long list's stored one, at a rank that allows for every deletion; a
    # short list's found in it), so at least k score that list's weight of it or more.
    column = np.searchsorted(_RANKS, min_rank)  # the long lists' rank to use, if any
    any_deleted = min_rank > k  # (see _live)
    heap = np.empty(k, np.float64)  # the k best selection sums so far (first, a list's parts)
    seed = 0.0
    for p in range(m):  # a new question's words are in main memory: fetch them together
        t = terms[p]
        if t >= 0:
            _prefetch(term_docs, t)
            _prefetch(term_bound, t)
            _prefetch(term_window, t)
    row_posts = window_post.reshape(window_post.size)  # (flat: the prefetch takes one index)
    row_maxes = window_max.reshape(window_max.size)
    for p in range(m):
        t = terms[p]
        if idf[p] == 0.0 or t < 0 or term_docs[t + 1] == term_docs[t]:
            continue
        lo[p], hi[p] = term_docs[t], term_docs[t + 1]
        bound[p] = idf[p] * term_bound[t] * _TIGHT
        row[p] = r = term_window[t]
        lists[n_lists] = p
        n_lists += 1
        if r >= 0:  # its window table rows, for the edges below
            for i in range(0, n_windows + 1, 16):
                _prefetch(row_posts, r * (n_windows + 1) + i)
                _prefetch(row_maxes, r * n_windows + i)
            if column < _RANKS.shape[0]:
                seed = max(seed, idf[p] * rank_part[r, column])
        elif hi[p] - lo[p] >= k:
            size = 0
            for j in range(lo[p], hi[p]):
                d = post_doc[j]
                if _live(d, n_docs, any_deleted, deleted) and (size < k or post_part[j] > heap[0]):
                    size = _push(heap, size, k, post_part[j])
            if size == k:
                seed = max(seed, idf[p] * heap[0])
    # Each list's postings in window w are edge[p, w]:edge[p, w + 1], from its window table
    # (clamped: a damaged table must not lead outside the list) or, for a short list, walked
    # once; window_bound[p, w] is its bound there (0: none). Windows are scored most promising
    # first: the bar rises sooner (a question's rare word lifts the few windows that hold it),
    # and once a window's best case is below the bar, so is every later one's.
    edge = np.zeros((m, n_windows + 1), np.int64)
    window_bound = np.zeros((m, n_windows), np.float64)
    best_case = np.zeros(n_windows, np.float64)
    for q in range(n_lists):
        p = lists[q]
        r = row[p]
        j = edge[p, 0] = lo[p]
        for w in range(n_windows):
            if r >= 0:
                j = max(j, min(lo[p] + window_post[r, w + 1], hi[p]))
            else:
                while j < hi[p] and post_doc[j] < (w + 1) * _WINDOW:
                    j += 1
            edge[p, w + 1] = j
            if j > edge[p, w]:
                window_bound[p, w] = idf[p] * window_max[r, w] * _TIGHT if r >= 0 else bound[p]
                best_case[w] += window_bound[p, w]
    by_promise = np.argsort(-best_case, kind="mergesort")
    local = np.zeros(m, np.float64)  # each list's bound in the window
    order = np.empty(m, np.int64)  # the window's lists by local bound, lowest first
    below = np.zeros(m + 1, np.float64)  # below[i]: the local bounds of order[:i] added up
    size = 0
    pooled = 0  # passages that came through their window's filters: the bar rises later
    # A passage whose best case is below the bar cannot make the top k (it has to beat the
    # floor, and the k-th best sum, drifted down as far as it may be): in stored units.
    bar = max(floor / high, seed * (low / high)) * _LOOSE
    if n_windows:
        _fetch_window(by_promise[0], lists, n_lists, row, edge, post_doc, post_part)
    for next_window in range(1, n_windows + 1):
        w = by_promise[next_window - 1]
        if best_case[w] < bar:
            break  # no passage of this window or any later one can make the top k
        start = w * _WINDOW
        if next_window < n_windows:
            w_next = by_promise[next_window]
            _fetch_window(w_next, lists, n_lists, row, edge, post_doc, post_part)
        n_in = 0
        for q in range(n_lists):
            p = lists[q]
            if edge[p, w + 1] > edge[p, w]:
                weight = local[p] = window_bound[p, w]
                i = n_in
                while i > 0 and local[order[i - 1]] > weight:
                    order[i] = order[i - 1]
                    i -= 1
                order[i] = p
                n_in += 1
        if n_in == 0:
            continue
        for i in range(n_in):
            below[i + 1] = below[i] + local[order[i]]
        if below[n_in] < bar:
            continue  # no passage of the window can make the top k
        essential = 0  # order[essential:n_in] are essential: the others cannot reach the bar
        while below[essential + 1] < bar:
            essential += 1
        count = 0  # passages of the window in the running: window[:count]
        for i in range(essential, n_in):
            p = order[i]
            w32 = np.float32(idf[p])
            for j in range(edge[p, w], edge[p, w + 1]):
                x = (post_doc[j] - start) & _MASK  # (see _MASK)
                window[count] = x
                count += buffer[x] == 0.0
                buffer[x] += w32 * post_part[j]
        # The non-essential lists, most valuable first; before each, the passages whose best
        # case falls short leave the running. Branch-free: whether a passage stays is data,
        # and mispredicted branches cost more than the stores.
        for i in range(essential - 1, -1, -1):
            kept = 0
            need = bar - below[i + 1]  # with the bounds of order[:i + 1] still to come
            for n in range(count):
                x = window[n]
                value = buffer[x]
                keep = value >= need
                window[kept] = x
                kept += keep
                buffer[x] = value if keep else np.float32(0.0)
            count = kept
            if count == 0:
                break
            p = order[i]
            a, b = edge[p, w], edge[p, w + 1]
            w32 = np.float32(idf[p])
            # Few in the running: look each up. A look-up is a few cache misses where one pass
            # streams the list: so only when they are very few.
            if 32 * count < b - a:
                for n in range(count):
                    x = window[n]
                    j = _find(post_doc, a, b, start + x)
                    if j < b and post_doc[j] == start + x:
                        buffer[x] += w32 * post_part[j]
            else:  # many: one pass over the window's part of the list
                for j in range(a, b):
                    x = (post_doc[j] - start) & _MASK
                    value = buffer[x]
                    buffer[x] = value + (w32 * post_part[j] if value != 0.0 else np.float32(0.0))
        for n in range(count):  # the pool: those that reach the bar, deleted ones left out
            x = window[n]
            score = buffer[x]
            buffer[x] = 0.0
            d = start + x
            if score < bar or not _live(d, n_docs, any_deleted, deleted):
                continue
            _prefetch(norm, d)  # for the rescoring: a miss each, taken while the scan goes on
            pool_doc[pooled], pool_score[pooled] = d, score
            pooled += 1
            if size < k or score > heap[0]:
                size = _push(heap, size, k, score)
                if size == k:
                    bar = max(bar, heap[0] * (low / high) * _LOOSE)
    # Within rounding and drift of the k-th best: scored exactly, in question order. A block
    # of them at a time: first every posting's place (their lists' windows were just read),
    # asking for its tf, then the scores, once the misses have arrived together.
    docs = np.empty(pooled, np.int32)
    scores = np.empty(pooled, np.float64)
    at = np.empty((_RESCORE_BLOCK, m), np.int64)  # -1: the passage lacks the term
    found = 0
    i = 0
    while i < pooled:
        base, block = found, 0  # the block is docs[base:base + block]; kept ones move down
        while i < pooled and block < _RESCORE_BLOCK:
            if pool_score[i] >= bar:
                d = docs[base + block] = pool_doc[i]
                w = d // _WINDOW
                for p in range(m):
                    j = _find(post_doc, edge[p, w], edge[p, w + 1], d)
                    if j < edge[p, w + 1] and post_doc[j] == d:
                        at[block, p] = j
                        _prefetch(post_tf, j)
                    else:
                        at[block, p] = -1
                block += 1
            i += 1
        for n in range(block):
            d = docs[base + n]
            score = 0.0
            for p in range(m):
                j = at[n, p]
                if j >= 0:
                    score += _weight(idf[p], post_tf[j], norm[d], k1)
            if score > floor:
                docs[found], scores[found] = d, score
                found += 1
    docs, scores = docs[:found], scores[:found]
    by_doc = np.argsort(docs, kind="mergesort")
    docs, scores = docs[by_doc], scores[by_doc]
    best = np.argsort(-scores, kind="mergesort")[:k]  # stable: ties keep passage order
    for i in range(best.shape[0]):
        found_doc[i], found_score[i] = docs[best[i]], scores[best[i]]
    return best.shape[0]


class _Scratch:
    """Per-thread buffers for one segment size, reused across questions."""

    def __init__(self, size: int) -> None:
        self.buffer = np.zeros(_WINDOW, np.float32)  # always left all zero
        self.window = np.zeros(_WINDOW + 1, np.int32)  # +1: the branchless append writes ahead
        self.pool_doc = np.zeros(size, np.int32)
        self.pool_score = np.zeros(size, np.float32)
        self.found_doc = np.zeros(0, np.int32)  # the results, best first
        self.found_score = np.zeros(0, np.float64)

    def results(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Room for k results (grown when a question asks for more than any before)."""
        if len(self.found_doc) < k:
            self.found_doc = np.zeros(max(k, 128), np.int32)
            self.found_score = np.zeros(max(k, 128), np.float64)
        return self.found_doc, self.found_score


def top(
    postings: SegmentPostings,
    terms: ScoredTerms,
    params: BM25Params,
    k: int,
    threshold: float,
    scratch: _Scratch,
) -> tuple[list[int], list[float]]:
    p = postings
    low, high = p.drift
    k = min(k, len(p.doc_len))  # the kernel allocates k: a huge k asks for no more than all
    if k == 0:
        return [], []
    if high > 0:  # else the stored parts are for another k1 or b (or an unknown average)
        found_doc, found_score = scratch.results(k)
        found = _search(
            terms.local_ids, terms.idf, p.term_docs, p.post_doc, p.post_tf, p.post_part, p.norm,
            p.deleted, p.term_bound, p.term_window, p.window_post, p.window_max, p.rank_part,
            k + p.deleted_count, low, high, params.k1, k, threshold, scratch.buffer,
            scratch.window, scratch.pool_doc, scratch.pool_score, found_doc, found_score,
        )  # fmt: skip
        if found >= 0:
            return found_doc[:found].tolist(), found_score[:found].tolist()
    return top_numpy(p, terms, params, k, threshold)


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
        post_part=frozen(np.array([1.0, 1.2, 0.9], np.float32)),
        norm=frozen(np.array([1.1, 1.3])),
        deleted=frozen(np.zeros(2, np.bool_)),
        term_bound=frozen(np.array([1.5, 1.0])),
        term_window=frozen(np.array([0, -1], np.int32)),  # a table row and a walked list
        window_post=frozen(np.array([[0, 2]], np.int32)),
        window_max=frozen(np.array([[1.2]], np.float32)),
        rank_part=frozen(np.zeros((1, len(RANKS)), np.float32)),
        deleted_count=0,
        drift=BoundBasis(1.2, 0.5, 3.5).scales(BM25Params(), 3.5),
    )
    keys = np.array([5, 9, 7], np.uint64)
    ids, doc_freq, idf = np.zeros(3, np.int64), np.zeros(3, np.int64), np.zeros(3, np.float64)
    resolve(postings.term_hash, frozen(np.array([2, 1], np.int64)), keys, ids, doc_freq)
    idf_values(doc_freq, 2, 0.1, BM25Params().epsilon, idf)
    top(postings, ScoredTerms(ids, idf), BM25Params(), 1, 0.0, scratch(2))
