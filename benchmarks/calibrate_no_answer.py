"""The "no answer" threshold: questions the archive answers vs questions it cannot.

    python benchmarks/calibrate_no_answer.py [--data ../shared/data] [--folds 5]

The engine answers a question when one of its re-ranked candidates holds at least
``min_coverage`` of the question's idf mass (``bot/answers/engine.py``). For each threshold
this prints, on two development sets:

* SciFact claims (train, and test for the record): asked of the whole corpus (the evidence
  is there: the share answered) and of the corpus without any of that split's evidence
  documents (the share refused);
* NewsQA dev questions: asked of the whole archive (answered, and the gold answer in the
  first reply) and of the archive without the question's own story (refused): the stories
  are split into ``--folds`` groups, and each group's questions are asked of an index built
  without that group.

A question's decision only depends on its best candidate's coverage, so each question is
ranked once per index and every threshold is read off the same figures.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.answers.engine import AnswerEngine, AnswerSettings
from bot.articles.scan import read_corpus
from bot.evaluation import _contains, load_beir, load_qa
from bot.search import bm25
from bot.search.lifecycle import build_index
from bot.text.analysis import Analyzer

THRESHOLDS = (0.2, 0.3, 0.35, 0.4, 0.42, 0.45, 0.5, 0.6, 0.7)


def best_coverage(engine: AnswerEngine, question: str) -> float:
    candidates = engine.rank(question).candidates
    return max((c.coverage for c in candidates), default=0.0)


def scifact(data: Path, split: str, analyzer: Analyzer) -> tuple[list[float], list[float]]:
    beir = load_beir(data / "scifact", split)
    evidence = {doc for docs in beir.qrels.values() for doc in docs}
    full = build_index(beir.articles, analyzer)
    without = build_index([a for a in beir.articles if a.id not in evidence], analyzer)
    claims = list(beir.queries.values())
    present = [best_coverage(AnswerEngine(lambda: full, analyzer), c) for c in claims]
    absent = [best_coverage(AnswerEngine(lambda: without, analyzer), c) for c in claims]
    return present, absent


def newsqa(data: Path, folds: int, analyzer: Analyzer):
    folder = data / "newsqa-dev"
    corpus = folder / "corpus"  # read in place
    stories = {a.path: a for a in read_corpus(corpus).articles}
    items = load_qa(folder / "qa.jsonl")
    with (folder / "qa_meta.jsonl").open(encoding="utf-8") as f:
        story_of = [json.loads(line)["story"] for line in f if line.strip()]
    names = sorted(stories)
    fold_of = {name: n % folds for n, name in enumerate(names)}
    full = build_index(stories.values(), analyzer)
    engine = AnswerEngine(lambda: full, analyzer)
    rankings = [engine.rank(question) for question, _ in items]
    present = [max((c.coverage for c in r.candidates), default=0.0) for r in rankings]
    replied = {}  # threshold -> share of questions with the answer in the first reply
    for t in THRESHOLDS:
        at = AnswerEngine(lambda: full, analyzer, AnswerSettings(min_coverage=t))
        replied[t] = sum(
            any(_contains(q.text, answers) for q in at.answer(r).quotes[:3])
            for r, (_, answers) in zip(rankings, items, strict=True)
        ) / len(items)
    absent = [0.0] * len(items)
    for fold in range(folds):
        kept = [a for name, a in stories.items() if fold_of[name] != fold]
        index = build_index(kept, analyzer)
        without = AnswerEngine(lambda index=index: index, analyzer)
        for n, (question, _) in enumerate(items):
            if fold_of[story_of[n]] == fold:
                absent[n] = best_coverage(without, question)
    return present, replied, absent


def share(values: list[float], threshold: float, above: bool = True) -> float:
    return sum((v >= threshold) == above for v in values) / max(len(values), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    bm25.warm_up()
    analyzer = Analyzer()
    for split in ("train", "test"):
        present, absent = scifact(args.data, split, analyzer)
        print(f"\nSciFact {split}: {len(present)} claims, asked with and without their evidence")
        print("threshold  evidence present: answered  evidence removed: refused")
        for t in THRESHOLDS:
            print(f"{t:9.2f}  {share(present, t):26.1%}  {share(absent, t, False):25.1%}")
    present, replied, absent = newsqa(args.data, args.folds, analyzer)
    print(f"\nNewsQA dev: {len(present)} questions, asked with and without their story")
    print("threshold  story present: answered  answer in reply  story removed: refused")
    for t in THRESHOLDS:
        print(
            f"{t:9.2f}  {share(present, t):23.1%}  {replied[t]:15.1%}"
            f"  {share(absent, t, False):22.1%}"
        )


if __name__ == "__main__":
    main()
