"""Topic matching at scale: 100 new articles against 50,000 distinct topics of 100,000 chats.

    python benchmarks/bench_topics.py [--subscribers 100000] [--topics 50000] [--new 100]
                                      [--data ../shared/data]

The archive is BBC News (2,225 articles), indexed with the project's own indexer; the new
articles are Reuters stories, committed by a reload as a newsroom's would be. Topics are 1-3
words drawn from the archive's vocabulary (frequent and rare words alike), a tenth with an
excluded word, and a few subscribers follow everything. The subscriptions are written
straight into the bot's SQLite schema (the store's one-at-a-time API would take minutes to
set up 100,000 chats; the measured part uses the product's code paths only).

Prints the time of ``queue_alerts`` for the new articles (topic matching, then the outbox
writes), the alerts queued and the topics actually scored per article.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

from bot.alerts import topics as topic_module
from bot.alerts.queue import queue_alerts
from bot.search.lifecycle import IndexManager
from bot.store import AlertOutbox, SubscriptionStore, open_database, transaction
from bot.text.analysis import Analyzer

SEED = 7


def make_topics(words: list[str], n: int, rng: random.Random) -> list[str]:
    topics: set[str] = set()
    while len(topics) < n:
        size = rng.choice([1, 1, 2, 2, 3])
        topic = " ".join(rng.sample(words, size))
        if rng.random() < 0.1:
            topic += f" -{rng.choice(words)}"
        topics.add(topic)
    return sorted(topics)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--topics", type=int, default=50_000)
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    args = parser.parse_args()
    rng = random.Random(SEED)
    work = Path(tempfile.mkdtemp(prefix="bench-topics-"))
    try:
        corpus = work / "corpus"
        corpus.mkdir()
        shutil.copy(args.data / "bbc-news" / "corpus.jsonl", corpus / "bbc.jsonl")
        manager = IndexManager(corpus, work / "index")
        manager.open()
        analyzer = Analyzer()
        vocabulary = sorted(
            {w.lower() for a in manager.index.articles() for w in a.title.split() if w.isalpha()}
        )
        topics = make_topics(vocabulary, args.topics, rng)
        db = open_database(work / "bot.sqlite3")
        subscriptions, outbox = SubscriptionStore(db), AlertOutbox(db)
        now = time.time()
        with transaction(db) as conn:
            conn.executemany(
                "INSERT INTO chats (chat_id, type, created_at) VALUES (?, 'private', ?)",
                [(chat, now) for chat in range(1, args.subscribers + 1)],
            )
            conn.executemany(
                "INSERT INTO subscriptions (chat_id, topic, created_at) VALUES (?, ?, ?)",
                [
                    (chat, "" if chat % 1000 == 0 else topics[chat % len(topics)], now)
                    for chat in range(1, args.subscribers + 1)
                ],
            )
        queue_alerts(manager.index, analyzer, subscriptions, outbox)  # first scan: primes
        stories = [
            json.loads(line)
            for line in (args.data / "reuters-21578" / "corpus.jsonl").open(encoding="utf-8")
        ]
        stories = rng.sample([s for s in stories if s.get("text")], args.new)
        with (corpus / "new.jsonl").open("w", encoding="utf-8") as f:
            for story in stories:
                f.write(json.dumps(story) + "\n")
        report = manager.reload()
        new_ids = [a.id for a in report.added]
        scored = []
        real = topic_module.relevance

        def counting(*a, **k):
            scored.append(1)
            return real(*a, **k)

        topic_module.relevance = counting
        started = time.perf_counter()
        result = queue_alerts(manager.index, analyzer, subscriptions, outbox, new_ids)
        seconds = time.perf_counter() - started
        topic_module.relevance = real
        print(f"archive: {manager.index.article_count:,} articles, {len(manager.index):,} passages")
        print(f"subscribers: {args.subscribers:,}, distinct topics: {len(topics):,}")
        print(f"new articles: {len(new_ids)} (reload {report.seconds:.2f} s)")
        print(f"queue_alerts: {seconds:.2f} s for {len(new_ids)} articles "
              f"({1000 * seconds / max(len(new_ids), 1):.1f} ms each); target <= 5 s")  # fmt: skip
        print(f"alerts queued: {result.queued:,}")
        per_article = len(scored) / max(len(new_ids), 1)
        print(f"topics scored (BM25 relevance computed): {len(scored):,} "
              f"= {per_article:.0f} per article, of {len(topics):,}")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
