"""Keeping the served index in step with the corpus folder, at the cost of what changed.

:class:`IndexManager` owns the live :class:`SearchIndex`. A reload:

1. lists the corpus (stats only) and compares each file with its catalog record: same size
   and mtime → unchanged, unread; same content digest → unchanged, unparsed; otherwise the
   file is parsed (JSONL streamed record by record) and each article compared by its content
   digest: only new and changed articles are analysed. Missing files and records are deletions;
2. writes the new and changed articles as a new segment (several, each at most
   ``segment_passages`` passages, for a big batch: memory stays bounded), marks replaced and
   removed articles deleted, and commits a generation (``catalog``): all or nothing;
3. swaps the new index in with one assignment: readers see the old index or the new one.

Merges (``merge``) run on their own, in the caller's thread or a background one, and commit
like a reload. Writers (this process's reloads and merges, ``bot.py index`` beside the bot)
are serialised by a lock file; readers never wait for it.

Layout of ``index_dir``: ``CURRENT`` names the active index folder ``idx-<id>`` (a rebuild
makes a new folder and switches ``CURRENT``, so a damaged index is never read again), which
holds ``catalog.sqlite3``, ``seg-*`` folders and ``gen-*`` folders; ``writer.lock``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.articles.model import Article, SkippedFile
from bot.articles.scan import CorpusFile, iter_article_file, list_corpus
from bot.errors import IndexDamaged
from bot.search.bm25 import BM25Params
from bot.search.builder import (
    ANALYSIS_VERSION,
    ArticleAnalyser,
    SegmentBuilder,
)
from bot.search.catalog import ArticleRecord, Catalog, FileState
from bot.search.generation import (
    Generation,
    LiveSegment,
    SegmentState,
    deleted_doc_freq,
    own_doc_freq,
    write_generation,
)
from bot.search.index import SearchIndex
from bot.search.merge import MergePolicy, merge_segments
from bot.search.segment import FORMAT, Segment, write_segment
from bot.text.analysis import Analyzer
from bot.text.passages import PassageRules

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total), in bytes of the files being read
KEEP_GENERATIONS = 2  # the newest ones keep their files (another process may be opening one)
VERIFY_BYTES = 64 << 20  # segments up to this size are checksummed whenever they are opened


@dataclass(frozen=True, slots=True)
class ArticleInfo:
    """An article named in a report: enough for editors and alerts, without its text."""

    id: str
    title: str
    path: str

    @classmethod
    def of(cls, article: Article) -> ArticleInfo:
        return cls(article.id, article.title, article.path)


@dataclass(slots=True)
class ReloadReport:
    """What a reload changed, for editors (``/reload``, ``bot.py index``) and for alerts."""

    added: list[ArticleInfo] = field(default_factory=list)
    changed: list[ArticleInfo] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # titles
    skipped: list[SkippedFile] = field(default_factory=list)
    articles: int = 0
    passages: int = 0
    seconds: float = 0.0
    rebuilt: bool = False  # whether a corpus file was added, changed or removed
    damaged: str = ""  # why the stored index was discarded, if it was


def content_digest(article: Article) -> str:
    """Of every field: if any changes (a corrected date, a new link), the article changed."""
    fields = [getattr(article, f.name) for f in dataclasses.fields(article) if f.name != "date"]
    fields.append(article.date.isoformat() if article.date else None)
    data = json.dumps(fields, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return hashlib.sha1(data).hexdigest()


def file_digest(path: Path) -> str:
    digest = hashlib.sha1()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(slots=True)
class _Plan:
    """What a reload must do, found without parsing unchanged files."""

    changed: list[tuple[CorpusFile, str]]  # (file, content digest)
    touched: list[FileState]  # rewritten with the same content: records only
    removed: list[str]  # paths
    listing_skipped: list[SkippedFile]

    @property
    def empty(self) -> bool:
        return not (self.changed or self.touched or self.removed)


class IndexManager:
    """The live index of one corpus folder, persisted under ``index_dir``."""

    def __init__(
        self,
        corpus_dir: Path,
        index_dir: Path,
        analyzer: Analyzer | None = None,
        params: BM25Params = BM25Params(),
        rules: PassageRules = PassageRules(),
        *,
        segment_passages: int = 100_000,
        merge_policy: MergePolicy = MergePolicy(),
        analyser: ArticleAnalyser | None = None,
    ) -> None:
        self.corpus_dir = corpus_dir
        self.index_dir = index_dir
        self.analyzer = analyzer or Analyzer()
        self.params = params
        self.rules = rules
        self.segment_passages = segment_passages
        self.merge_policy = merge_policy
        self.analyser = analyser or ArticleAnalyser(self.analyzer, rules)
        self.index: SearchIndex | None = None  # served to questions
        self._base: SearchIndex | None = None  # the newest commit of the folder being written
        self._root: Path | None = (
            None  # the idx-* folder being written (CURRENT's but in a rebuild)
        )
        self._catalog: Catalog | None = None
        self._lock = threading.RLock()  # this process's writers; the lock file serves others
        self._merger: threading.Thread | None = None
        self._outdated: str | None = None  # the stored index found analysed differently

    # -- reading ----------------------------------------------------------------------------

    def current_index(self) -> SearchIndex | None:
        return self.index

    def preload(self) -> None:
        """Map in what questions read of the served index (segments not yet preloaded)."""
        index = self.index
        if index is not None:
            index.preload()

    @property
    def analysis(self) -> str:
        """What stored segments must have been analysed with to be reused."""
        signature = getattr(self.analyzer, "signature", "en")
        # The segment format too: an index of an older format is rebuilt as one analysed
        # differently, not reported damaged.
        rules = json.dumps(dataclasses.asdict(self.rules))
        return f"{ANALYSIS_VERSION}|{FORMAT}|{signature}|{rules}"

    def open(self, progress: Progress | None = None) -> ReloadReport:
        """Serve the stored index, brought up to date with the corpus (only what changed is
        indexed). A damaged stored index is reported and rebuilt anew, never read again."""
        damaged = ""
        with self._lock:
            try:
                self._open_stored()
            except (IndexDamaged, sqlite3.DatabaseError, OSError, ValueError, KeyError) as error:
                damaged = f"{type(error).__name__}: {error}"
                log.warning("stored index unusable (%s); rebuilding it", damaged)
                self._forget()
        report = self.reload(progress, force=bool(damaged))
        report.damaged = damaged
        return report

    def _open_stored(self) -> None:
        try:
            name = (self.index_dir / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return
        root = self.index_dir / name
        if not (root / "catalog.sqlite3").is_file():
            raise IndexDamaged(f"{name} has no catalog")
        catalog = Catalog(root / "catalog.sqlite3")
        try:
            if catalog.settings().get("analysis") != self.analysis:
                if self._outdated != name:  # said once, though opening looks twice
                    log.info("stored index was analysed differently; rebuilding")
                    self._outdated = name
                catalog.close()
                return
            generation = catalog.current()
            if generation is None:
                raise IndexDamaged(f"{name} has no committed generation")
            index = self._open_generation(root, generation, catalog)
        except BaseException:
            catalog.close()
            raise
        self._root, self._catalog = root, catalog
        self.index = self._base = index

    def _open_generation(self, root: Path, generation: Generation, catalog: Catalog) -> SearchIndex:
        base = self._base
        reuse = base.segments if base is not None and self._root == root else ()
        known = {live.segment.name for live in reuse}
        index = SearchIndex.open(
            root, generation, self.params, self.rules, self._stored_skips(catalog), reuse
        )
        for live in index.segments:
            if live.segment.name not in known and live.segment.size <= VERIFY_BYTES:
                live.segment.verify()
        return index

    def marker(self) -> str:
        """Names the served commit, for ``added_since`` (alerts remember how far they got)."""
        with self._lock:
            assert self._catalog is not None and self.index is not None
            return f"{self._catalog.settings().get('identity', '')}:{self.index.generation.number}"

    def added_since(self, marker: str | None) -> list[str] | None:
        """Ids of the articles committed after ``marker``; None when the marker is of another
        index (none yet, or rebuilt since): then every article may be new."""
        with self._lock:
            if not marker or self._catalog is None:
                return None
            identity, _, number = marker.partition(":")
            if identity != self._catalog.settings().get("identity") or not number.isdigit():
                return None
            return [r.id for r in self._catalog.added_since(int(number))]

    def merge_in_background(self) -> threading.Thread | None:
        """Start merging (what the policy asks for) in a daemon thread, unless one runs."""
        with self._lock:
            if self._merger is not None and self._merger.is_alive():
                return None
            self._merger = threading.Thread(target=self._merge_safely, name="merge", daemon=True)
            self._merger.start()
            return self._merger

    def _merge_safely(self) -> None:
        try:
            self.merge_all()
        except Exception:  # a failed merge leaves the index as it was; the next one retries
            log.exception("merging segments failed")

    def verify(self) -> None:
        """Check every served segment's checksums (``bot.py index`` does, the bot's start-up
        only for small segments); raises IndexDamaged."""
        for live in self.index.segments if self.index else ():
            live.segment.verify()

    @staticmethod
    def _stored_skips(catalog: Catalog) -> list[SkippedFile]:
        skipped = [s for state in catalog.files().values() for s in state.skipped]
        return sorted(skipped, key=lambda s: s.path)

    def _forget(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
        self._root = self._catalog = None
        self.index = self._base = None

    def close(self) -> None:
        with self._lock:
            self._forget()

    # -- writing ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _writer(self) -> Iterator[None]:
        """This process's writers in turn, and other processes' through the lock file."""
        with self._lock:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            with (self.index_dir / "writer.lock").open("a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    def reload(self, progress: Progress | None = None, force: bool = False) -> ReloadReport:
        """Take in what changed in the corpus; on any failure the served index stays.

        ``force`` rebuilds everything into a new index folder (``bot.py index --rebuild``),
        never reading the stored one; questions are answered from the old index until the
        new one is complete. Blocking and CPU-bound: async callers use a worker thread.
        """
        with self._writer():
            started = time.perf_counter()
            if force:
                self._start_fresh()
            else:
                self._refresh()
            self._collect_garbage()  # a killed writer's staging folders, before anything else
            plan = self._plan()
            report = ReloadReport()
            if not plan.empty or force:
                report = self._apply(plan, progress)
                report.rebuilt = force or bool(plan.changed or plan.removed)
            if force:
                self._switch_current()
            assert self._catalog is not None
            report.skipped = sorted(
                [*plan.listing_skipped, *self._stored_skips(self._catalog)], key=lambda s: s.path
            )
            if self.index is not None:
                self.index.skipped = report.skipped
            return self._report(report, started)

    def _report(self, report: ReloadReport, started: float) -> ReloadReport:
        index = self.index
        report.articles = index.article_count if index else 0
        report.passages = len(index) if index else 0
        report.seconds = time.perf_counter() - started
        return report

    def _refresh(self) -> None:
        """Catch up with commits of other processes, or start the index if there is none."""
        try:
            name = (self.index_dir / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            name = ""
        if self._catalog is None or self._root is None or name != self._root.name:
            self._forget()
            self._open_stored()
            if self._catalog is None:  # none yet, or analysed differently: a new one
                self._start_fresh()
                self._switch_current()
            return
        generation = self._catalog.current()
        assert generation is not None and self._base is not None
        if generation.number != self._base.generation.number:
            self.index = self._base = self._open_generation(self._root, generation, self._catalog)

    def _start_fresh(self) -> None:
        """A new, empty index folder to write; served once ``_switch_current`` names it."""
        self._remove_other_folders(keep={self._current_name()})
        root = self.index_dir / f"idx-{uuid.uuid4().hex[:12]}"
        root.mkdir(parents=True)
        catalog = Catalog(root / "catalog.sqlite3")
        catalog.initialise(self.analysis)
        generation = write_generation(root, 0, [], {}, set(), time.time())
        catalog.commit(generation)
        if self._catalog is not None:
            self._catalog.close()
        self._root, self._catalog = root, catalog
        self._base = SearchIndex.open(root, generation, self.params, self.rules)

    def _current_name(self) -> str:
        try:
            return (self.index_dir / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return ""

    def _switch_current(self) -> None:
        """Serve the folder being written, and drop the superseded ones (questions still
        running on the old index keep their memory-mapped files until they finish)."""
        assert self._root is not None
        pointer = self.index_dir / ".CURRENT.tmp"
        pointer.write_text(self._root.name, encoding="utf-8")
        os.replace(pointer, self.index_dir / "CURRENT")
        self.index = self._base
        self._remove_other_folders(keep={self._root.name})

    def _remove_other_folders(self, keep: set[str]) -> None:
        """Index folders of abandoned rebuilds and superseded indexes (writer lock held)."""
        if not self.index_dir.is_dir():
            return
        for entry in self.index_dir.iterdir():
            if entry.is_dir() and entry.name.startswith("idx-") and entry.name not in keep:
                shutil.rmtree(entry, ignore_errors=True)

    def _plan(self) -> _Plan:
        assert self._catalog is not None
        files, listing_skipped = list_corpus(self.corpus_dir)
        known = self._catalog.files()
        changed, touched = [], []
        for file in files:
            record = known.get(file.relpath)
            if record is not None and (record.size, record.mtime_ns) == (file.size, file.mtime_ns):
                continue
            try:
                digest = file_digest(file.path)
            except OSError:
                digest = ""  # unreadable: the reader reports why
            if record is not None and digest and record.digest == digest:
                touched.append(dataclasses.replace(record, size=file.size, mtime_ns=file.mtime_ns))
            else:
                changed.append((file, digest))
        present = {f.relpath for f in files}
        removed = [path for path in known if path not in present]
        return _Plan(changed, touched, removed, listing_skipped)

    def _apply(self, plan: _Plan, progress: Progress | None) -> ReloadReport:
        assert self._catalog is not None
        catalog = self._catalog
        report = ReloadReport()
        removals: dict[str, str] = {}  # id → title, deleted at the next commit
        for record in catalog.articles_of(plan.removed).values():
            removals[record.id] = record.title
        removed = dict(removals)  # every removal of this reload, for the report
        unindexable: dict[str, list[SkippedFile]] = {}
        pending: deque[tuple[bool, ArticleRecord]] = deque()  # per article sent to analysis
        file_states: list[FileState] = list(plan.touched)
        total = sum(f.size for f, _ in plan.changed) or 1
        read = 0

        def articles() -> Iterator[Article]:
            nonlocal read
            for file, digest in plan.changed:
                before = catalog.articles_of([file.relpath])
                skipped: list[SkippedFile] = []
                seen = 0  # bytes of this file, estimated from its articles (JSONL streams)
                for n, item in enumerate(iter_article_file(file), start=1):
                    if isinstance(item, SkippedFile):
                        skipped.append(item)
                        continue
                    seen = min(seen + len(item.text) + len(item.title) + 64, file.size)
                    if progress is not None and n % 500 == 0:
                        progress(read + seen, total)
                    content = content_digest(item)
                    old = before.pop(item.id, None)
                    if old is not None and old.digest == content:
                        continue
                    pending.append((old is not None, ArticleRecord(
                        item.id, file.relpath, content, 0, item.title
                    )))  # fmt: skip
                    yield item
                for old in before.values():
                    removals[old.id] = removed[old.id] = old.title
                file_states.append(
                    FileState(file.relpath, file.size, file.mtime_ns, digest, tuple(skipped))
                )
                read += file.size
                if progress is not None:
                    progress(read, total)

        builder = SegmentBuilder(self.params)
        replaced: set[str] = set()  # changed articles in the builder: old versions go with it
        records: list[ArticleRecord] = []
        for analysed in self.analyser.analyse(articles()):
            is_change, record = pending.popleft()
            if not len(analysed.passages):  # reported, not indexed (nothing could quote it)
                where = analysed.article.path or record.file
                unindexable.setdefault(record.file, []).append(
                    SkippedFile(where, "no text to index")
                )
                if is_change:
                    removals[record.id] = removed[record.id] = record.title
                continue
            builder.add(analysed)
            records.append(record)
            info = ArticleInfo.of(analysed.article)
            (report.changed if is_change else report.added).append(info)
            if is_change:
                replaced.add(record.id)
            if builder.passages >= self.segment_passages:
                self._commit(builder, replaced, removals, records, [], [])
                builder, replaced, records = SegmentBuilder(self.params), set(), []
                removals = {}
        for path, skips in unindexable.items():
            for n, state in enumerate(file_states):
                if state.path == path:
                    file_states[n] = dataclasses.replace(state, skipped=(*state.skipped, *skips))
        self._commit(builder, replaced, removals, records, file_states, plan.removed)
        indexed = {info.id for info in (*report.added, *report.changed)}
        report.removed = [title for i, title in removed.items() if i not in indexed]
        return report

    def _commit(
        self,
        builder: SegmentBuilder,
        replaced: set[str],
        removals: dict[str, str],
        records: list[ArticleRecord],
        files: Sequence[FileState],
        removed_files: Sequence[str],
    ) -> bool:
        """Write the builder's segment, delete what it replaces and what was removed, and
        commit one generation (or only file records if nothing else changed: returns False)."""
        assert self._catalog is not None and self._root is not None and self._base is not None
        index = self._base
        doomed = replaced | set(removals)
        if not len(builder) and not any(index.article(i) for i in doomed):
            if files or removed_files:
                self._catalog.commit(None, files, removed_files, (), list(removals))
            return False
        number = index.generation.number + 1
        deletions: dict[int, list[int]] = {}
        for article_id in doomed:
            for ref in index.article_passages(article_id):
                deletions.setdefault(ref.segment, []).append(ref.doc)
        live: list[LiveSegment] = []
        changed_names: set[str] = set()
        for position, current in enumerate(index.segments):
            docs = np.array(sorted(deletions.get(position, ())), np.int64)
            if not len(docs):
                live.append(current)
                continue
            deleted = np.array(current.deleted, bool)
            deleted[docs] = True
            if deleted.all():
                continue  # nothing left in it: the segment leaves the generation
            live_df = np.asarray(current.live_df, np.int64) - deleted_doc_freq(
                current.segment, docs
            )
            live.append(LiveSegment(current.segment, deleted, live_df))
            changed_names.add(current.segment.name)
        if len(builder):
            name = f"seg-{number:08d}-{uuid.uuid4().hex[:6]}"
            arrays, basis = builder.build()
            write_segment(arrays, self._root / name, {"generation": number, **basis})
            segment = Segment(self._root / name)
            live.append(
                LiveSegment(segment, np.zeros(segment.arrays.passages, bool), own_doc_freq(segment))
            )
            changed_names.add(name)
        previous = {s.name: s for s in index.generation.segments}
        generation = write_generation(
            self._root, number, live, previous, changed_names, time.time()
        )
        records = [dataclasses.replace(r, added=number) for r in records]
        gone = [i for i in removals if i not in {r.id for r in records}]
        self._catalog.commit(generation, files, removed_files, records, gone)
        self._publish(SearchIndex.open(
            self._root, generation, self.params, self.rules, index.skipped, live
        ))  # fmt: skip
        return True

    def _publish(self, index: SearchIndex) -> None:
        """The new commit becomes the base for writing, and is served unless a rebuild is
        still under way in a folder that is not current yet."""
        serving = self._base is self.index
        self._base = index
        if serving or (self._root is not None and self._root.name == self._current_name()):
            self.index = index
        self._collect_garbage()

    @contextlib.contextmanager
    def _merge_lock(self, wait: bool) -> Iterator[bool]:
        """Held for a whole merge, by one process at a time: while it is held, segment folders
        that no generation names yet may be a merge's output, not debris."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with (self.index_dir / "merge.lock").open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def drop_superseded(self) -> None:
        """Keep only the served generation's files (``bot.py index`` ends with this: a big
        merge would otherwise leave the segments it replaced on disk until the next commit;
        a process still reading them keeps its memory maps)."""
        with self._writer():
            if self._catalog is not None:
                self._collect_garbage(keep=1)

    def _collect_garbage(self, keep: int = KEEP_GENERATIONS) -> None:
        """Delete segments and generation files that no kept generation reads, and what a
        killed writer left half-written (never while a merge, here or elsewhere, runs)."""
        assert self._catalog is not None and self._root is not None
        self._catalog.forget_generations(keep)
        kept = self._catalog.generations()
        segments = {s.name for g in kept for s in g.segments}
        files = set().union(*(g.files() for g in kept)) if kept else set()
        with self._merge_lock(wait=False) as no_merge_running:
            for entry in self._root.iterdir():
                stray = entry.name.startswith(".tmp-") or (
                    entry.name.startswith("seg-") and entry.name not in segments
                )
                if stray and no_merge_running:
                    shutil.rmtree(entry, ignore_errors=True)
        for entry in self._root.iterdir():
            if entry.name.startswith("gen-") and entry.is_dir():
                for file in entry.iterdir():
                    if f"{entry.name}/{file.name}" not in files:
                        file.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    entry.rmdir()  # only if empty

    # -- merging ----------------------------------------------------------------------------

    def merge(self, everything: bool = False) -> bool:
        """One merge the policy asks for (``everything``: all segments into one); True if a
        merge was committed. The slow part runs without the writer lock; questions and
        reloads go on meanwhile, and deletions made during the merge are carried over."""
        with self._lock:
            snapshot = self._base
            root = self._root
        if snapshot is None or root is None:
            return False
        states = snapshot.generation.segments
        if everything:  # Lucene's forceMerge(1): one segment without deletions
            compacted = len(states) == 1 and not snapshot.segments[0].deleted.any()
            run = None if not states or compacted else range(len(states))
        else:
            totals = [live.segment.arrays.passages for live in snapshot.segments]
            run = self.merge_policy.select(states, totals)
        if run is None:
            return False
        with self._merge_lock(wait=True):
            lives = [snapshot.segments[i] for i in run]
            arrays, basis = merge_segments(lives, self.params)
            name = f"seg-{snapshot.generation.number:08d}-m{uuid.uuid4().hex[:6]}"
            merged = [live.segment.name for live in lives]
            write_segment(arrays, root / name, {"merged": merged, **basis})
            del arrays
            with self._writer():
                self._refresh()
                if self._root != root or not self._commit_merge(lives, root / name):
                    shutil.rmtree(root / name, ignore_errors=True)
                    return False
        try:  # the merged segment, before questions fault it in page by page
            self.preload()
        except OSError as error:  # committed all the same: questions fault the pages in
            log.warning("preloading the merged segment failed: %s", error)
        return True

    def _commit_merge(self, merged: Sequence[LiveSegment], directory: Path) -> bool:
        assert self._catalog is not None and self._root is not None and self._base is not None
        index = self._base
        names = [live.segment.name for live in merged]
        positions = [n for n, live in enumerate(index.segments) if live.segment.name in names]
        if len(positions) != len(names) or positions != list(
            range(positions[0], positions[0] + len(names))
        ):
            return False  # another writer changed these segments meanwhile
        segment = Segment(directory)
        deleted = np.zeros(segment.arrays.passages, bool)
        # Articles deleted after the merge started are deleted in the merged segment too.
        for before, now in zip(merged, (index.segments[p] for p in positions), strict=True):
            newly = np.flatnonzero(np.asarray(now.deleted) & ~np.asarray(before.deleted))
            rows = np.unique(before.segment.arrays.doc_art[newly])
            for key in before.segment.arrays.art_key[rows].tolist():
                row = segment.find_article(int(key))
                if row >= 0:
                    a = segment.arrays
                    deleted[a.art_docs[row] : a.art_docs[row + 1]] = True
        docs = np.flatnonzero(deleted)
        live_df = own_doc_freq(segment) - deleted_doc_freq(segment, docs)
        replacement = LiveSegment(segment, deleted, live_df)
        live = [
            *index.segments[: positions[0]],
            replacement,
            *index.segments[positions[-1] + 1 :],
        ]
        number = index.generation.number + 1
        previous: dict[str, SegmentState] = {s.name: s for s in index.generation.segments}
        generation = write_generation(
            self._root, number, live, previous, {segment.name}, time.time()
        )
        self._catalog.commit(generation)
        self._publish(
            SearchIndex.open(self._root, generation, self.params, self.rules, index.skipped, live)
        )
        return True

    def merge_all(self, everything: bool = False) -> int:
        """Merge until the policy is satisfied (``everything``: into one segment)."""
        merges = 0
        while self.merge(everything):
            merges += 1
            if everything:
                break
        return merges


def build_index(
    articles: Iterable[Article],
    analyzer: Analyzer | None = None,
    params: BM25Params = BM25Params(),
    rules: PassageRules = PassageRules(),
    analyser: ArticleAnalyser | None = None,
) -> SearchIndex:
    """A one-segment index of ``articles``, not kept on disk (evaluations, tuning, tests).

    Built in a temporary folder that is removed at once: the index's memory maps keep the
    data for as long as the index lives.
    """
    analyser = analyser or ArticleAnalyser(analyzer or Analyzer(), rules)
    builder = SegmentBuilder(params)
    for analysed in analyser.analyse(articles):
        if len(analysed.passages):
            builder.add(analysed)
    with tempfile.TemporaryDirectory(prefix="bot-index-") as folder:
        root = Path(folder)
        live = []
        if len(builder):
            arrays, basis = builder.build()
            write_segment(arrays, root / "seg-1", basis)
            segment = Segment(root / "seg-1")
            deleted = np.zeros(segment.arrays.passages, bool)
            live.append(LiveSegment(segment, deleted, own_doc_freq(segment)))
        generation = write_generation(
            root, 1, live, {}, {s.segment.name for s in live}, time.time()
        )
        return SearchIndex.open(root, generation, params, rules, [], live)
