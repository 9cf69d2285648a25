"""IndexManager: build, store, load unchanged, rebuild incrementally, survive failures."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from bot.search import storage
from bot.search.index import SearchIndex
from bot.search.lifecycle import IndexManager
from bot.search.storage import corpus_manifest, current_version, load_index, save_index
from bot.text.analysis import Analyzer

ALPHA = """---
title: Harbour bridge reopens after repairs
source: City Desk
date: 2024-03-02
---

The harbour bridge reopened on Saturday after eight months of repairs. Engineers replaced
the corroded cables.

Traffic was light in the morning. Cyclists welcomed the new lanes.
"""

BETA = """---
title: Library extends opening hours
source: City Desk
date: 2024-03-05
---

The central library will open until midnight during the exam season. Students had asked for
longer hours.

The council pays for the extra staff from the culture budget.
"""

GAMMA = """Title: Orchard harvest breaks record
Date: 2024-09-10
Source: Farm Weekly

Apple growers in the valley picked a record harvest this autumn. Warm spring weather helped.

Prices fell as a result. Cider makers bought the surplus.
"""

DELTA = """---
title: Ferry timetable changes
---

The morning ferry will leave at seven instead of six from next month. Commuters complained.
"""


class CountingAnalyzer(Analyzer):
    """An Analyzer that records every text it is asked to analyse."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def terms(self, text: str) -> list[str]:
        self.texts.append(text)
        return super().terms(text)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "alpha.md").write_text(ALPHA, encoding="utf-8")
    (folder / "beta.md").write_text(BETA, encoding="utf-8")
    (folder / "gamma.txt").write_text(GAMMA, encoding="utf-8")
    return folder


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "data" / "index"


def titles(index: SearchIndex) -> list[str]:
    return [a.title for a in index.articles]


def search_rows(index: SearchIndex, question: str) -> list[tuple[int, float]]:
    return index.search(Analyzer().terms(question), 10)


def touch_later(path: Path, text: str) -> None:
    """Rewrite ``path`` and make sure its mtime moves even on coarse file systems."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


def test_open_builds_and_saves(corpus: Path, index_dir: Path) -> None:
    manager = IndexManager(corpus, index_dir)
    report = manager.open()
    assert report.rebuilt is True
    assert sorted(a.title for a in report.added) == sorted(
        [
            "Harbour bridge reopens after repairs",
            "Library extends opening hours",
            "Orchard harvest breaks record",
        ]
    )
    assert report.changed == [] and report.removed == [] and report.skipped == []
    assert report.articles == 3 and report.passages == len(manager.index) > 0
    assert (index_dir / "CURRENT").is_file()
    assert current_version(index_dir).is_dir()
    assert search_rows(manager.index, "harbour bridge cables")


def test_second_open_loads_without_rebuilding_or_analysing(corpus: Path, index_dir: Path) -> None:
    first = IndexManager(corpus, index_dir)
    first.open()
    analyzer = CountingAnalyzer()
    second = IndexManager(corpus, index_dir, analyzer)
    report = second.open()
    assert report.rebuilt is False
    assert analyzer.texts == []
    assert report.articles == 3 and report.passages == len(first.index)
    assert titles(second.index) == titles(first.index)
    assert search_rows(second.index, "library midnight") == search_rows(
        first.index, "library midnight"
    )


def test_stored_index_equals_the_built_one(corpus: Path, index_dir: Path) -> None:
    built = IndexManager(corpus, index_dir)
    built.open()
    loaded = load_index(index_dir)
    a, b = built.index, loaded
    assert a.articles == b.articles
    assert a.fingerprints == b.fingerprints
    assert a.vocabulary == b.vocabulary
    assert a.params == b.params and a.rules == b.rules
    for column in ("article", "paragraph", "start", "end", "length", "token_offsets", "tokens"):
        assert np.array_equal(getattr(a.passages, column), getattr(b.passages, column)), column
    for column in ("indptr", "indices", "weights", "idf"):
        assert np.array_equal(getattr(a.postings, column), getattr(b.postings, column)), column
    for i in range(len(a)):
        assert a.passage(i) == b.passage(i)
        assert a.passage_terms(i) == b.passage_terms(i)
    for question in ["harbour bridge", "record harvest prices", "council culture budget staff"]:
        assert search_rows(a, question) == search_rows(b, question)
        assert search_rows(a, question)


def test_reload_reports_added_and_reuses_unchanged_analysis(corpus: Path, index_dir: Path) -> None:
    analyzer = CountingAnalyzer()
    manager = IndexManager(corpus, index_dir, analyzer)
    manager.open()
    assert analyzer.texts  # the first build analysed everything
    (corpus / "delta.md").write_text(DELTA, encoding="utf-8")
    analyzer.texts.clear()
    report = manager.reload()
    assert [a.title for a in report.added] == ["Ferry timetable changes"]
    assert report.changed == [] and report.removed == []
    assert report.rebuilt is True and report.articles == 4
    new = manager.index.articles[titles(manager.index).index("Ferry timetable changes")]
    # Only the new article was analysed: its title and its passages.
    assert analyzer.texts
    assert all(t == new.title or t in new.text for t in analyzer.texts), analyzer.texts
    # ...and a question costs one more call, for the question only.
    analyzer.texts.clear()
    analyzer.terms("When does the ferry leave?")
    assert analyzer.texts == ["When does the ferry leave?"]
    assert search_rows(manager.index, "ferry timetable seven")


def test_reload_reports_changed_and_removed(corpus: Path, index_dir: Path) -> None:
    analyzer = CountingAnalyzer()
    manager = IndexManager(corpus, index_dir, analyzer)
    manager.open()
    old_ids = {a.title: a.id for a in manager.index.articles}
    touch_later(corpus / "beta.md", BETA.replace("midnight", "two in the morning"))
    (corpus / "gamma.txt").unlink()
    analyzer.texts.clear()
    report = manager.reload()
    assert [a.title for a in report.changed] == ["Library extends opening hours"]
    assert report.changed[0].id == old_ids["Library extends opening hours"]  # same file, same id
    assert report.added == []
    assert report.removed == ["Orchard harvest breaks record"]
    assert all(
        t == "Library extends opening hours" or t in report.changed[0].text for t in analyzer.texts
    )
    assert search_rows(manager.index, "midnight") == []
    assert search_rows(manager.index, "orchard harvest") == []
    assert search_rows(manager.index, "two in the morning library")


def test_unchanged_reload_analyses_nothing_and_reports_nothing(
    corpus: Path, index_dir: Path
) -> None:
    analyzer = CountingAnalyzer()
    manager = IndexManager(corpus, index_dir, analyzer)
    manager.open()
    analyzer.texts.clear()
    report = manager.reload()
    assert (report.added, report.changed, report.removed) == ([], [], [])
    assert analyzer.texts == []


def test_fresh_manager_reuses_the_stale_stored_index(corpus: Path, index_dir: Path) -> None:
    IndexManager(corpus, index_dir).open()
    (corpus / "delta.md").write_text(DELTA, encoding="utf-8")
    analyzer = CountingAnalyzer()
    report = IndexManager(corpus, index_dir, analyzer).open()
    assert report.rebuilt is True and report.articles == 4
    delta = "Ferry timetable changes " + DELTA.split("---")[-1]
    assert analyzer.texts and all(t in delta for t in analyzer.texts), analyzer.texts


def test_fresh_manager_reports_only_what_changed_since_the_stored_index(
    corpus: Path, index_dir: Path
) -> None:
    IndexManager(corpus, index_dir).open()
    (corpus / "delta.md").write_text(DELTA, encoding="utf-8")
    report = IndexManager(corpus, index_dir).open()
    assert [a.title for a in report.added] == ["Ferry timetable changes"]


def test_broken_files_are_skipped_with_a_reason(corpus: Path, index_dir: Path) -> None:
    (corpus / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01")
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "latin1.txt").write_bytes("Caf\xe9 au lait is served.".encode("latin-1"))
    manager = IndexManager(corpus, index_dir)
    report = manager.open()
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == {"photo.txt", "empty.md", "latin1.txt"}
    assert "binary" in reasons["photo.txt"]
    assert "empty" in reasons["empty.md"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert report.articles == 3
    # The stored index remembers them: a later start-up reports them without rescanning.
    again = IndexManager(corpus, index_dir).open()
    assert again.rebuilt is False
    assert {s.path: s.reason for s in again.skipped} == reasons


def test_failed_save_leaves_the_previous_index_in_service(
    corpus: Path, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = IndexManager(corpus, index_dir)
    manager.open()
    before = manager.index
    version = current_version(index_dir)

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("bot.search.lifecycle.save_index", broken_save)
    (corpus / "delta.md").write_text(DELTA, encoding="utf-8")
    with pytest.raises(OSError, match="disk full"):
        manager.reload()
    assert manager.index is before
    assert "Ferry timetable changes" not in titles(manager.index)
    assert current_version(index_dir) == version
    assert titles(load_index(index_dir)) == titles(before)


def test_save_failing_half_way_keeps_current_and_leaves_no_debris(
    corpus: Path, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = IndexManager(corpus, index_dir)
    manager.open()
    before = manager.index
    version = current_version(index_dir)
    real_write = storage._write_json

    def failing_write(path: Path, value: object) -> None:
        if path.name == "meta.json":
            raise OSError("I/O error")
        real_write(path, value)

    monkeypatch.setattr(storage, "_write_json", failing_write)
    (corpus / "delta.md").write_text(DELTA, encoding="utf-8")
    with pytest.raises(OSError, match="I/O error"):
        manager.reload()
    assert manager.index is before
    assert current_version(index_dir) == version
    leftovers = {p.name for p in index_dir.iterdir()} - {".lock"}  # the writers' lock file
    assert leftovers == {"CURRENT", version.name}
    assert titles(load_index(index_dir)) == titles(before)
    # Once the disk is fine again, the next reload succeeds and reports the new article.
    monkeypatch.setattr(storage, "_write_json", real_write)
    report = manager.reload()
    assert [a.title for a in report.added] == ["Ferry timetable changes"]
    assert current_version(index_dir) != version
    assert not version.exists()  # old versions are cleaned up


def test_failed_analysis_leaves_the_previous_index_in_service(
    corpus: Path, index_dir: Path
) -> None:
    class Exploding(Analyzer):
        armed = False

        def terms(self, text: str) -> list[str]:
            if self.armed:
                raise RuntimeError("analyzer crashed")
            return super().terms(text)

    analyzer = Exploding()
    manager = IndexManager(corpus, index_dir, analyzer)
    manager.open()
    before = manager.index
    (corpus / "delta.md").write_text(DELTA, encoding="utf-8")
    analyzer.armed = True
    with pytest.raises(RuntimeError):
        manager.reload()
    assert manager.index is before
    assert titles(load_index(index_dir)) == titles(before)


def test_reload_without_changes_rebuilds_nothing(corpus: Path, index_dir: Path) -> None:
    manager = IndexManager(corpus, index_dir)
    manager.open()
    served = manager.index
    report = manager.reload()
    assert report.rebuilt is False and manager.index is served
    assert manager.reload(force=True).rebuilt is True and manager.index is not served


def test_manifest_ignores_hidden_files(corpus: Path) -> None:
    (corpus / ".DS_Store").write_bytes(b"junk")
    (corpus / ".git").mkdir()
    (corpus / ".git" / "HEAD").write_text("ref", encoding="utf-8")
    assert sorted(corpus_manifest(corpus)) == ["alpha.md", "beta.md", "gamma.txt"]


def test_save_index_makes_the_new_version_current(corpus: Path, index_dir: Path) -> None:
    manager = IndexManager(corpus, index_dir)
    manager.open()
    first = current_version(index_dir)
    second = save_index(manager.index, index_dir, corpus_manifest(corpus))
    assert current_version(index_dir) == second != first
    assert not first.exists()
    assert titles(load_index(index_dir)) == titles(manager.index)


def test_index_built_by_another_process_is_still_a_change_for_the_running_one(
    corpus: Path, index_dir: Path
) -> None:
    bot = IndexManager(corpus, index_dir)
    bot.open()
    (corpus / "delta.md").write_text(DELTA, encoding="utf-8")
    IndexManager(corpus, index_dir).open()  # `python bot.py index` while the bot runs
    report = bot.reload()
    assert report.rebuilt and [a.title for a in report.added] == ["Ferry timetable changes"]
    assert "Ferry timetable changes" in titles(bot.index)
