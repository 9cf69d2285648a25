"""Segments: immutable, memory-mapped slices of the index, as Lucene keeps them.

A segment holds a batch of articles with everything questions and answers need, so nothing is
re-read, re-split or re-analysed after indexing:

* articles: id key, citation fields (JSON), text (UTF-8), date, and ranges into the rest;
* sentences: paragraph number and text offsets; tokens: each index term's id and text span;
* passages: their article, sentence range and length in terms (BM25's document length);
* terms: sorted by a 64-bit hash of the term string (the id a term has in this segment is its
  rank there), with term-major postings (passage, term frequency) and per-term bounds.

Term frequencies are stored, not weights: weights depend on the live archive's statistics and
are computed per question (``bm25``). A segment never changes once written; deleting one of its
articles is a mark in a per-generation deletion mask (``generations``).

On disk a segment is a directory with one data file and ``segment.json``, which gives each
array's place in it, the file's size and its CRC-32: opening checks the size (a truncated file
would crash the process on first touch of a memory-mapped page), ``verify`` the checksum.
"""

from __future__ import annotations

import datetime as dt
import json
import mmap
import os
import zlib
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import numpy as np
import xxhash

from bot.articles.model import Article
from bot.errors import IndexDamaged
from bot.search.bm25 import (
    RANKS,
    WINDOW,
    BM25Params,
    BoundBasis,
    SegmentPostings,
    frozen,
    length_norms,
    local_ids,
)

FORMAT = 6


def term_hash(term: str) -> int:
    """The 64-bit key of a term (or an article id) in every segment: stable across processes
    and Python versions, unlike ``hash()``. Collisions among a million terms: odds ~1e-8.
    XXH3: 75 ns a word here where blake2b took 520, and a question's new words are hashed
    while the reader waits. Not memoised: an ``lru_cache`` saves 30 ns on a word seen before
    and costs 500 on a new one (its bookkeeping), and most of a question's words are new."""
    return xxhash.xxh3_64_intdigest(term.encode("utf-8", "surrogatepass"))


def term_hashes(terms: list[str]) -> np.ndarray:
    return np.fromiter(map(term_hash, terms), dtype=np.uint64, count=len(terms))


@dataclass(slots=True)
class SegmentArrays:
    """Every array of a segment; the same type in memory (built) and on disk (mapped)."""

    # articles (A)
    art_key: np.ndarray  # uint64 term_hash(article.id)
    art_by_key: np.ndarray  # int32 article rows ordered by art_key (for lookups)
    art_meta: np.ndarray  # int64 [A+1] offsets into meta_blob
    meta_blob: np.ndarray  # uint8 JSON of each article's fields except its text
    art_text: np.ndarray  # int64 [A+1] offsets into text_blob
    text_blob: np.ndarray  # uint8 UTF-8 article texts
    art_date: np.ndarray  # int32 date ordinal, 0 when undated
    art_docs: np.ndarray  # int64 [A+1] passage ranges
    art_sentences: np.ndarray  # int64 [A+1] sentence ranges
    art_title: np.ndarray  # int64 [A+1] ranges into title_terms
    title_terms: np.ndarray  # int32 term ids of each title (counted in every passage)
    # sentences (S)
    sent_para: np.ndarray  # int32 paragraph number, 1-based
    sent_start: np.ndarray  # int32 offset into the article text
    sent_end: np.ndarray  # int32
    sent_tokens: np.ndarray  # int64 [S+1] ranges into the token arrays
    # tokens (index terms in text order; stopwords are not tokens)
    tok_term: np.ndarray  # int32 term id
    tok_start: np.ndarray  # int32 offset into the article text
    tok_end: np.ndarray  # int32
    # passages (D)
    doc_art: np.ndarray  # int32 article row
    doc_first: np.ndarray  # int32 first sentence (segment-wide numbering)
    doc_last: np.ndarray  # int32 one past the last sentence
    doc_len: np.ndarray  # int32 length in terms, title terms included
    # terms (T) and postings (P)
    term_hash: np.ndarray  # uint64, ascending: a term's id is its position
    term_text: np.ndarray  # int64 [T+1] offsets into terms_blob
    terms_blob: np.ndarray  # uint8 UTF-8 term strings (diagnostics, exclusions)
    term_docs: np.ndarray  # int64 [T+1] ranges into the postings
    post_doc: np.ndarray  # int32 passage, ascending within a term
    post_tf: np.ndarray  # int32 term frequency
    # float32: the tf part of the posting's weight, tf*(k1+1)/(tf + k1*(1-b+b*len/avgdl)), with
    # the k1, b and average length recorded in the manifest (the numba kernel's selection)
    post_part: np.ndarray
    # float64: the term's highest tf part of the weight, tf*(k1+1)/(tf + k1*(1-b+b*len/avgdl)),
    # with the k1, b and average length recorded in the manifest (for exact pruning bounds)
    term_bound: np.ndarray
    # each long list's postings per window of passages, and their highest stored part there
    # (``bm25.window_table``): int32 [T], int32 [rows, windows + 1], float32 [rows, windows]
    term_window: np.ndarray
    window_post: np.ndarray
    window_max: np.ndarray
    # float32 [rows, len(RANKS)]: each long list's RANKS[i]-th highest stored part
    rank_part: np.ndarray

    @property
    def articles(self) -> int:
        return len(self.art_key)

    @property
    def passages(self) -> int:
        return len(self.doc_art)

    @property
    def terms(self) -> int:
        return len(self.term_hash)


ARRAY_NAMES = tuple(f.name for f in fields(SegmentArrays))


_ALIGN = 64  # array offsets in the data file: aligned for vector loads
# What every question reads: the term table and the postings (``Segment.preload``).
_QUESTION_ARRAYS = (
    "term_hash", "term_docs", "term_bound", "term_window", "window_post", "window_max",
    "rank_part", "post_doc", "post_tf", "post_part",
)  # fmt: skip


def write_segment(arrays: SegmentArrays, final: Path, info: dict[str, object]) -> None:
    """Write ``arrays`` to a staging directory beside ``final``, fsync, then rename it into
    place: a segment directory either exists whole or not at all.

    All arrays go into one data file (``arrays.bin``, each at an aligned offset) described by
    ``segment.json``: one file to sync and to map, instead of one per array.
    """
    staging = final.with_name(f".tmp-{final.name}")
    staging.mkdir(parents=True)
    layout: dict[str, list[object]] = {}
    crc = 0
    offset = 0
    with (staging / "arrays.bin").open("wb") as f:
        for name in ARRAY_NAMES:
            array = np.ascontiguousarray(getattr(arrays, name))
            padding = -offset % _ALIGN
            if padding:
                f.write(bytes(padding))
                crc = zlib.crc32(bytes(padding), crc)
                offset += padding
            data = array.tobytes()
            f.write(data)
            crc = zlib.crc32(data, crc)
            layout[name] = [array.dtype.str, list(array.shape), offset]
            offset += len(data)
        f.flush()
        os.fsync(f.fileno())
    manifest = {
        "format": FORMAT,
        **info,
        "articles": arrays.articles,
        "passages": arrays.passages,
        "terms": arrays.terms,
        "bytes": offset,
        "crc32": crc,
        "arrays": layout,
    }
    with (staging / "segment.json").open("w", encoding="utf-8") as f:
        json.dump(manifest, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(staging, final)
    fsync_dir(final.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _crc32(path: Path) -> int:
    crc = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


class Segment:
    """An opened segment: its arrays memory-mapped, articles decoded on demand."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.name = directory.name
        try:
            self.info = json.loads((directory / "segment.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise IndexDamaged(f"segment {self.name}: unreadable manifest ({error})") from None
        if self.info.get("format") != FORMAT:
            raise IndexDamaged(f"segment {self.name}: format {self.info.get('format')}")
        self.arrays = self._map()
        self._check_shapes()
        self.article = lru_cache(maxsize=4096)(self._article)
        self._ids: list[str] | None = None
        self._preloaded = False

    def _map(self) -> SegmentArrays:
        path = self.directory / "arrays.bin"
        expected = self.info.get("bytes")
        try:
            size = path.stat().st_size
        except OSError as error:
            raise IndexDamaged(f"segment {self.name}: arrays.bin missing ({error})") from None
        if size != expected:
            raise IndexDamaged(f"segment {self.name}: arrays.bin has {size} bytes, not {expected}")
        data = np.memmap(path, np.uint8, "r") if size else np.zeros(0, np.uint8)
        arrays = {}
        try:
            for name in ARRAY_NAMES:
                dtype, shape, offset = self.info["arrays"][name]
                dtype = np.dtype(dtype)
                count = int(np.prod(shape))
                if offset + count * dtype.itemsize > size:
                    raise ValueError(f"{name} runs past the end")
                view = data[offset : offset + count * dtype.itemsize].view(dtype).reshape(shape)
                arrays[name] = view
        except (KeyError, TypeError, ValueError) as error:
            raise IndexDamaged(f"segment {self.name}: bad layout ({error})") from None
        return SegmentArrays(**arrays)

    def _check_shapes(self) -> None:
        a = self.arrays
        n_art, n_doc, n_sent, n_term = a.articles, a.passages, len(a.sent_para), a.terms
        expect = {
            "art_meta": n_art + 1, "art_text": n_art + 1, "art_docs": n_art + 1,
            "art_sentences": n_art + 1, "art_title": n_art + 1, "art_date": n_art,
            "art_by_key": n_art, "sent_start": n_sent, "sent_end": n_sent,
            "sent_tokens": n_sent + 1, "doc_first": n_doc, "doc_last": n_doc, "doc_len": n_doc,
            "term_text": n_term + 1, "term_docs": n_term + 1, "term_bound": n_term,
            "term_window": n_term,
        }  # fmt: skip
        for name, length in expect.items():
            if len(getattr(a, name)) != length:
                raise IndexDamaged(f"segment {self.name}: {name} has the wrong length")
        ends = {
            "meta_blob": a.art_meta, "text_blob": a.art_text, "tok_term": a.sent_tokens,
            "title_terms": a.art_title, "post_doc": a.term_docs, "post_tf": a.term_docs,
            "post_part": a.term_docs, "terms_blob": a.term_text,
        }  # fmt: skip
        for name, offsets in ends.items():
            if len(offsets) and int(offsets[-1]) != len(getattr(a, name)):
                raise IndexDamaged(f"segment {self.name}: {name} does not match its offsets")
        # The numba kernel reads postings where the window table points: it must fit them.
        long = np.flatnonzero(a.term_window >= 0)
        windows = max(1, -(-n_doc // WINDOW))
        if (
            a.window_post.shape != (len(long), windows + 1)
            or a.window_max.shape != (len(long), windows)
            or a.rank_part.shape != (len(long), len(RANKS))
            or not np.array_equal(a.term_window[long], np.arange(len(long)))
            or (a.window_post[:, 0] != 0).any()
            or (np.diff(a.window_post, axis=1) < 0).any()
            or not np.array_equal(a.window_post[:, -1], a.term_docs[long + 1] - a.term_docs[long])
        ):
            raise IndexDamaged(f"segment {self.name}: the window table does not fit the postings")

    @property
    def size(self) -> int:
        return int(self.info["bytes"])

    def preload(self) -> None:
        """Map in the pages questions read, one touch per page, as Elasticsearch's
        ``index.store.preload`` does for memory-mapped files: opening maps nothing (a cold
        open costs milliseconds), so without this each question's first touch of a page of
        postings is a page fault (at 1M passages the kernel's p50 on questions asked for the
        first time went from 254 to 176 µs with it). Run in the background after opening
        (0.02 s for the 262 MB a 1M-passage segment has here, when the file is in the OS's
        cache; else it reads them); the pages are the OS's file cache, shared and reclaimable,
        not the process's own memory."""
        if self._preloaded:
            return
        for name in _QUESTION_ARRAYS:
            data = np.asarray(getattr(self.arrays, name)).reshape(-1).view(np.uint8)
            if len(data):
                int(data[:: mmap.PAGESIZE].max())
        self._preloaded = True

    def verify(self) -> None:
        """Check the data file's CRC-32 against the manifest (reads the whole segment)."""
        if _crc32(self.directory / "arrays.bin") != self.info["crc32"]:
            raise IndexDamaged(f"segment {self.name}: arrays.bin fails its checksum")

    # -- reading ----------------------------------------------------------------------------

    def _article(self, row: int) -> Article:
        a = self.arrays
        meta = json.loads(
            bytes(a.meta_blob[a.art_meta[row] : a.art_meta[row + 1]]).decode(
                "utf-8", "surrogatepass"
            )
        )
        meta["topics"] = tuple(meta.get("topics", ()))
        text = bytes(a.text_blob[a.art_text[row] : a.art_text[row + 1]])
        meta["text"] = text.decode("utf-8", "surrogatepass")
        meta["date"] = dt.date.fromordinal(int(a.art_date[row])) if a.art_date[row] else None
        return Article(**meta)

    def article_id(self, row: int) -> str:
        """An article's id without decoding the article (all ids decoded on first use)."""
        if self._ids is None:
            a = self.arrays
            blob = bytes(a.meta_blob)
            offsets = a.art_meta.tolist()
            self._ids = [
                json.loads(blob[offsets[i] : offsets[i + 1]].decode("utf-8", "surrogatepass"))["id"]
                for i in range(a.articles)
            ]
        return self._ids[row]

    def postings(self, deleted: np.ndarray, params: BM25Params, avgdl: float) -> SegmentPostings:
        """What the kernels read, with the length norms of an archive of average ``avgdl``."""
        a = self.arrays
        norms = length_norms(a.doc_len, params, avgdl)
        return SegmentPostings(
            *map(frozen, (a.term_hash, a.term_docs, a.post_doc, a.post_tf, a.doc_len)),
            frozen(a.post_part),
            frozen(norms),
            frozen(np.asarray(deleted, bool)),
            frozen(a.term_bound),
            *map(frozen, (a.term_window, a.window_post, a.window_max, a.rank_part)),
            int(np.count_nonzero(deleted)),
            BoundBasis(
                float(self.info.get("bound_k1", 0.0)),
                float(self.info.get("bound_b", 0.0)),
                float(self.info.get("bound_avgdl", 0.0)),
            ).scales(params, avgdl),
        )

    def find_article(self, key: int) -> int:
        """Row of the article with ``art_key == key``, or -1."""
        a = self.arrays
        keys = a.art_key
        position = int(np.searchsorted(keys[a.art_by_key], np.uint64(key)))
        if position < len(keys) and int(keys[a.art_by_key[position]]) == key:
            return int(a.art_by_key[position])
        return -1

    def local_ids(self, hashes: np.ndarray) -> np.ndarray:
        """Each hash's term id in this segment, or -1 (int64)."""
        return local_ids(self.arrays.term_hash, hashes)

    def term(self, term_id: int) -> str:
        a = self.arrays
        term = bytes(a.terms_blob[a.term_text[term_id] : a.term_text[term_id + 1]])
        return term.decode("utf-8", "surrogatepass")

    def doc_terms(self, doc: int) -> np.ndarray:
        """Term ids of a passage, in order: its title's, then its sentences' tokens."""
        a = self.arrays
        article = int(a.doc_art[doc])
        title = a.title_terms[a.art_title[article] : a.art_title[article + 1]]
        lo, hi = a.sent_tokens[a.doc_first[doc]], a.sent_tokens[a.doc_last[doc]]
        return np.concatenate((title, a.tok_term[lo:hi]))


def article_meta(article: Article) -> bytes:
    """The JSON a segment keeps of an article besides its text and date."""
    fields_ = {
        "id": article.id, "title": article.title, "source": article.source, "url": article.url,
        "author": article.author, "topics": list(article.topics), "path": article.path,
        "language": article.language,
    }  # fmt: skip
    text = json.dumps(fields_, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass")
