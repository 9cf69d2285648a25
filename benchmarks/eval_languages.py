"""Answers per language: the bot's QA figures on every multilingual development set.

    python benchmarks/eval_languages.py                       # every set, ~10 min on 2 cores
    python benchmarks/eval_languages.py --sets tydiqa-goldp/ru,cmrc2018/zh --limit 300

For each ``multilingual/<set>/<lang>`` folder (``corpus/`` and ``qa.jsonl``, see the shared data
README) the corpus is indexed as ``bot.py eval --qa`` does (``Archive.open`` on a scratch data
dir) and every question is asked. Printed per set: answer in the first quote, answer in the first
reply (``--reply-quotes``, 3 as in ``eval``), the mean length of the quotes shown in that reply
(characters), the share of questions answered at all, indexing time and the p50 answer time.
``--mixed`` also indexes all the chosen sets as one archive and asks each set's questions there
(a mixed-language newsroom).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.config import Config
from bot.evaluation import contains_answer, load_qa
from bot.services import Archive

SETS = [
    "tydiqa-goldp/en",
    "tydiqa-goldp/ru",
    "tydiqa-goldp/fi",
    "tydiqa-goldp/id",
    "tydiqa-goldp/ar",
    "tydiqa-goldp/bn",
    "tydiqa-goldp/ko",
    "tydiqa-goldp/sw",
    "tydiqa-goldp/te",
    "mlqa/ar",
    "cmrc2018/zh",
    "jsquad/ja",
    "iapp-wiki-qa/th",
    "norquad/validation/nb",
    "heq/validation/he",
]


def evaluate(archive: Archive, items: list[tuple[str, list[str]]], reply: int) -> dict[str, float]:
    first = in_reply = answered = 0
    lengths: list[int] = []
    times: list[float] = []
    for question, answers in items:
        started = time.perf_counter()
        quotes = archive.engine.ask(question).quotes[:reply]
        times.append(time.perf_counter() - started)
        answered += bool(quotes)
        first += bool(quotes) and contains_answer(quotes[0].text, answers)
        in_reply += any(contains_answer(q.text, answers) for q in quotes)
        lengths += [len(q.text) for q in quotes]
    n = max(len(items), 1)
    return {
        "first": first / n,
        "reply": in_reply / n,
        "quote chars": statistics.fmean(lengths) if lengths else 0.0,
        "answered": answered / n,
        "p50 ms": 1000 * statistics.median(times) if times else 0.0,
    }


def open_archive(corpus: Path, scratch: Path) -> tuple[Archive, float, int]:
    started = time.perf_counter()
    archive, report = Archive.open(Config(corpus_dir=corpus, data_dir=scratch))
    return archive, time.perf_counter() - started, report.passages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated set/lang paths")
    parser.add_argument("--limit", type=int, default=0, help="questions per set (0: all)")
    parser.add_argument("--reply-quotes", type=int, default=3)
    parser.add_argument("--mixed", action="store_true", help="also one archive of all the sets")
    args = parser.parse_args()
    root = args.data / "multilingual"
    sets = [s for s in args.sets.split(",") if s]
    header = f"{'set':24} {'first':>6} {'reply':>6} {'chars':>6} {'answered':>8} {'p50 ms':>7}"
    print(header + f" {'index s':>8} {'passages':>8}")
    with tempfile.TemporaryDirectory() as scratch:
        for name in sets:
            archive, seconds, passages = open_archive(root / name / "corpus", Path(scratch) / name)
            items = load_qa(root / name / "qa.jsonl")[: args.limit or None]
            r = evaluate(archive, items, args.reply_quotes)
            archive.manager.close()
            print(
                f"{name:24} {r['first']:6.3f} {r['reply']:6.3f} {r['quote chars']:6.0f} "
                f"{r['answered']:8.3f} {r['p50 ms']:7.1f} {seconds:8.1f} {passages:8d}",
                flush=True,
            )
        if args.mixed:
            mixed = Path(scratch) / "mixed-corpus"
            for name in sets:  # a scratch copy: the scan refuses links that lead out of it
                shutil.copytree(root / name / "corpus", mixed / name.replace("/", "-"))
            archive, seconds, passages = open_archive(mixed, Path(scratch) / "mixed")
            print(f"\nall sets in one archive ({passages} passages, indexed in {seconds:.1f} s)")
            for name in sets:
                items = load_qa(root / name / "qa.jsonl")[: args.limit or None]
                r = evaluate(archive, items, args.reply_quotes)
                print(
                    f"{name:24} {r['first']:6.3f} {r['reply']:6.3f} {r['quote chars']:6.0f} "
                    f"{r['answered']:8.3f} {r['p50 ms']:7.1f}",
                    flush=True,
                )
            archive.manager.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
