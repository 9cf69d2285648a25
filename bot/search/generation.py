"""Generations: which segments are live, what is deleted in them, and the archive's statistics.

A generation names its segments in order (older first: that order is the passages' order, the
one ties are broken by) and, for each, an optional deletion mask and the document frequencies
of its live passages. From those come the live archive's BM25 statistics: passage count,
total length, and each term's document frequency summed over the segments (deleted passages
excluded), kept as two sorted arrays so that a question looks its terms up with one
``searchsorted``.

Everything a generation adds is written under ``gen-<number>/`` before the catalog's commit
names it (``catalog``); unchanged masks are referenced from the generation that wrote them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bot.errors import IndexDamaged
from bot.search.bm25 import average_idf, frozen
from bot.search.segment import Segment, fsync_dir


@dataclass(frozen=True, slots=True)
class SegmentState:
    """One segment as a generation sees it."""

    name: str
    deleted: str | None  # mask file relative to the index root; None: nothing deleted
    live_df: str | None  # live document frequencies; None: the segment's own (nothing deleted)
    live_docs: int
    live_length: int
    live_articles: int


@dataclass(frozen=True, slots=True)
class Generation:
    number: int
    segments: tuple[SegmentState, ...]
    terms: str  # file: uint64 hashes of every term with a live passage, ascending
    doc_freq: str  # file: int64 live document frequency of each of those terms
    docs: int  # live passages
    length: int  # their total length in terms
    articles: int
    average_idf: float
    committed_at: float

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Generation:
        data = json.loads(text)
        data["segments"] = tuple(SegmentState(**s) for s in data["segments"])
        return cls(**data)

    @property
    def avgdl(self) -> float:
        return self.length / self.docs if self.docs else 1.0

    def files(self) -> set[str]:
        """Files (relative to the index root) this generation reads besides its segments."""
        names = {self.terms, self.doc_freq}
        for s in self.segments:
            names.update(n for n in (s.deleted, s.live_df) if n)
        return names


def own_doc_freq(segment: Segment) -> np.ndarray:
    return np.diff(segment.arrays.term_docs).astype(np.int64)


def deleted_doc_freq(segment: Segment, docs: np.ndarray) -> np.ndarray:
    """Per term, how many of the passages ``docs`` hold it (to subtract from live df)."""
    n_terms = segment.arrays.terms
    if not len(docs):
        return np.zeros(n_terms, np.int64)
    n_docs = max(segment.arrays.passages, 1)
    keys = np.concatenate(
        [segment.doc_terms(int(d)).astype(np.int64) * n_docs + int(d) for d in docs]
    )
    return np.bincount(np.unique(keys) // n_docs, minlength=n_terms).astype(np.int64)


def _save(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as f:
        np.save(f, array, allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())


def load_array(root: Path, name: str) -> np.ndarray:
    """A stored array, memory-mapped, as a plain read-only ndarray (numpy's memmap subclass
    wraps every result: a question's term look-up took 4 µs instead of 1)."""
    try:
        return frozen(np.load(root / name, mmap_mode="r", allow_pickle=False))
    except (OSError, ValueError) as error:
        raise IndexDamaged(f"{name} unreadable ({error})") from None


@dataclass(slots=True)
class LiveSegment:
    """A segment with its deletions, as one generation serves it."""

    segment: Segment
    deleted: np.ndarray  # bool per passage
    live_df: np.ndarray  # int64 per term

    def state(self, deleted_file: str | None, live_df_file: str | None) -> SegmentState:
        a = self.segment.arrays
        live = ~self.deleted
        first_docs = a.art_docs[:-1]
        return SegmentState(
            name=self.segment.name,
            deleted=deleted_file,
            live_df=live_df_file,
            live_docs=int(live.sum()),
            live_length=int(a.doc_len[live].sum(dtype=np.int64)),
            live_articles=int(live[first_docs].sum()) if len(first_docs) else 0,
        )


def write_generation(
    root: Path,
    number: int,
    live: Sequence[LiveSegment],
    previous: dict[str, SegmentState],
    changed: set[str],
    committed_at: float,
) -> Generation:
    """Write generation ``number``'s files: masks and live df of the ``changed`` segments
    (others keep their ``previous`` files) and the archive's term statistics."""
    folder = root / f"gen-{number:08d}"
    folder.mkdir(parents=True, exist_ok=True)
    states = []
    for item in live:
        name = item.segment.name
        if name in changed:
            any_deleted = bool(item.deleted.any())
            deleted_file = live_df_file = None
            if any_deleted:
                deleted_file = f"{folder.name}/{name}.deleted.npy"
                live_df_file = f"{folder.name}/{name}.live_df.npy"
                _save(root / deleted_file, np.asarray(item.deleted, bool))
                _save(root / live_df_file, np.asarray(item.live_df, np.int64))
            states.append(item.state(deleted_file, live_df_file))
        else:
            states.append(previous[name])
    hashes = [item.segment.arrays.term_hash for item in live]
    frequencies = [item.live_df for item in live]
    if hashes:
        all_hashes = np.concatenate(hashes)
        all_df = np.concatenate(frequencies).astype(np.int64)
        order = np.argsort(all_hashes, kind="stable")
        all_hashes, all_df = all_hashes[order], all_df[order]
        first = np.flatnonzero(np.r_[True, all_hashes[1:] != all_hashes[:-1]])
        terms = all_hashes[first]
        doc_freq = np.add.reduceat(all_df, first) if len(first) else all_df
        keep = doc_freq > 0  # terms only deleted passages held are not in the archive any more
        terms, doc_freq = terms[keep], doc_freq[keep]
    else:
        terms, doc_freq = np.zeros(0, np.uint64), np.zeros(0, np.int64)
    _save(folder / "terms.npy", terms)
    _save(folder / "doc_freq.npy", doc_freq)
    fsync_dir(folder)
    docs = sum(s.live_docs for s in states)
    return Generation(
        number=number,
        segments=tuple(states),
        terms=f"{folder.name}/terms.npy",
        doc_freq=f"{folder.name}/doc_freq.npy",
        docs=docs,
        length=sum(s.live_length for s in states),
        articles=sum(s.live_articles for s in states),
        average_idf=average_idf(doc_freq, docs),
        committed_at=committed_at,
    )


def open_live(root: Path, state: SegmentState, segment: Segment | None = None) -> LiveSegment:
    """A segment of a generation with that generation's deletions (``segment`` if already
    open: segments are immutable, so one mapping serves every generation)."""
    segment = segment or Segment(root / state.name)
    if state.deleted is None:
        deleted = np.zeros(segment.arrays.passages, bool)
        live_df = own_doc_freq(segment)
    else:
        deleted = load_array(root, state.deleted)
        live_df = load_array(root, state.live_df or "")
        if len(deleted) != segment.arrays.passages or len(live_df) != segment.arrays.terms:
            raise IndexDamaged(f"deletions of {state.name} do not match the segment")
    return LiveSegment(segment, deleted, live_df)
