"""Merging segments: which to merge (the policy), and merging them (without re-analysis).

Every reload adds a small segment, and each segment costs every question a little, so small
segments are merged into bigger ones, as Lucene's ``LogMergePolicy`` does (see
``MergePolicy``). A segment whose deleted share passes ``max_deleted_share`` is rewritten
without its deleted passages. Only adjacent segments are merged, so the archive's
passage order, which breaks ties, never changes.

A merge copies the live articles' stored arrays (no text is analysed again) and rebuilds the
postings; it runs in the background and commits like any change (``lifecycle``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.search.bm25 import BM25Params
from bot.search.builder import ArticleColumns, _offsets, _ranges, finish_segment
from bot.search.generation import LiveSegment, SegmentState
from bot.search.segment import SegmentArrays


@dataclass(frozen=True, slots=True)
class MergePolicy:
    """Lucene's LogMergePolicy, by live passages: a segment's level is the logarithm of its
    size in base ``merge_factor`` (sizes below ``min_passages`` count as that); from the
    oldest segment on, the segments within ``LEVEL_SPAN`` of the highest remaining level form
    one level, and every ``merge_factor`` adjacent segments of a level are merged."""

    merge_factor: int = 10
    min_passages: int = 10_000
    max_deleted_share: float = 0.3
    LEVEL_SPAN = 0.75  # Lucene's LEVEL_LOG_SPAN: sizes within a factor ~5.6 share a level

    def level(self, state: SegmentState) -> float:
        return math.log(max(state.live_docs, self.min_passages), self.merge_factor)

    def select(self, segments: Sequence[SegmentState], total_docs: Sequence[int]) -> range | None:
        """The adjacent run of segments to merge next, or None. ``total_docs[i]`` counts
        segment i's passages, deleted ones included."""
        for i, state in enumerate(segments):
            deleted = total_docs[i] - state.live_docs
            if total_docs[i] and deleted / total_docs[i] > self.max_deleted_share:
                return range(i, i + 1)
        levels = [self.level(s) for s in segments]
        floor = math.log(self.min_passages, self.merge_factor)
        start = 0
        while start < len(levels):
            top = max(levels[start:])
            bottom = max(top - self.LEVEL_SPAN, floor) if top > floor else floor
            end = max(i for i in range(start, len(levels)) if levels[i] >= bottom) + 1
            # Every level is a run here: all segments from start to end (smaller ones in
            # between belong to it, as in Lucene), merged merge_factor at a time.
            if end - start >= self.merge_factor:
                return range(start, start + self.merge_factor)
            start = end
        return None


def _live_columns(live: LiveSegment, union: np.ndarray) -> ArticleColumns:
    """The live articles of one segment, term ids mapped into ``union``."""
    a = live.segment.arrays
    rows = np.flatnonzero(~live.deleted[a.art_docs[:-1]]) if a.articles else np.zeros(0, np.int64)
    remap = np.searchsorted(union, a.term_hash).astype(np.int32)
    sentences = _ranges(a.art_sentences[rows], a.art_sentences[rows + 1])
    docs = _ranges(a.art_docs[rows], a.art_docs[rows + 1])
    tokens = _ranges(a.sent_tokens[a.art_sentences[rows]], a.sent_tokens[a.art_sentences[rows + 1]])
    titles = _ranges(a.art_title[rows], a.art_title[rows + 1])
    new_article = np.repeat(np.arange(len(rows)), a.art_docs[rows + 1] - a.art_docs[rows])
    return ArticleColumns(
        art_key=a.art_key[rows],
        art_meta=_offsets(a.art_meta[rows + 1] - a.art_meta[rows]),
        meta_blob=a.meta_blob[_ranges(a.art_meta[rows], a.art_meta[rows + 1])],
        art_text=_offsets(a.art_text[rows + 1] - a.art_text[rows]),
        text_blob=a.text_blob[_ranges(a.art_text[rows], a.art_text[rows + 1])],
        art_date=a.art_date[rows],
        art_docs=_offsets(a.art_docs[rows + 1] - a.art_docs[rows]),
        art_sentences=_offsets(a.art_sentences[rows + 1] - a.art_sentences[rows]),
        art_title=_offsets(a.art_title[rows + 1] - a.art_title[rows]),
        title_terms=remap[a.title_terms[titles]],
        sent_para=a.sent_para[sentences],
        sent_start=a.sent_start[sentences],
        sent_end=a.sent_end[sentences],
        sent_tokens=_offsets(a.sent_tokens[sentences + 1] - a.sent_tokens[sentences]),
        tok_term=remap[a.tok_term[tokens]],
        tok_start=a.tok_start[tokens],
        tok_end=a.tok_end[tokens],
        doc_art=new_article.astype(np.int32),
        doc_first=np.searchsorted(sentences, a.doc_first[docs]).astype(np.int32),
        doc_last=(np.searchsorted(sentences, a.doc_last[docs] - 1) + 1).astype(np.int32),
    )


def _concat(parts: list[ArticleColumns]) -> ArticleColumns:
    """One set of columns from several, offsets and references rebased."""

    def offsets(name: str) -> np.ndarray:
        return _offsets(np.concatenate([np.diff(getattr(p, name)) for p in parts]))

    def shifted(name: str, count: Callable[[ArticleColumns], int]) -> np.ndarray:
        out, base = [], 0
        for p in parts:
            out.append(getattr(p, name).astype(np.int64) + base)
            base += count(p)
        return np.concatenate(out)

    def articles(p: ArticleColumns) -> int:
        return len(p.art_key)

    def sentences(p: ArticleColumns) -> int:
        return len(p.sent_para)

    def joined(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts])

    return ArticleColumns(
        art_key=joined("art_key"),
        art_meta=offsets("art_meta"),
        meta_blob=joined("meta_blob"),
        art_text=offsets("art_text"),
        text_blob=joined("text_blob"),
        art_date=joined("art_date"),
        art_docs=offsets("art_docs"),
        art_sentences=offsets("art_sentences"),
        art_title=offsets("art_title"),
        title_terms=joined("title_terms"),
        sent_para=joined("sent_para"),
        sent_start=joined("sent_start"),
        sent_end=joined("sent_end"),
        sent_tokens=offsets("sent_tokens"),
        tok_term=joined("tok_term"),
        tok_start=joined("tok_start"),
        tok_end=joined("tok_end"),
        doc_art=shifted("doc_art", articles).astype(np.int32),
        doc_first=shifted("doc_first", sentences).astype(np.int32),
        doc_last=shifted("doc_last", sentences).astype(np.int32),
    )


def merge_segments(
    lives: Sequence[LiveSegment], params: BM25Params
) -> tuple[SegmentArrays, dict[str, float]]:
    """One segment holding the live articles of ``lives``, in their order."""
    union = np.unique(np.concatenate([live.segment.arrays.term_hash for live in lives]))
    strings: list[str | None] = [None] * len(union)
    for live in lives:
        a = live.segment.arrays
        for position, term_id in zip(
            np.searchsorted(union, a.term_hash).tolist(), range(a.terms), strict=True
        ):
            if strings[position] is None:
                strings[position] = live.segment.term(term_id)
    columns = _concat([_live_columns(live, union) for live in lives])
    arrays, info = finish_segment(columns, union, [s or "" for s in strings], params)
    languages: dict[str, int] = {}
    for live in lives:  # deletions aside: the set of languages is what matters
        for code, count in live.segment.info.get("languages", {}).items():
            languages[code] = languages.get(code, 0) + count
    return arrays, {**info, "languages": languages}
