"""The "no answer" threshold on SciFact: answerable vs. unanswerable questions.

    python benchmarks/calibrate_no_answer.py [--data ../shared/data/scifact]

Each test claim is asked twice: against the full corpus (answerable: its evidence is there)
and against the corpus without any test evidence document (unanswerable). For each coverage
threshold it prints the share of answerable questions still answered and the share of
unanswerable ones refused. Coverage is what the answer engine tests: the share of the
question's idf mass found in a passage (``bot/answers/engine.py``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.answers.engine import AnswerEngine, AnswerSettings
from bot.evaluation import load_beir
from bot.search.index import build_index
from bot.text.analysis import Analyzer

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def answered_share(engine_for, questions: list[str], threshold: float) -> float:
    engine = engine_for(AnswerSettings(min_coverage=threshold))
    return sum(engine.ask(q).answered for q in questions) / len(questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/scifact"))
    args = parser.parse_args()
    data = load_beir(args.data, "test")
    evidence = {doc for docs in data.qrels.values() for doc in docs}
    analyzer = Analyzer()
    full = build_index(data.articles, analyzer)
    without = build_index([a for a in data.articles if a.id not in evidence], analyzer)
    questions = list(data.queries.values())
    print(f"{len(questions)} SciFact test claims; {len(evidence)} evidence documents removed\n")
    print("threshold  answerable answered  unanswerable refused")
    for t in THRESHOLDS:
        kept = answered_share(lambda s: AnswerEngine(lambda: full, analyzer, s), questions, t)
        refused = 1 - answered_share(
            lambda s: AnswerEngine(lambda: without, analyzer, s), questions, t
        )
        print(f"{t:9.1f}  {kept:19.0%}  {refused:20.0%}")


if __name__ == "__main__":
    main()
