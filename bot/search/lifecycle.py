"""Keeping the served index in step with the corpus directory.

:class:`IndexManager` owns the live :class:`SearchIndex`. It loads the stored index at start-up
when the corpus is unchanged, and otherwise (or on ``reload``) rescans, rebuilds reusing the
analysis of unchanged articles, saves, and swaps the new index in with one assignment, so
readers of ``manager.index`` always see a whole index. Reloads are serialised by a lock.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.articles import read_corpus
from bot.articles.model import Article, SkippedFile
from bot.search.bm25 import BM25Params
from bot.search.index import Progress, SearchIndex, build_index
from bot.search.storage import IndexNotFound, corpus_manifest, load_index, load_manifest, save_index
from bot.text.analysis import Analyzer
from bot.text.passages import PassageRules

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ReloadReport:
    """What a rebuild changed, for editors (``/reload``, ``bot.py index``) and for alerts."""

    added: list[Article] = field(default_factory=list)
    changed: list[Article] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # titles
    skipped: list[SkippedFile] = field(default_factory=list)
    articles: int = 0
    passages: int = 0
    seconds: float = 0.0
    rebuilt: bool = True


def _unchanged(index: SearchIndex, seconds: float = 0.0) -> ReloadReport:
    """The report of a reload that found nothing to rebuild."""
    return ReloadReport(
        skipped=index.skipped,
        articles=len(index.articles),
        passages=len(index),
        seconds=seconds,
        rebuilt=False,
    )


def diff_articles(old: SearchIndex | None, new: SearchIndex) -> tuple[list, list, list]:
    """(added, changed, removed titles) between two indexes, by article id and content."""
    before = (
        {}
        if old is None
        else {a.id: (a, fp) for a, fp in zip(old.articles, old.fingerprints, strict=True)}
    )
    added, changed = [], []
    for article, fp in zip(new.articles, new.fingerprints, strict=True):
        previous = before.pop(article.id, None)
        if previous is None:
            added.append(article)
        elif previous[1] != fp:
            changed.append(article)
    return added, changed, [a.title for a, _ in before.values()]


class IndexManager:
    """The live index of one corpus directory, persisted under ``index_dir``."""

    def __init__(
        self,
        corpus_dir: Path,
        index_dir: Path,
        analyzer: Analyzer | None = None,
        params: BM25Params = BM25Params(),
        rules: PassageRules = PassageRules(),
    ) -> None:
        self.corpus_dir = corpus_dir
        self.index_dir = index_dir
        self.analyzer = analyzer or Analyzer()
        self.params = params
        self.rules = rules
        self.index: SearchIndex | None = None
        self._manifest: dict[str, list[int]] | None = None
        self._lock = threading.Lock()

    def open(self, progress: Progress | None = None) -> ReloadReport:
        """Serve the stored index if the corpus is unchanged since it was built, else rebuild."""
        manifest = corpus_manifest(self.corpus_dir)
        if load_manifest(self.index_dir) == manifest:
            try:
                index = load_index(self.index_dir)
            except IndexNotFound as exc:
                log.warning("stored index unusable (%s); rebuilding", exc)
            else:
                if index.params == self.params and index.rules == self.rules:
                    self._swap(index, manifest)
                    return _unchanged(index)
        return self.reload(progress)

    def reload(self, progress: Progress | None = None, force: bool = False) -> ReloadReport:
        """Rescan and rebuild; on any failure the previous index stays in service.

        Nothing is rebuilt when no corpus file changed since the live index was built, unless
        ``force``. Blocking and CPU-bound: async callers run it in a worker thread.
        """
        with self._lock:
            started = time.perf_counter()
            manifest = corpus_manifest(self.corpus_dir)
            if not force and self.index is not None and manifest == self._manifest:
                return _unchanged(self.index, time.perf_counter() - started)
            previous = self.index
            if previous is None:
                try:  # a stale stored index still saves re-analysing unchanged articles
                    previous = load_index(self.index_dir)
                except IndexNotFound:
                    previous = None
            scan = read_corpus(self.corpus_dir)
            index = build_index(
                scan.articles,
                self.analyzer,
                self.params,
                self.rules,
                previous=previous,
                skipped=scan.skipped,
                progress=progress,
            )
            save_index(index, self.index_dir, manifest)
            added, changed, removed = diff_articles(previous, index)
            self._swap(index, manifest)
            return ReloadReport(
                added,
                changed,
                removed,
                scan.skipped,
                len(index.articles),
                len(index),
                time.perf_counter() - started,
            )

    def _swap(self, index: SearchIndex, manifest: dict[str, list[int]]) -> None:
        self._manifest = manifest  # what the served index was built from
        self.index = index  # one reference assignment: readers see the old or the new index
