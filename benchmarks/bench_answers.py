"""Question latency end to end through ``AnswerEngine.ask`` on a ~100k-passage archive.

    python benchmarks/bench_answers.py [--data ../shared/data] [--work /tmp/bot-bench-answers]
                                       [--questions 2000]

The archive: BBC News + Reuters-21578 (JSONL records) + the 638 NewsQA stories, indexed once
with the bot's own ``IndexManager`` and kept under ``--work`` (its corpus folder holds hard
links to the shared files, or copies where linking is impossible: the index reads them in
place of the originals, and a second run opens the stored index). The questions: NewsQA dev's,
so the re-ranking and quoting paths are those readers' questions take. The numba kernel is
warmed up first, as the bot does at start-up; the first 100 questions warm the caches.

Prints p50/p95/p99 of the whole ``ask`` and of its two halves, ``rank`` (first stage and
re-ranking) and ``answer`` (coverage, quotes, the first reply's fit). Goal: p50 <= 2 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from pathlib import Path

from bot.answers.engine import AnswerEngine
from bot.evaluation import load_qa
from bot.search import bm25
from bot.search.lifecycle import IndexManager


def link_or_copy(source: Path, target: Path) -> None:
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def corpus_folder(data: Path, work: Path) -> Path:
    corpus = work / "corpus"
    link_or_copy(data / "bbc-news" / "corpus.jsonl", corpus / "bbc-news.jsonl")
    link_or_copy(data / "reuters-21578" / "corpus.jsonl", corpus / "reuters-21578.jsonl")
    for story in sorted((data / "newsqa-dev" / "corpus").glob("*.md")):
        link_or_copy(story, corpus / "newsqa" / story.name)
    return corpus


def percentiles(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    pick = lambda q: ms[min(int(q * len(ms)), len(ms) - 1)]  # noqa: E731
    return f"p50 {statistics.median(ms):.3f} ms  p95 {pick(0.95):.3f} ms  p99 {pick(0.99):.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bot-bench-answers"))
    parser.add_argument("--questions", type=int, default=2000)
    args = parser.parse_args()
    started = time.perf_counter()
    manager = IndexManager(corpus_folder(args.data, args.work), args.work / "index")
    report = manager.open()
    print(
        f"archive: {report.articles} articles, {report.passages} passages "
        f"({'built' if report.rebuilt else 'stored index opened'} in "
        f"{time.perf_counter() - started:.1f} s)"
    )
    bm25.warm_up()
    print(f"kernel: {bm25.kernel_name()}")
    engine = AnswerEngine(manager.current_index, manager.analyzer)
    questions = [q for q, _ in load_qa(args.data / "newsqa-dev" / "qa.jsonl")]
    questions = questions[: args.questions + 100]
    for question in questions[:100]:
        engine.ask(question)
    whole, ranking, answering = [], [], []
    answered = 0
    for question in questions[100:]:
        t0 = time.perf_counter()
        ranked = engine.rank(question)
        t1 = time.perf_counter()
        answer = engine.answer(ranked)
        t2 = time.perf_counter()
        ranking.append(t1 - t0)
        answering.append(t2 - t1)
        whole.append(t2 - t0)
        answered += answer.answered
    print(f"questions: {len(whole)} (NewsQA dev), answered: {answered / len(whole):.1%}")
    print(f"ask     {percentiles(whole)}")
    print(f"  rank  {percentiles(ranking)}")
    print(f"  answer {percentiles(answering)}")
    print(f"goal: ask p50 <= 2 ms: {'met' if statistics.median(whole) <= 0.002 else 'MISSED'}")
    manager.close()


if __name__ == "__main__":
    main()
