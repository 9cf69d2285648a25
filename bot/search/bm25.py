"""BM25Okapi with rank-bm25's arithmetic, computed at query time: every postings walk is here.

Segments store term frequencies and passage lengths, never final weights, so that adding or
deleting a passage never rewrites old postings (Lucene's ``BM25Similarity`` works the same
way). A question's weights come from the live archive's statistics at the moment it is asked:
passage count N, average length and each term's document frequency over the live passages.

Per (term, passage) the weight is rank-bm25's expression, with the same float64 operations in
the same order::

    idf * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avgdl)))

and a passage's score is the sum of its terms' weights in question order, as rank-bm25's
``get_scores`` accumulates. So scores equal ``BM25Okapi(live passages).get_scores(question)``:
bit for bit where idf is positive; within 1e-12 where the epsilon floor applies, because
rank-bm25 averages idf in its dicts' insertion order, which no incremental index can keep.

Two kernels select the top k, with identical results (tested):

* ``numpy``: exhaustive term-at-a-time accumulation into a scratch array, then selection among
  the touched passages only. Needs nothing but numpy; used until numba is warmed up.
* ``numba`` (``_kernel_numba``): MaxScore, compiled: passages are selected on the tf parts
  stored at indexing time, with upper bounds per term and per window of passages
  (``window_table``) that let the lists of common words be probed instead of walked. Exact:
  bounds are never below a real weight, the selection's margins cover the stored parts'
  drift from the live average length, survivors are scored again with the live statistics
  in question order, and ties keep going to the earlier passage.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BM25Params:
    """rank-bm25's BM25Okapi settings. Defaults: best on SciFact's train queries
    (``benchmarks/tune_scifact.py``); rank-bm25's own defaults are k1=1.5, b=0.75."""

    k1: float = 1.2
    b: float = 0.5
    epsilon: float = 0.25

    def __post_init__(self) -> None:
        # b > 1 makes short passages' norms negative, and the kernels' bounds assume a tf part
        # that grows with tf and with the average length: BM25 is defined for these ranges.
        if not (self.k1 >= 0 and 0 <= self.b <= 1 and self.epsilon >= 0):
            raise ValueError(f"BM25 needs k1 >= 0, 0 <= b <= 1 and epsilon >= 0: {self}")


def length_norms(doc_len: np.ndarray, params: BM25Params, avgdl: float) -> np.ndarray:
    """k1 * (1 - b + b * length / avgdl) per passage, as rank-bm25 computes it (same order of
    operations, so the weights stay rank-bm25's to the bit); once per served index."""
    return params.k1 * (1 - params.b + params.b * np.asarray(doc_len, np.float64) / avgdl)


def okapi_idf(doc_freq: int, n_docs: int) -> float:
    """rank-bm25's raw idf (before the epsilon floor), with ``math.log`` as it uses."""
    return math.log(n_docs - doc_freq + 0.5) - math.log(doc_freq + 0.5)


def average_idf(doc_freq: np.ndarray, n_docs: int) -> float:
    """Mean raw idf over every term with a live passage (rank-bm25's ``average_idf``)."""
    if not len(doc_freq):
        return 0.0
    df = doc_freq.astype(np.float64)
    return float(np.sum(np.log(n_docs - df + 0.5) - np.log(df + 0.5))) / len(df)


def floored_idf(doc_freq: int, n_docs: int, mean_idf: float, params: BM25Params) -> float:
    """rank-bm25's idf: negative values (terms in more than half the passages) become
    ``epsilon * average_idf``."""
    idf = okapi_idf(doc_freq, n_docs)
    return params.epsilon * mean_idf if idf < 0 else idf


@dataclass(frozen=True, slots=True)
class BoundBasis:
    """What a segment's ``term_bound`` and ``post_part`` were computed with."""

    k1: float
    b: float
    avgdl: float

    def scales(self, params: BM25Params, avgdl: float) -> tuple[float, float]:
        """How far a stored tf part may be from the one valid now: (low, high) factors, or
        (0, 0) if the stored parts are for another k1 or b.

        The tf part tf*(k1+1)/(tf + k1*(1-b) + (k1*b/avgdl)*len) grows with avgdl, by at most
        the ratio of the averages: so a part computed at average length a0 is, now, between
        min(1, avgdl/a0) and max(1, avgdl/a0) times what it was, whatever the archive became
        since (with the same k1 and b)."""
        if (params.k1, params.b) != (self.k1, self.b) or self.avgdl <= 0:
            return 0.0, 0.0
        ratio = avgdl / self.avgdl
        return min(1.0, ratio), max(1.0, ratio)


# Passages per window of the numba kernel. Segments store, for each long list, where its
# postings of every window begin and their highest tf part (``window_table``).
WINDOW = 4096
# Ranks at which a long list's stored parts are kept (``window_table``'s ``rank_part``): the
# k-th best part of one list, times its idf, is a floor under the k-th best score, so a
# question starts with a bar instead of none (the bench asks for 10, answers for 100).
RANKS = (10, 20, 50, 100, 200, 500, 1000, 2000)


def window_table(
    term_docs: np.ndarray, post_doc: np.ndarray, part: np.ndarray, n_docs: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(term_window, window_post, window_max, rank_part)`` for term-major postings: lists
    of at least ``max(32, windows)`` postings get a row (``term_window[t]``, else -1); row r's
    postings in window w are ``term_docs[t] + window_post[r, w]`` up to
    ``window_post[r, w + 1]`` and their highest stored part is ``window_max[r, w]`` (0 when
    there are none); ``rank_part[r, i]`` is the list's ``RANKS[i]``-th highest stored part (0
    when it is shorter). Shorter lists are walked: they are read in a few cache lines. One
    search and one partition per long list, so that a merge of a million passages needs no
    per-posting temporaries."""
    n_win = max(1, -(-n_docs // WINDOW))
    lengths = np.diff(term_docs)
    long = np.flatnonzero(lengths >= max(32, n_win))
    term_window = np.full(len(lengths), -1, np.int32)
    term_window[long] = np.arange(len(long), dtype=np.int32)
    window_post = np.zeros((len(long), n_win + 1), np.int32)
    window_max = np.zeros((len(long), n_win), np.float32)
    rank_part = np.zeros((len(long), len(RANKS)), np.float32)
    edges = np.arange(n_win + 1, dtype=np.int64) * WINDOW
    ranks = np.array(RANKS)
    for r, t in enumerate(long.tolist()):
        lo, hi = int(term_docs[t]), int(term_docs[t + 1])
        window_post[r] = positions = np.searchsorted(post_doc[lo:hi], edges)
        filled = positions[1:] > positions[:-1]
        window_max[r, filled] = np.maximum.reduceat(part[lo:hi], positions[:-1][filled])
        held = ranks <= hi - lo
        at = (hi - lo) - ranks[held]  # in ascending order, the i-th highest is at n - i
        rank_part[r, held] = np.partition(part[lo:hi], at)[at]
    return term_window, window_post, window_max, rank_part


@dataclass(slots=True)
class SegmentPostings:
    """What a kernel reads of one segment: term-major postings and per-passage lengths."""

    term_hash: np.ndarray  # uint64 term keys, ascending (a term's id is its position)
    term_docs: np.ndarray  # int64 [terms + 1]: term t's postings are term_docs[t]:term_docs[t+1]
    post_doc: np.ndarray  # int32 passage numbers, ascending within a term
    post_tf: np.ndarray  # int32 term frequency in that passage
    doc_len: np.ndarray  # int32 passage length in terms
    post_part: np.ndarray  # float32 the posting's tf part of its weight, at the basis's avgdl
    norm: np.ndarray  # float64 k1 * (1 - b + b * length / avgdl): the live archive's, per passage
    deleted: np.ndarray  # bool per passage: deleted passages never score
    term_bound: np.ndarray  # float64 per term: highest tf part of its weight (see basis)
    term_window: np.ndarray  # int32 per term: its row in the window tables, -1 (see window_table)
    window_post: np.ndarray  # int32 [rows, windows + 1]
    window_max: np.ndarray  # float32 [rows, windows]
    rank_part: np.ndarray  # float32 [rows, len(RANKS)]
    deleted_count: int  # deleted passages: the ranks a floor may use must allow for them
    # How far the stored parts may be from the live ones: ``BoundBasis.scales`` for the
    # settings and average length ``norm`` was computed with
    drift: tuple[float, float]


def frozen(array: np.ndarray) -> np.ndarray:
    """A read-only plain-ndarray view: kernels then always see one array type (numba compiles
    one specialisation per type: memory maps, writable and read-only arrays would be three)."""
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view


@dataclass(slots=True)
class ScoredTerms:
    """A question's terms as one segment sees them: one entry per question position (made for
    each segment a question searches: not frozen, which costs 0.3 µs more)."""

    local_ids: np.ndarray  # int64 term id in the segment, or -1 if the segment lacks it
    idf: np.ndarray  # float64 live-archive idf (epsilon floor applied)


# --- numpy ------------------------------------------------------------------------------------

_scratch = threading.local()  # per-thread accumulators, reused across questions


def _scratch_for(size: int, make: Callable[[int], object]) -> object:
    buffers: dict[tuple[int, object], object] = getattr(_scratch, "buffers", None) or {}
    _scratch.buffers = buffers
    buffer = buffers.get((size, make))
    if buffer is None:
        # Segments come and go with merges; an index has a few dozen at most (the merge
        # policy's), and each size needs its own: fewer would reallocate on every question.
        if len(buffers) > 64:
            buffers.clear()
        buffer = buffers[size, make] = make(size)
    return buffer


def _zeros(size: int) -> np.ndarray:
    return np.zeros(size, np.float64)


def local_ids(term_hash: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Each key's term id in a segment's ascending ``term_hash``, or -1 (int64)."""
    if not len(term_hash):
        return np.full(len(keys), -1, np.int64)
    position = np.minimum(np.searchsorted(term_hash, keys), len(term_hash) - 1)
    return np.where(term_hash[position] == keys, position, -1).astype(np.int64)


def resolve(
    term_hash: np.ndarray, live_df: np.ndarray, keys: np.ndarray, doc_freq: np.ndarray
) -> np.ndarray:
    """Each key's term id in a segment (int64, -1: absent), adding its live document frequency
    there to ``doc_freq`` (int64): what a question needs of each segment, found once."""
    ids = np.empty(len(keys), np.int64)
    kernel = _numba
    if kernel is not None:
        kernel.resolve(term_hash, live_df, keys, ids, doc_freq)
        return ids
    ids[:] = local_ids(term_hash, keys)
    if len(live_df):  # (a segment without terms has nothing to find)
        doc_freq += np.where(ids >= 0, live_df[ids], 0)
    return ids


def idf_values(
    doc_freq: np.ndarray, n_docs: int, mean_idf: float, params: BM25Params
) -> np.ndarray:
    """``floored_idf`` of each document frequency, 0 where it is 0 (float64, the same bits)."""
    kernel = _numba
    if kernel is not None:
        idf = np.empty(len(doc_freq), np.float64)
        kernel.idf_values(doc_freq, n_docs, mean_idf, params.epsilon, idf)
        return idf
    return np.array(
        [floored_idf(df, n_docs, mean_idf, params) if df else 0.0 for df in doc_freq.tolist()],
        np.float64,
    )


def top_numpy(
    postings: SegmentPostings,
    terms: ScoredTerms,
    params: BM25Params,
    k: int,
    threshold: float,
) -> tuple[list[int], list[float]]:
    """Best ``k`` live passages scoring above ``threshold``, best first (ties: lower number)."""
    scores = _scratch_for(len(postings.doc_len), _zeros)
    touched = []
    k1 = params.k1
    for t, idf in zip(terms.local_ids.tolist(), terms.idf.tolist(), strict=True):
        if t < 0 or idf == 0.0:
            continue
        lo, hi = int(postings.term_docs[t]), int(postings.term_docs[t + 1])
        docs = postings.post_doc[lo:hi]
        tf = postings.post_tf[lo:hi].astype(np.float64)
        scores[docs] += idf * (tf * (k1 + 1) / (tf + postings.norm[docs]))
        touched.append(docs)
    if not touched:
        return [], []
    candidates = np.concatenate(touched) if len(touched) > 1 else touched[0]
    if len(touched) > 1:
        candidates = np.sort(candidates)  # np.unique is ~40x slower than sort + mask here
        candidates = candidates[np.r_[True, candidates[1:] != candidates[:-1]]]
    found = scores[candidates]
    scores[candidates] = 0.0
    keep = (found > threshold) & ~postings.deleted[candidates]
    candidates, found = candidates[keep], found[keep]
    if len(candidates) > k:
        kth = found[np.argpartition(-found, k - 1)[k - 1]]
        keep = found >= kth  # every tie with the k-th, so that ties resolve by number
        candidates, found = candidates[keep], found[keep]
    order = np.lexsort((candidates, -found))[:k]
    return candidates[order].tolist(), found[order].tolist()


# --- numba ------------------------------------------------------------------------------------

_numba = None  # the compiled kernel's module once warm_up() has run
_warm_lock = threading.Lock()


def warm_up() -> bool:
    """Compile (or load from numba's cache) the numba kernel; True if it is in use now.

    Importing numba and loading the kernel takes ~0.3-0.5 s, more than a one-off question on a
    small archive costs with numpy: long-running processes (the bot, benchmarks) call this
    once, in the background; until it returns, questions use the numpy kernel.
    """
    global _numba
    with _warm_lock:
        if _numba is None:
            try:
                from bot.search import _kernel_numba
            except ImportError as error:
                log.info("numba unavailable (%s): the numpy kernel serves questions", error)
                return False
            _kernel_numba.warm()
            _numba = _kernel_numba
        return True


def kernel_name() -> str:
    return "numba" if _numba is not None else "numpy"


def use_numpy() -> None:
    """Serve questions with the numpy kernel (tests compare both)."""
    global _numba
    _numba = None


def top(
    postings: SegmentPostings,
    terms: ScoredTerms,
    params: BM25Params,
    k: int,
    threshold: float = 0.0,
) -> tuple[list[int], list[float]]:
    """Best ``k`` live passages of one segment with a score above ``threshold``, best first,
    ties to the lower passage number: ``(passages, scores)``. ``terms`` are the
    question's, in question order: term ids in this segment (``resolve``) and live idf."""
    if k <= 0:
        return [], []
    kernel = _numba
    if kernel is None:
        return top_numpy(postings, terms, params, k, threshold)
    scratch = _scratch_for(len(postings.doc_len), kernel.scratch)
    return kernel.top(postings, terms, params, k, threshold, scratch)
