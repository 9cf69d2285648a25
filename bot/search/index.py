"""The served index: one committed generation's segments, read-only and safe to share.

A :class:`SearchIndex` never changes: a commit builds a new one and the manager swaps the
reference, so a question started on the old index finishes on it. Passages are addressed by
:class:`PassageRef` (the segment's place in this index, the passage's number in the segment);
their order, segment by segment, is the archive's passage order, which breaks score ties.

The answer path reads what indexing stored (sentences, token spans, term keys) through
:meth:`SearchIndex.detail`: nothing is split, analysed or decoded twice. Terms are identified
across segments by their 64-bit key (``segment.term_hash``); a question is turned into keys and
idf once (:meth:`SearchIndex.query`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bot.articles.model import Article, SkippedFile
from bot.search import bm25
from bot.search.bm25 import BM25Params
from bot.search.generation import Generation, LiveSegment, load_array, open_live
from bot.search.segment import SegmentArrays, term_hash, term_hashes
from bot.text.passages import PassageRules


class PassageRef(NamedTuple):
    segment: int  # position of the segment in this index
    doc: int  # passage number within the segment


class Hit(NamedTuple):
    ref: PassageRef
    score: float


@dataclass(slots=True)
class Query:
    """A question's terms as one index sees them (question order, repeats kept). Treated as
    immutable; not declared frozen, whose ``__init__`` costs 0.5 µs more (1% of a question)."""

    terms: tuple[str, ...]
    keys: np.ndarray  # uint64 term keys
    doc_freq: np.ndarray  # int64 live passages holding the term (0: not in the archive)
    idf: np.ndarray  # float64 rank-bm25 idf (0 where the term is absent)
    # Per segment of ``index``: each term's id there (int64, -1: absent). Another index's
    # segments number their terms differently: it finds them again.
    local_ids: tuple[np.ndarray, ...] = field(default=(), repr=False, compare=False)
    index: object = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Passage:
    """One passage with its article, ready for quoting and citing."""

    ref: PassageRef
    article: Article
    paragraph: int
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.article.text[self.start : self.end]


@dataclass(frozen=True, slots=True)
class FollowingSentence:
    """The first sentence of the paragraph after a passage's: where it ends, its tokens' keys
    and spans, and where that paragraph ends."""

    end: int
    token_keys: np.ndarray  # uint64
    token_spans: np.ndarray  # int32 [x, 2]
    paragraph_end: int


@dataclass(frozen=True, slots=True)
class PassageDetail:
    """What quoting needs of a passage: the sentences of its paragraph and their terms.

    ``sentences[i]`` is ``(start, end)`` in the article text; the passage's own sentences are
    ``first`` up to ``last`` (exclusive). The tokens of sentence ``i`` are
    ``token_keys[sentence_tokens[i]:sentence_tokens[i+1]]``, with their text spans.
    :meth:`following` is the first sentence of the next paragraph, which a short quote ending
    its paragraph may take: built only when asked, since few quotes need it.
    """

    passage: Passage
    title_keys: np.ndarray  # uint64 term keys of the article's title
    sentences: np.ndarray  # int32 [n, 2]
    first: int
    last: int
    sentence_tokens: np.ndarray  # int64 [n + 1]
    token_keys: np.ndarray  # uint64
    token_spans: np.ndarray  # int32 [x, 2]
    arrays: SegmentArrays | None = None  # the segment's, for :meth:`following`
    next_sentence: int = -1  # the segment's number of that sentence; -1: none
    article_end: int = 0  # the segment's number of the article's last sentence, plus one

    def following(self) -> FollowingSentence | None:
        a, n = self.arrays, self.next_sentence
        if a is None or n < 0:
            return None
        t_lo, t_hi = int(a.sent_tokens[n]), int(a.sent_tokens[n + 1])
        paragraph = a.sent_para[n : self.article_end]
        paragraph_end = n + int(np.searchsorted(paragraph, paragraph[0], "right"))
        return FollowingSentence(
            int(a.sent_end[n]),
            a.term_hash[a.tok_term[t_lo:t_hi]],
            np.stack((a.tok_start[t_lo:t_hi], a.tok_end[t_lo:t_hi]), axis=1),
            int(a.sent_end[paragraph_end - 1]),
        )

    def keys(self) -> np.ndarray:
        """Term keys of the passage itself, title included (what BM25 scored)."""
        lo, hi = self.sentence_tokens[self.first], self.sentence_tokens[self.last]
        return np.concatenate((self.title_keys, self.token_keys[lo:hi]))


@dataclass(slots=True)
class SearchIndex:
    generation: Generation
    segments: list[LiveSegment]
    terms: np.ndarray  # uint64 keys of every live term, ascending (the generation's)
    doc_freq: np.ndarray  # int64 their live document frequencies
    params: BM25Params = BM25Params()
    rules: PassageRules = PassageRules()
    skipped: list[SkippedFile] = field(default_factory=list)
    _postings: list[bm25.SegmentPostings] = field(init=False)
    _live_df: list[np.ndarray] = field(init=False)
    # term -> (key, live doc freq, idf, its id in each segment), for ``query(remember=True)``:
    # topic matching repeats its words, and this index's statistics never change
    _terms_seen: dict[str, tuple[int, int, float, tuple[int, ...]]] = field(
        init=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        avgdl = self.generation.avgdl
        self._postings = [s.segment.postings(s.deleted, self.params, avgdl) for s in self.segments]
        self._live_df = [bm25.frozen(np.asarray(s.live_df, np.int64)) for s in self.segments]

    @classmethod
    def open(
        cls,
        root: Path,
        generation: Generation,
        params: BM25Params = BM25Params(),
        rules: PassageRules = PassageRules(),
        skipped: list[SkippedFile] | None = None,
        reuse: Sequence[LiveSegment] = (),
    ) -> SearchIndex:
        """The index of a committed ``generation`` under ``root``; segments already open in
        ``reuse`` (the previous index) are shared, not mapped again."""
        opened = {live.segment.name: live.segment for live in reuse}
        return cls(
            generation,
            [open_live(root, state, opened.get(state.name)) for state in generation.segments],
            load_array(root, generation.terms),
            load_array(root, generation.doc_freq),
            params,
            rules,
            skipped or [],
        )

    # -- figures ----------------------------------------------------------------------------

    def __len__(self) -> int:
        """Live passages."""
        return self.generation.docs

    @property
    def article_count(self) -> int:
        return self.generation.articles

    @property
    def built_at(self) -> float:
        return self.generation.committed_at

    @property
    def average_idf(self) -> float:
        return self.generation.average_idf

    @property
    def languages(self) -> frozenset[str]:
        """Language codes of the archive's articles ("" for unknown); deletions not
        subtracted until segments merge: a superset, which is what question analysis needs."""
        return frozenset(
            code for live in self.segments for code in live.segment.info.get("languages", {})
        )

    # -- questions --------------------------------------------------------------------------

    def preload(self) -> None:
        """Map in what questions read of every segment (``Segment.preload``)."""
        for live in self.segments:
            live.segment.preload()

    def query(self, terms: Sequence[str], remember: bool = False) -> Query:
        """The terms' keys, live document frequencies and idf, and their ids in each segment:
        one search of each segment's term table (``bm25.resolve``). ``remember``: memoise
        each term (topic matching asks the same words of every new article); a question's
        words are mostly new, and memoising them costs it more than it saves."""
        known = self._terms_seen
        rows = [known.get(t) for t in terms] if remember else [None]
        if rows and None not in rows:  # rows held here: another thread may clear the memo
            return Query(
                tuple(terms),
                np.array([r[0] for r in rows], np.uint64),
                np.array([r[1] for r in rows], np.int64),
                np.array([r[2] for r in rows], np.float64),
                tuple(
                    np.array([r[3][s] for r in rows], np.int64) for s in range(len(self._live_df))
                ),
                self,
            )
        keys = term_hashes(list(terms))
        local_ids, doc_freq = self._resolve(keys)
        n, mean = self.generation.docs, self.generation.average_idf
        idf = bm25.idf_values(doc_freq, n, mean, self.params)
        if remember:
            if len(known) > 200_000:
                known.clear()
            ids = zip(*(i.tolist() for i in local_ids), strict=True) if local_ids else repeat(())
            for row in zip(
                terms, keys.tolist(), doc_freq.tolist(), idf.tolist(), ids, strict=False
            ):
                known[row[0]] = row[1:]
        return Query(tuple(terms), keys, doc_freq, idf, local_ids, self)

    def _resolve(self, keys: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        doc_freq = np.zeros(len(keys), np.int64)  # summed over the segments
        local_ids = tuple(
            bm25.resolve(postings.term_hash, live_df, keys, doc_freq)
            for postings, live_df in zip(self._postings, self._live_df, strict=True)
        )
        return local_ids, doc_freq

    def idf(self, term: str) -> float | None:
        """The term's idf in the live archive, None if no live passage holds it."""
        query = self.query([term])
        return float(query.idf[0]) if query.doc_freq[0] else None

    def search(self, query: Query | Sequence[str], k: int) -> list[Hit]:
        """Top ``k`` live passages, best first, ties to the earlier passage."""
        if not isinstance(query, Query):
            query = self.query(query)
        if k <= 0 or not len(query.keys):  # (no known term: the kernels find nothing fast)
            return []
        local_ids = query.local_ids if query.index is self else self._resolve(query.keys)[0]
        if len(self._postings) == 1:  # the common case after merges: no merging of lists
            terms = bm25.ScoredTerms(local_ids[0], query.idf)
            docs, scores = bm25.top(self._postings[0], terms, self.params, k, 0.0)
            # _make (tuple.__new__) skips the NamedTuples' Python-level __new__, and map runs
            # the loop in C: 10 hits cost a third less than a comprehension of tuple.__new__.
            refs = map(PassageRef._make, zip(repeat(0), docs, strict=False))
            return list(map(Hit._make, zip(refs, scores, strict=True)))
        best: list[tuple[float, int, int]] = []  # (score, segment, doc)
        for position, postings in enumerate(self._postings):
            threshold = best[-1][0] if len(best) == k else 0.0
            terms = bm25.ScoredTerms(local_ids[position], query.idf)
            docs, scores = bm25.top(postings, terms, self.params, k, threshold)
            if docs:
                found = zip(scores, [position] * len(docs), docs, strict=True)
                best = sorted([*best, *found], key=lambda h: (-h[0], h[1], h[2]))[:k]
        return [Hit(PassageRef(s, d), score) for score, s, d in best]

    # -- passages ---------------------------------------------------------------------------

    def passage(self, ref: PassageRef) -> Passage:
        segment = self.segments[ref.segment].segment
        a = segment.arrays
        first, last = int(a.doc_first[ref.doc]), int(a.doc_last[ref.doc])
        return Passage(
            ref,
            segment.article(int(a.doc_art[ref.doc])),
            int(a.sent_para[first]),
            int(a.sent_start[first]),
            int(a.sent_end[last - 1]),
        )

    def detail(self, ref: PassageRef) -> PassageDetail:
        segment = self.segments[ref.segment].segment
        a = segment.arrays
        article = int(a.doc_art[ref.doc])
        first, last = int(a.doc_first[ref.doc]), int(a.doc_last[ref.doc])
        paragraph = a.sent_para[first]
        lo, hi = int(a.art_sentences[article]), int(a.art_sentences[article + 1])
        paras = a.sent_para[lo:hi]
        p_lo = lo + int(np.searchsorted(paras, paragraph, "left"))
        p_hi = lo + int(np.searchsorted(paras, paragraph, "right"))
        t_lo, t_hi = int(a.sent_tokens[p_lo]), int(a.sent_tokens[p_hi])
        title = a.title_terms[a.art_title[article] : a.art_title[article + 1]]
        # The next paragraph's first sentence, when that paragraph has sentences (headings
        # and captions are not kept as sentences: quoting past one would quote it too).
        follows = p_hi < hi and int(a.sent_para[p_hi]) == int(paragraph) + 1
        return PassageDetail(
            passage=self.passage(ref),
            title_keys=a.term_hash[title],
            sentences=np.stack((a.sent_start[p_lo:p_hi], a.sent_end[p_lo:p_hi]), axis=1),
            first=first - p_lo,
            last=last - p_lo,
            sentence_tokens=a.sent_tokens[p_lo : p_hi + 1] - t_lo,
            token_keys=a.term_hash[a.tok_term[t_lo:t_hi]],
            token_spans=np.stack((a.tok_start[t_lo:t_hi], a.tok_end[t_lo:t_hi]), axis=1),
            arrays=a,
            next_sentence=p_hi if follows else -1,
            article_end=hi,
        )

    def article_id(self, ref: PassageRef) -> str:
        """The id of the passage's article, without decoding the article."""
        segment = self.segments[ref.segment].segment
        return segment.article_id(int(segment.arrays.doc_art[ref.doc]))

    def article_tokens(self, ref: PassageRef) -> tuple[np.ndarray, np.ndarray, int, int]:
        """``(title, body, start, end)``: the term keys (uint64) of the passage's article title
        and of every token of its text in order, and where the passage's own tokens lie in
        the body (``body[start:end]``). Slices of what indexing stored, for re-ranking
        candidates by their article and their own terms without decoding anything."""
        a = self.segments[ref.segment].segment.arrays
        article = int(a.doc_art[ref.doc])
        lo = int(a.sent_tokens[a.art_sentences[article]])
        hi = int(a.sent_tokens[a.art_sentences[article + 1]])
        start = int(a.sent_tokens[a.doc_first[ref.doc]]) - lo
        end = int(a.sent_tokens[a.doc_last[ref.doc]]) - lo
        title = a.title_terms[a.art_title[article] : a.art_title[article + 1]]
        return a.term_hash[title], a.term_hash[a.tok_term[lo:hi]], start, end

    def passage_terms(self, ref: PassageRef) -> list[str]:
        """The passage's terms as strings, in order (title first): what BM25 counts."""
        segment = self.segments[ref.segment].segment
        return [segment.term(int(t)) for t in segment.doc_terms(ref.doc)]

    def passages(self) -> Iterator[PassageRef]:
        """Every live passage, in archive order."""
        for position, live in enumerate(self.segments):
            for doc in np.flatnonzero(~live.deleted).tolist():
                yield PassageRef(position, doc)

    # -- articles ---------------------------------------------------------------------------

    def _locate(self, article_id: str) -> tuple[int, int] | None:
        key = term_hash(article_id)
        for position, live in enumerate(self.segments):
            row = live.segment.find_article(key)
            if row >= 0 and not live.deleted[live.segment.arrays.art_docs[row]]:
                return position, row
        return None

    def article(self, article_id: str) -> Article | None:
        found = self._locate(article_id)
        return None if found is None else self.segments[found[0]].segment.article(found[1])

    def article_passages(self, article_id: str) -> list[PassageRef]:
        """The article's passages, in text order; empty if it is not in the index."""
        found = self._locate(article_id)
        if found is None:
            return []
        a = self.segments[found[0]].segment.arrays
        return [
            PassageRef(found[0], d) for d in range(a.art_docs[found[1]], a.art_docs[found[1] + 1])
        ]

    def article_terms(self, article_id: str) -> list[np.ndarray]:
        """The article's passages as term keys (uint64, title first), in text order."""
        refs = self.article_passages(article_id)
        if not refs:
            return []
        segment = self.segments[refs[0].segment].segment
        return [segment.arrays.term_hash[segment.doc_terms(r.doc)] for r in refs]

    def articles(self) -> Iterator[Article]:
        """Every live article, in archive order."""
        for live in self.segments:
            first_docs = live.segment.arrays.art_docs[:-1]
            for row in np.flatnonzero(~live.deleted[first_docs]).tolist():
                yield live.segment.article(row)

    def newest(self, n: int) -> list[Article]:
        """The ``n`` most recent articles; undated ones last, ties in archive order."""
        dates, where = [], []
        for position, live in enumerate(self.segments):
            a = live.segment.arrays
            rows = np.flatnonzero(~live.deleted[a.art_docs[:-1]])
            dates.append(a.art_date[rows].astype(np.int64))
            where.append(np.stack((np.full(len(rows), position), rows), axis=1))
        if not dates:
            return []
        all_dates = np.concatenate(dates)
        places = np.concatenate(where)
        order = np.lexsort((np.arange(len(all_dates)), -all_dates))[:n]
        return [self.segments[int(s)].segment.article(int(r)) for s, r in places[order]]
