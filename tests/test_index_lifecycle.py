"""IndexManager: incremental reloads, segments and merges, crash safety, damaged indexes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rank_bm25 import BM25Okapi

from bot.search import lifecycle
from bot.search.lifecycle import IndexManager
from bot.search.merge import MergePolicy
from bot.text.analysis import Analyzer

ROOT = Path(__file__).resolve().parents[1]

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

    def terms(self, text: str, language: str | None = None) -> list[str]:
        self.texts.append(text)
        return super().terms(text, language)

    def tokens(self, text: str, language: str | None = None):
        self.texts.append(text)
        return super().tokens(text, language)


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


def manager_for(corpus: Path, index_dir: Path, **kwargs) -> IndexManager:
    kwargs.setdefault("analyzer", Analyzer())
    return IndexManager(corpus, index_dir, **kwargs)


def titles(manager: IndexManager) -> list[str]:
    return [a.title for a in manager.index.articles()]


def found(manager: IndexManager, question: str) -> set[str]:
    index = manager.index
    return {
        index.passage(h.ref).article.title for h in index.search(Analyzer().terms(question), 10)
    }


def touch_later(path: Path, text: str) -> None:
    """Rewrite ``path`` and make sure its mtime moves even on coarse file systems."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


def test_open_builds_and_serves(corpus: Path, index_dir: Path) -> None:
    manager = manager_for(corpus, index_dir)
    report = manager.open()
    assert report.rebuilt is True
    assert sorted(a.title for a in report.added) == [
        "Harbour bridge reopens after repairs",
        "Library extends opening hours",
        "Orchard harvest breaks record",
    ]
    assert report.changed == [] and report.removed == [] and report.skipped == []
    assert report.articles == 3 and report.passages == len(manager.index) > 0
    assert found(manager, "harbour bridge cables") == {"Harbour bridge reopens after repairs"}


def test_second_open_reads_nothing_and_analyses_nothing(corpus: Path, index_dir: Path) -> None:
    first = manager_for(corpus, index_dir)
    first.open()
    analyzer = CountingAnalyzer()
    second = manager_for(corpus, index_dir, analyzer=analyzer)
    report = second.open()
    assert report.rebuilt is False and analyzer.texts == []
    assert report.articles == 3 and report.passages == len(first.index)
    assert titles(second) == titles(first)
    question = Analyzer().terms("library midnight")
    assert second.index.search(question, 5) == first.index.search(question, 5)


def test_a_new_file_costs_only_itself(corpus: Path, index_dir: Path) -> None:
    analyzer = CountingAnalyzer()
    manager = manager_for(corpus, index_dir, analyzer=analyzer)
    manager.open()
    (corpus / "delta.md").write_text(DELTA, encoding="utf-8")
    analyzer.texts.clear()
    report = manager.reload()
    assert [a.title for a in report.added] == ["Ferry timetable changes"]
    assert report.changed == [] and report.removed == [] and report.rebuilt
    assert report.articles == 4
    # Only the new article was analysed: its title and its sentences.
    assert analyzer.texts and all(
        t in DELTA or t == "Ferry timetable changes" for t in analyzer.texts
    )
    assert found(manager, "ferry timetable seven") == {"Ferry timetable changes"}
    assert len(manager.index.segments) == 2  # a new small segment; the old one untouched


def test_changed_and_removed_files(corpus: Path, index_dir: Path) -> None:
    manager = manager_for(corpus, index_dir)
    manager.open()
    old_ids = {a.title: a.id for a in manager.index.articles()}
    touch_later(corpus / "beta.md", BETA.replace("midnight", "two in the morning"))
    (corpus / "gamma.txt").unlink()
    report = manager.reload()
    assert [a.title for a in report.changed] == ["Library extends opening hours"]
    assert report.changed[0].id == old_ids["Library extends opening hours"]  # same file, same id
    assert report.added == [] and report.removed == ["Orchard harvest breaks record"]
    assert found(manager, "midnight") == set()
    assert found(manager, "orchard harvest") == set()
    assert "Library extends opening hours" in found(manager, "two in the morning library")
    assert manager.index.article_count == 2


def test_unchanged_and_touched_files_are_not_parsed(
    corpus: Path, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = manager_for(corpus, index_dir)
    manager.open()
    parsed: list[str] = []
    real = lifecycle.iter_article_file
    monkeypatch.setattr(
        lifecycle, "iter_article_file", lambda f: parsed.append(f.relpath) or real(f)
    )
    served = manager.index
    report = manager.reload()
    assert not report.rebuilt and manager.index is served and parsed == []
    touch_later(corpus / "alpha.md", ALPHA)  # saved again, same content
    report = manager.reload()
    assert not report.rebuilt and manager.index is served and parsed == []
    assert manager.reload().rebuilt is False  # the new mtime was recorded


def test_one_changed_record_of_a_jsonl_costs_only_that_record(
    corpus: Path, index_dir: Path
) -> None:
    records = [
        {
            "id": f"r{n}",
            "title": f"Record {n} about harbour {n}",
            "text": f"Ships number {n} came in. They left.",
        }
        for n in range(40)
    ]
    feed = corpus / "feed.jsonl"
    feed.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    analyzer = CountingAnalyzer()
    manager = manager_for(corpus, index_dir, analyzer=analyzer)
    manager.open()
    records[7]["text"] = "Ships number 7 were late. Nobody knew why."
    del records[20]
    touch_later(feed, "\n".join(json.dumps(r) for r in records))
    analyzer.texts.clear()
    report = manager.reload()
    assert [a.title for a in report.changed] == ["Record 7 about harbour 7"]
    assert report.removed == ["Record 20 about harbour 20"] and report.added == []
    assert set(analyzer.texts) <= {
        "Record 7 about harbour 7", "Ships number 7 were late.", "Nobody knew why."
    }  # fmt: skip
    top = manager.index.search(Analyzer().terms("ships late nobody knew"), 1)[0]
    assert manager.index.passage(top.ref).article.title == "Record 7 about harbour 7"


def test_bad_files_are_reported_and_remembered(corpus: Path, index_dir: Path) -> None:
    (corpus / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01")
    (corpus / "empty.md").write_bytes(b"")
    (corpus / os.fsdecode(b"caf\xe9.txt")).write_text(
        "Caf\u00e9 news. It opened.", encoding="utf-8"
    )
    report = manager_for(corpus, index_dir).open()
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == {"photo.txt", "empty.md", "caf\\xe9.txt"}
    assert "binary" in reasons["photo.txt"] and "empty" in reasons["empty.md"]
    assert "UTF-8" in reasons["caf\\xe9.txt"]
    assert report.articles == 3  # the good ones
    again = manager_for(corpus, index_dir).open()  # remembered without reading them again
    assert again.rebuilt is False
    assert {s.path: s.reason for s in again.skipped} == reasons


def test_every_record_is_indexed_or_reported(corpus: Path, index_dir: Path) -> None:
    (corpus / "short.jsonl").write_text(
        json.dumps({"title": "Storm closes port", "text": "Port closed by storm"}) + "\n",
        encoding="utf-8",
    )
    manager = manager_for(corpus, index_dir)
    report = manager.open()
    assert "Storm closes port" in titles(manager)  # a heading-like text is still a passage
    assert report.skipped == []
    assert found(manager, "port storm") == {"Storm closes port"}


def test_a_failed_commit_keeps_the_previous_index(
    corpus: Path, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = manager_for(corpus, index_dir)
    manager.open()
    before = manager.index

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(lifecycle, "write_generation", broken)
    (corpus / "delta.md").write_text(DELTA, encoding="utf-8")
    with pytest.raises(OSError, match="disk full"):
        manager.reload()
    assert manager.index is before and "Ferry timetable changes" not in titles(manager)
    fresh = manager_for(corpus, index_dir)  # nothing half-committed on disk either
    monkeypatch.undo()
    assert fresh.open().added[0].title == "Ferry timetable changes"
    assert sorted(titles(fresh)) == sorted([*titles(manager), "Ferry timetable changes"])


def test_failed_analysis_keeps_the_previous_index(corpus: Path, index_dir: Path) -> None:
    class Exploding(Analyzer):
        armed = False

        def tokens(self, text: str, language: str | None = None):
            if self.armed:
                raise RuntimeError("analyzer crashed")
            return super().tokens(text, language)

    analyzer = Exploding()
    manager = manager_for(corpus, index_dir, analyzer=analyzer)
    manager.open()
    before = manager.index
    (corpus / "delta.md").write_text(DELTA, encoding="utf-8")
    analyzer.armed = True
    with pytest.raises(RuntimeError):
        manager.reload()
    assert manager.index is before


def test_rebuild_serves_the_old_index_until_the_new_one_is_complete(
    corpus: Path, index_dir: Path
) -> None:
    manager = manager_for(corpus, index_dir)
    manager.open()
    served = manager.index
    report = manager.reload(force=True)
    assert report.rebuilt and manager.index is not served
    assert sorted(titles(manager)) == sorted(a.title for a in served.articles())
    assert len([p for p in index_dir.iterdir() if p.name.startswith("idx-")]) == 1


def test_a_truncated_segment_is_detected_reported_and_rebuilt(
    corpus: Path, index_dir: Path
) -> None:
    manager_for(corpus, index_dir).open()
    (data,) = index_dir.glob("idx-*/seg-*/arrays.bin")
    with data.open("r+b") as f:
        f.truncate(data.stat().st_size // 2)  # what killed the bot with SIGBUS
    manager = manager_for(corpus, index_dir)
    report = manager.open()
    assert "arrays.bin has" in report.damaged
    assert report.articles == 3 and found(manager, "orchard harvest")
    assert not data.exists()  # the damaged index folder is gone


def test_a_flipped_byte_is_caught_by_the_checksum(corpus: Path, index_dir: Path) -> None:
    manager_for(corpus, index_dir).open()
    (data,) = index_dir.glob("idx-*/seg-*/arrays.bin")
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    report = manager_for(corpus, index_dir).open()
    assert "checksum" in report.damaged and report.articles == 3


def test_rebuild_never_reads_a_damaged_catalog(corpus: Path, index_dir: Path) -> None:
    manager_for(corpus, index_dir).open()
    (catalog,) = index_dir.glob("idx-*/catalog.sqlite3")
    for side in catalog.parent.glob("catalog.sqlite3*"):
        side.write_bytes(b"garbage" * 100)
    manager = manager_for(corpus, index_dir)
    report = manager.reload(force=True)
    assert report.articles == 3 and found(manager, "library midnight")


def test_stale_staging_left_by_a_killed_writer_is_removed(corpus: Path, index_dir: Path) -> None:
    manager = manager_for(corpus, index_dir)
    manager.open()
    (root,) = index_dir.glob("idx-*")
    (root / ".tmp-seg-00000009-abcdef").mkdir()
    (root / ".tmp-seg-00000009-abcdef" / "arrays.bin").write_bytes(b"x" * 1000)
    (root / "seg-00000009-abcdef").mkdir()  # written, never committed
    manager_for(corpus, index_dir).open()
    assert not (root / ".tmp-seg-00000009-abcdef").exists()
    assert not (root / "seg-00000009-abcdef").exists()


def test_merges_keep_order_and_carry_over_deletions(corpus: Path, index_dir: Path) -> None:
    policy = MergePolicy(merge_factor=3, min_passages=1)
    manager = manager_for(corpus, index_dir, merge_policy=policy)
    manager.open()
    for n in range(3):
        (corpus / f"new{n}.md").write_text(DELTA.replace("Ferry", f"Ferry {n}"), encoding="utf-8")
        manager.reload()
    assert len(manager.index.segments) == 4
    order = titles(manager)
    release, started = threading.Event(), threading.Event()
    real = lifecycle.merge_segments

    def slow_merge(lives, params):
        started.set()
        release.wait(10)
        return real(lives, params)

    lifecycle.merge_segments = slow_merge
    try:
        merging = threading.Thread(target=manager.merge_all)
        merging.start()
        assert started.wait(10)
        # While the merge runs: questions are answered and a reload commits, unblocked.
        assert found(manager, "harbour bridge")
        (corpus / "new1.md").unlink()
        removed = manager.reload()
        assert removed.removed == ["Ferry 1 timetable changes"]
        release.set()
        merging.join(10)
    finally:
        lifecycle.merge_segments = real
    assert len(manager.index.segments) < 4
    assert titles(manager) == [t for t in order if t != "Ferry 1 timetable changes"]
    assert found(manager, "ferry 1 timetable") == {
        "Ferry 0 timetable changes",
        "Ferry 2 timetable changes",
    }


def _live_corpus(manager: IndexManager) -> list[list[str]]:
    return [manager.index.passage_terms(r) for r in manager.index.passages()]


@pytest.mark.parametrize("seed", range(3))
def test_random_adds_changes_deletes_merges_and_restarts_match_rank_bm25(
    tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    words = [
        "harbour",
        "bridge",
        "ferry",
        "library",
        "council",
        "harvest",
        "apple",
        "storm",
        "port",
        "ship",
        "vote",
    ]
    policy = MergePolicy(merge_factor=2, min_passages=1, max_deleted_share=0.5)
    make = lambda: IndexManager(  # noqa: E731
        corpus, index_dir, Analyzer(), segment_passages=4, merge_policy=policy
    )
    manager = make()
    manager.open()
    model: dict[str, str] = {}  # file → title
    for step in range(14):
        action = rng.choice(["add", "add", "change", "delete", "merge", "restart"])
        if action == "add" or not model:
            name = f"f{step}.md"
            title = f"{rng.choice(words)} {rng.choice(words)} {step}"
            body = " ".join(rng.choice(words) for _ in range(rng.randint(3, 30)))
            (corpus / name).write_text(f"# {title}\n\n{body}. More {body}.\n", encoding="utf-8")
            model[name] = title
        elif action == "change":
            name = rng.choice(sorted(model))
            title = f"{model[name]} updated"
            touch_later(corpus / name, f"# {title}\n\n{rng.choice(words)} news.\n")
            model[name] = title
        elif action == "delete":
            name = rng.choice(sorted(model))
            (corpus / name).unlink()
            del model[name]
        elif action == "merge":
            manager.merge_all(everything=rng.random() < 0.3)
        else:
            manager.close()
            manager = make()
            manager.open()
        manager.reload()
        assert sorted(titles(manager)) == sorted(model.values())
        live = _live_corpus(manager)
        if not live:
            assert manager.index.search(Analyzer().terms("harbour vote"), 10) == []
            continue
        reference = BM25Okapi(live, k1=1.2, b=0.5, epsilon=0.25)
        refs = list(manager.index.passages())
        for question in ("harbour ferry", "storm port ship", "vote", "council apple library"):
            terms = Analyzer().terms(question)
            expected = reference.get_scores(terms)
            want = sorted(
                (i for i in range(len(refs)) if expected[i] > 0), key=lambda i: (-expected[i], i)
            )[:10]
            hits = manager.index.search(terms, 10)
            assert [refs.index(h.ref) for h in hits] == want, (step, action, question)
            for h in hits:
                assert h.score == pytest.approx(expected[refs.index(h.ref)], rel=1e-12)


KILLED_WRITER = """
import sys
from pathlib import Path
from bot.search.lifecycle import IndexManager
from bot.search.merge import MergePolicy
manager = IndexManager(Path(sys.argv[1]), Path(sys.argv[2]), segment_passages=40,
                       merge_policy=MergePolicy(merge_factor=2, min_passages=1))
manager.open()
print("opened", flush=True)
manager.merge_all(everything=True)
"""


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.8])
def test_kill_9_during_a_commit_or_merge_loses_nothing(
    corpus: Path, index_dir: Path, delay: float
) -> None:
    manager_for(corpus, index_dir).open()
    for n in range(60):
        (corpus / f"story{n}.md").write_text(
            f"# Story {n}\n\nThe harbour saw {n} ships today. Crews unloaded them.\n\n"
            f"The port authority counted {n} containers.\n",
            encoding="utf-8",
        )
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(corpus), str(index_dir)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    manager = manager_for(corpus, index_dir)
    report = manager.open()
    assert report.damaged == ""
    assert report.articles == 63
    assert len(set(titles(manager))) == 63  # nothing lost, nothing twice
    assert found(manager, "harbour ships crews") and found(manager, "library midnight")


def test_a_killed_analysis_worker_costs_no_article() -> None:
    """The OOM killer takes an analysis worker mid-build: the build goes on in this process
    (multiprocessing.Pool would wait forever for the lost chunk)."""
    import multiprocessing

    from bot.articles.model import Article
    from bot.search.builder import POOL_MIN_ARTICLES, ArticleAnalyser, analyse_article
    from bot.text.passages import PassageRules

    articles = [
        Article(id=f"a{n}", title=f"Harbour report {n}", text=f"The harbour took in ship {n}.")
        for n in range(POOL_MIN_ARTICLES + 300)
    ]
    analyser = ArticleAnalyser(Analyzer(), PassageRules(), workers=2)
    stream = analyser.analyse(articles)
    results = [next(stream)]  # the pool is up and working
    workers = multiprocessing.active_children()
    assert workers
    for worker in workers:
        os.kill(worker.pid, signal.SIGKILL)
    finished = threading.Event()

    def drain() -> None:
        results.extend(stream)
        finished.set()

    threading.Thread(target=drain, daemon=True).start()
    assert finished.wait(60), "the build waits for a dead worker"
    assert [r.article.id for r in results] == [a.id for a in articles]
    expected = analyse_article(articles[-1], Analyzer(), PassageRules())
    assert results[-1].terms == expected.terms
