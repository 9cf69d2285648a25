"""The live archive at scale: build, open, questions beside bm25s and rank-bm25, and changes.

    python benchmarks/bench_index.py [--sizes 100000,1000000] [--queries 200]
                                     [--data ../shared/data] [--work DIR] [--keep]

Corpus: Reuters-21578 and BBC News, read with the project's own JSONL reader, shuffled with a
fixed seed and written as JSONL exports into a corpus folder; a size of N passages takes
articles in that order until N passages are reached, then repeats them as copies whose id and
title carry "#<copy>" (distinct articles, distinct passages, analysed again like any other).

Each size runs, one after another, in fresh child processes:

  build    ``IndexManager.open`` on the empty data folder and ``merge_all`` (what
           ``bot.py index`` does): analysis on every core, segments, merges. Wall time, peak
           RSS of the process and its analysis workers, disk size.
  open     a fresh ``IndexManager.open`` on the built index (corpus rescanned, nothing
           changed): wall time and resident memory right after.
  query    the index opened and preloaded as the bot does in the background (its postings'
           pages mapped in; bm25s holds its arrays in memory too); the same passages' terms
           in bm25s (numba backend, ``method="atire", idf_method="robertson"``, k1/b as
           ours, single thread) and rank-bm25 (BM25Okapi; 100k only: ~1 s a question at
           1M); every question asked of ours and bm25s in turn (interleaved, alternating who
           goes first), each timed from the question's terms (both look their ids up), then
           of rank-bm25 in a pass of its own (it sweeps the caches): p50/p95 latency of a
           top-10, top-10 agreement with rank-bm25 (ours must be identical) and with bm25s
           (no epsilon floor, float32, and its own order among equal scores: copies tie).
  changes  add one article (a new file) and reload, with alerts queued for 1,000 subscribers;
           change it; delete it; an unchanged rescan; then ten one-article reloads and the
           merge the policy makes of them. Wall time of each.

Nothing here is a timed test: it prints figures. Run on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.articles.scan import CorpusFile, iter_article_file
from bot.search.builder import ArticleAnalyser
from bot.text.analysis import Analyzer
from bot.text.passages import PassageRules

SEED = 20240611
SOURCES = ("reuters-21578/corpus.jsonl", "bbc-news/corpus.jsonl")
RECORDS_PER_FILE = 5000
PAGE = os.sysconf("SC_PAGE_SIZE")
TARGETS = {
    "p50 vs bm25s": "<= 0.5x (first bar 1.0x)",
    "add one article at 1M": "<= 1 s",
    "unchanged rescan at 1M": "<= 0.5 s",
    "cold open at 1M": "<= 0.3 s, resident <= 1 GB",
    "full build at 1M": "<= 180 s, peak <= 4 GB",
}


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def peak_mb() -> float:
    """High-water RSS of this process and, separately, of its largest finished child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own + children  # analysis workers run beside the parent


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def percentiles(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


# --- corpus -----------------------------------------------------------------------------------


def read_records(data: Path) -> list[dict]:
    """The shared data's articles as records, through the project's own reader."""
    records = []
    for relpath in SOURCES:
        path = data / relpath
        file = CorpusFile(path, relpath, path.stat().st_size, path.stat().st_mtime_ns)
        for item in iter_article_file(file):
            if hasattr(item, "text"):
                records.append(
                    {"id": item.id, "title": item.title, "text": item.text,
                     "date": item.date.isoformat() if item.date else None,
                     "source": "Reuters" if relpath.startswith("reuters") else "BBC News",
                     "topics": list(item.topics)}
                )  # fmt: skip
    random.Random(SEED).shuffle(records)
    return records


def passage_counts(records: list[dict], cache: Path) -> list[int]:
    """Passages per record (analysed once, on every core; cached between runs)."""
    if cache.is_file():
        counts = json.loads(cache.read_text())
        if len(counts) == len(records):
            return counts
    from bot.articles.model import Article

    analyser = ArticleAnalyser(Analyzer(), PassageRules())
    articles = (Article(id=r["id"], title=r["title"], text=r["text"]) for r in records)
    counts = [len(a.passages) for a in analyser.analyse(articles)]
    cache.write_text(json.dumps(counts))
    return counts


def write_corpus(records: list[dict], counts: list[int], size: int, folder: Path) -> int:
    """JSONL exports holding ``size`` passages' worth of records (copies beyond the data)."""
    folder.mkdir(parents=True)
    total, copy, written, out = 0, 0, 0, None
    while total < size:
        for record, count in zip(records, counts, strict=True):
            if total >= size:
                break
            if written % RECORDS_PER_FILE == 0:
                if out:
                    out.close()
                out = (folder / f"export-{written // RECORDS_PER_FILE:04d}.jsonl").open("w")
            item = record if copy == 0 else {
                **record, "id": f"{record['id']}#{copy}", "title": f"{record['title']} #{copy}"
            }  # fmt: skip
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
            total += count
            written += 1
        copy += 1
    if out:
        out.close()
    return total


def make_questions(records: list[dict], n: int) -> list[str]:
    """Half lower-cased titles, half 3-8 word snippets of article text."""
    rng = random.Random(SEED + 1)
    questions = []
    for record in rng.sample(records, n):
        if len(questions) % 2 == 0:
            questions.append(record["title"].lower())
        else:
            words = record["text"].split()
            start = rng.randrange(max(1, len(words) - 8))
            questions.append(" ".join(words[start : start + rng.randint(3, 8)]))
    return questions


# --- child processes --------------------------------------------------------------------------


def child_build(spec: dict) -> dict:
    from bot.search.lifecycle import IndexManager

    started = time.perf_counter()
    manager = IndexManager(Path(spec["corpus"]), Path(spec["index"]))
    report = manager.open()
    opened = time.perf_counter() - started
    merges = manager.merge_all()
    seconds = time.perf_counter() - started
    return {
        "build_s": seconds,
        "index_s": opened,
        "merge_s": seconds - opened,
        "merges": merges,
        "segments": len(manager.index.segments),
        "articles": report.articles,
        "passages": report.passages,
        "peak_mb": peak_mb(),
        "disk_mb": dir_mb(Path(spec["index"])),
    }


def child_open(spec: dict) -> dict:
    from bot.search.lifecycle import IndexManager

    before = rss_mb()
    started = time.perf_counter()
    manager = IndexManager(Path(spec["corpus"]), Path(spec["index"]))
    report = manager.open()
    seconds = time.perf_counter() - started
    assert not report.rebuilt, "the corpus changed between build and open"
    resident = rss_mb()
    # The first question after a restart, before the numba kernel is warmed up (numpy).
    analyzer = Analyzer()
    started = time.perf_counter()
    manager.index.search(analyzer.question_terms(spec["questions"][0]), 10)
    first = time.perf_counter() - started
    return {
        "open_s": seconds,
        "open_rss_mb": resident,
        "base_rss_mb": before,
        "first_question_s": first,
    }


def child_query(spec: dict) -> dict:
    import bm25s
    from rank_bm25 import BM25Okapi

    from bot.search import bm25
    from bot.search.lifecycle import IndexManager

    manager = IndexManager(Path(spec["corpus"]), Path(spec["index"]))
    manager.open()
    index = manager.index
    assert bm25.warm_up(), "numba is not installed"
    started = time.perf_counter()
    manager.preload()
    preload_s = time.perf_counter() - started
    analyzer = Analyzer()
    questions = [analyzer.question_terms(q) for q in spec["questions"]]
    questions = [q for q in questions if q]
    refs = list(index.passages())
    position = {ref: n for n, ref in enumerate(refs)}
    started = time.perf_counter()
    corpus = [index.passage_terms(r) for r in refs]
    extract_s = time.perf_counter() - started
    params = index.params
    peer = bm25s.BM25(
        k1=params.k1, b=params.b, method="atire", idf_method="robertson", backend="numba"
    )
    started = time.perf_counter()
    peer.index(corpus, show_progress=False)
    peer_build_s = time.perf_counter() - started
    peer_ids = [[i for i in peer.get_tokens_ids(q) if i is not None] for q in questions]
    rank = None
    rank_build_s = None
    if spec["rank"]:
        started = time.perf_counter()
        rank = BM25Okapi(corpus, k1=params.k1, b=params.b, epsilon=params.epsilon)
        rank_build_s = time.perf_counter() - started
    del corpus
    # Warm both: compile/load the kernels and fault in the pages a question touches.
    for q, ids in zip(questions[:20], peer_ids[:20], strict=True):
        index.search(q, 10)
        if ids:
            peer.retrieve([ids], k=10, show_progress=False, n_threads=1)
    ours, theirs, plain = [], [], []
    same_rank = same_peer = compared_rank = 0
    mine_all = []
    for n, (q, ids) in enumerate(zip(questions, peer_ids, strict=True)):
        # Alternate who goes first, so neither always runs on the other's warm caches.
        for turn in (0, 1) if n % 2 == 0 else (1, 0):
            if turn == 0:
                t0 = time.perf_counter()
                hits = index.search(q, 10)
                ours.append(time.perf_counter() - t0)
                mine = [position[h.ref] for h in hits]
            elif ids:  # each from the question's terms: bm25s looks its ids up too
                t0 = time.perf_counter()
                ids = [i for i in peer.get_tokens_ids(q) if i is not None]
                docs, scores = peer.retrieve([ids], k=10, show_progress=False, n_threads=1)
                theirs.append(time.perf_counter() - t0)
                peer_top = [int(d) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]
        if ids:
            same_peer += peer_top == mine
        mine_all.append(mine)
    if rank is not None:  # ~1000x slower, and it sweeps the caches: a pass of its own
        for q, mine in zip(questions, mine_all, strict=True):
            t0 = time.perf_counter()
            scores = rank.get_scores(q)
            np.argpartition(-scores, min(10, len(scores) - 1))
            plain.append(time.perf_counter() - t0)
            want = sorted(
                (i for i in range(len(scores)) if scores[i] > 0), key=lambda i: (-scores[i], i)
            )
            same_rank += want[:10] == mine
            compared_rank += 1
    out = {
        "kernel": bm25.kernel_name(),
        "segments": len(index.segments),
        "questions": len(questions),
        "ours_p50_ms": percentiles(ours)[0] * 1e3,
        "ours_p95_ms": percentiles(ours)[1] * 1e3,
        "bm25s_p50_ms": percentiles(theirs)[0] * 1e3,
        "bm25s_p95_ms": percentiles(theirs)[1] * 1e3,
        "bm25s_build_s": peer_build_s,
        "preload_s": preload_s,
        "same_as_bm25s": same_peer,
        "extract_s": extract_s,
        "query_rss_mb": rss_mb(),
    }
    if rank is not None:
        out |= {
            "rank_p50_ms": percentiles(plain)[0] * 1e3,
            "rank_p95_ms": percentiles(plain)[1] * 1e3,
            "rank_build_s": rank_build_s,
            "same_as_rank": same_rank,
            "compared_rank": compared_rank,
        }
    return out


NEW_ARTICLE = """---
title: Harbour authority opens a new container terminal {n}
date: 2026-11-30
---

The harbour authority opened its new container terminal {n} on Monday, doubling capacity.

Shipping lines said the terminal would cut waiting times for freighters by half.
"""


def child_changes(spec: dict) -> dict:
    from bot.alerts.queue import queue_alerts
    from bot.search.lifecycle import IndexManager
    from bot.store import AlertOutbox, SubscriptionStore, open_database

    corpus, index_dir = Path(spec["corpus"]), Path(spec["index"])
    manager = IndexManager(corpus, index_dir)
    manager.open()
    db = open_database(Path(spec["work"]) / "bot.sqlite3")
    subscriptions, outbox = SubscriptionStore(db), AlertOutbox(db)
    topics = ["", "harbour", "container terminal", "oil prices", "election", "football"]
    for chat in range(1, 1001):
        subscriptions.subscribe(chat, topics[chat % len(topics)])
    outbox.queue_new_articles([(a, a) for a in ("primed",)], lambda _: ())  # first scan
    analyzer = Analyzer()
    out: dict[str, float] = {}

    def reload_and_queue(label: str) -> None:
        t0 = time.perf_counter()
        report = manager.reload()
        ids = [a.id for a in report.added]
        queued = queue_alerts(manager.index, analyzer, subscriptions, outbox, ids)
        out[f"{label}_s"] = time.perf_counter() - t0
        out[f"{label}_queued"] = queued.queued

    path = corpus / "new-article.md"
    t0 = time.perf_counter()
    manager.reload()
    out["unchanged_s"] = time.perf_counter() - t0
    path.write_text(NEW_ARTICLE.format(n=0), encoding="utf-8")
    reload_and_queue("add")
    assert manager.index.search(analyzer.terms("container terminal freighters"), 1)
    before = path.stat().st_mtime_ns
    path.write_text(NEW_ARTICLE.format(n=0).replace("half", "a third"), encoding="utf-8")
    os.utime(path, ns=(before + 2_000_000_000,) * 2)
    reload_and_queue("change")
    path.unlink()
    reload_and_queue("delete")
    for n in range(1, 11):
        (corpus / f"new-article-{n}.md").write_text(NEW_ARTICLE.format(n=n), encoding="utf-8")
        manager.reload()
    segments = len(manager.index.segments)
    t0 = time.perf_counter()
    merges = manager.merge_all()
    out["merge_s"] = time.perf_counter() - t0
    out["merge_segments"] = f"{segments} -> {len(manager.index.segments)} ({merges} merge)"
    for n in range(1, 11):
        (corpus / f"new-article-{n}.md").unlink()
    manager.reload()
    return out


CHILDREN = {
    "build": child_build,
    "open": child_open,
    "query": child_query,
    "changes": child_changes,
}


def run_child(kind: str, spec: dict) -> dict:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, __file__, "--child", kind, json.dumps(spec)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-3000:])
        raise SystemExit(f"{kind} failed")
    print(f"  {kind}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- report -----------------------------------------------------------------------------------


def report(rows: list[dict]) -> None:
    def f(value, spec=".2f"):
        return "n/a" if value is None else format(value, spec)

    print("\nQuestions: top-10, single thread, interleaved (ours / bm25s-numba / rank-bm25)")
    print(f"{'passages':>10} {'segments':>8} {'ours p50':>9} {'p95':>7} {'bm25s p50':>10} "
          f"{'p95':>7} {'ratio':>6} {'rank p50':>9} {'=rank':>9} {'=bm25s':>9}")  # fmt: skip
    for r in rows:
        q = r["query"]
        ratio = q["ours_p50_ms"] / q["bm25s_p50_ms"]
        same_rank = f"{q['same_as_rank']}/{q['compared_rank']}" if "same_as_rank" in q else "n/a"
        print(
            f"{r['passages']:>10,} {q['segments']:>8} "
            f"{q['ours_p50_ms']:>8.3f}m {q['ours_p95_ms']:>6.2f}m "
            f"{q['bm25s_p50_ms']:>9.3f}m {q['bm25s_p95_ms']:>6.2f}m {ratio:>5.2f}x "
            f"{f(q.get('rank_p50_ms'), '.1f'):>8}m {same_rank:>9} "
            f"{q['same_as_bm25s']:>5}/{q['questions']:<3}"
        )
    print("\nBuild, open, memory")
    print(f"{'passages':>10} {'articles':>9} {'build':>8} {'(index':>8} {'merge)':>7} "
          f"{'peak':>8} {'disk':>8} {'open':>7} {'resident':>9} {'1st q':>7} {'preload':>8} "
          f"{'bm25s build':>11} "
          f"{'rank build':>10}")  # fmt: skip
    for r in rows:
        b, o, q = r["build"], r["open"], r["query"]
        print(
            f"{r['passages']:>10,} {b['articles']:>9,} {b['build_s']:>7.1f}s {b['index_s']:>7.1f}s "
            f"{b['merge_s']:>6.1f}s {b['peak_mb'] / 1024:>7.2f}G {b['disk_mb'] / 1024:>7.2f}G "
            f"{o['open_s']:>6.3f}s {o['open_rss_mb']:>8.0f}M {o['first_question_s']:>6.3f}s "
            f"{q['preload_s']:>7.2f}s {q['bm25s_build_s']:>10.1f}s "
            f"{f(q.get('rank_build_s'), '.1f'):>9}s"
        )
    print("\nChanges (reload until searchable, alerts queued for 1,000 subscribers)")
    print(f"{'passages':>10} {'add one':>8} {'change':>8} {'delete':>8} {'unchanged':>10} "
          f"{'merge of 10 small':>18} {'segments':>16}")  # fmt: skip
    for r in rows:
        c = r["changes"]
        print(
            f"{r['passages']:>10,} {c['add_s']:>7.3f}s {c['change_s']:>7.3f}s "
            f"{c['delete_s']:>7.3f}s {c['unchanged_s']:>9.3f}s {c['merge_s']:>17.2f}s "
            f"{c['merge_segments']:>16}"
        )
    print("\nTargets (issue 9):")
    for what, target in TARGETS.items():
        print(f"  {what:<24} {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child[0]](json.loads(args.child[1]))))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-index-"))
    work.mkdir(parents=True, exist_ok=True)
    records = read_records(args.data)
    print(f"{len(records):,} distinct articles; counting passages ...", file=sys.stderr)
    counts = passage_counts(records, work / "passages.json")
    questions = make_questions(records, args.queries)
    rows = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            folder = work / f"size-{size}"
            shutil.rmtree(folder, ignore_errors=True)
            passages = write_corpus(records, counts, size, folder / "corpus")
            print(f"[{passages:,} passages]", file=sys.stderr, flush=True)
            spec = {
                "corpus": str(folder / "corpus"),
                "index": str(folder / "data" / "index"),
                "work": str(folder),
                "questions": questions,
                "rank": size <= 200_000,
            }
            row = {"passages": passages, "build": run_child("build", spec)}
            row["open"] = run_child("open", spec)
            row["query"] = run_child("query", spec)
            row["changes"] = run_child("changes", spec)
            rows.append(row)
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    report(rows)


if __name__ == "__main__":
    main()
