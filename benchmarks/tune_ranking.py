"""Choosing the re-ranking and quote-cutting weights on development data only.

    python benchmarks/tune_ranking.py [--data ../shared/data] [--work /tmp/bot-tune]
    python benchmarks/tune_ranking.py --report      # the chosen settings' figures, each
                                                    # part switched off, quote lengths

Development data: NewsQA dev (answer in the first quote and in the first reply, through the
answer engine exactly as ``bot.py eval --qa`` runs it) and SciFact *train* (nDCG@10 of the
bot's article ranking, as ``bot.py eval --beir --split train``). Starting from the settings
in ``bot/answers``, each weight in turn is tried at a few values, keeping the best for

    objective = (first quote + first reply) / 2 on NewsQA  +  nDCG@10 on SciFact train

(two passes). Every trial is printed, so the figures behind each weight can be read off
(``bot/answers/ranking.py`` and ``quotes.py`` quote them). SciFact *test* is evaluated only
with ``--test``, once, for the final settings, after the search: it never chooses anything.

The NewsQA index is built once and kept under ``--work`` (read in place from the data
folder); SciFact's is rebuilt in memory (~3 s).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import fields, replace
from pathlib import Path

from bot.answers.engine import AnswerEngine, AnswerSettings
from bot.evaluation import evaluate_beir, evaluate_qa, load_beir, load_qa
from bot.search import bm25
from bot.search.lifecycle import IndexManager, build_index
from bot.text.analysis import Analyzer

# (settings group, field, values tried): questions' ranking and quotes move NewsQA, topic
# searches' ranking moves SciFact (its claims are statements; NewsQA has 9 topic lines).
GRID = [
    ("ranking", "passage_k1", (None, 0.3, 0.5, 0.8)),
    ("ranking", "passage_b", (0.3, 0.5, 0.75)),
    ("ranking", "article", (0.0, 0.5, 1.0, 1.5, 2.0)),
    ("ranking", "article_b", (0.5, 0.75, 0.9)),
    ("ranking", "proximity", (0.0, 0.1, 0.25, 0.4)),
    ("ranking", "lead", (0.0, 0.25, 0.5, 0.75)),
    ("ranking", "lead_tokens", (25.0, 45.0, 80.0, 120.0)),
    ("ranking", "kind", (0.0, 0.25, 0.5, 0.75)),
    ("ranking", "depth", (20, 30, 50)),
    ("topic_ranking", "passage_k1", (None, 0.9, 1.5)),
    ("topic_ranking", "article", (0.0, 0.1, 0.25, 0.5)),
    ("topic_ranking", "article_b", (0.5, 0.75, 0.9)),
    ("topic_ranking", "proximity", (0.0, 0.05, 0.1)),
    ("topic_ranking", "lead", (0.0, 0.05, 0.1)),
    ("topic_ranking", "feedback", (0.0, 0.3, 0.5, 0.7, 1.0)),
    ("topic_ranking", "feedback_terms", (10, 20, 30)),
    ("topic_ranking", "depth", (20, 30, 50)),
    ("quotes", "after", (0.0, 0.2, 0.4)),
    ("quotes", "proximity", (0.0, 0.5, 1.0)),
    ("quotes", "sentence_terms", (12.0, 20.0, 30.0)),
]


# What each feature is worth: the final settings with one part switched off (``--report``).
ABLATIONS = [
    ("ranking", "article", 0.0),
    ("ranking", "proximity", 0.0),
    ("ranking", "lead", 0.0),
    ("ranking", "kind", 0.0),
    ("ranking", "passage_k1", None),
    ("topic_ranking", "feedback", 0.0),
    ("quotes", "proximity", 0.0),
    ("quotes", "after", 0.0),
    ("quotes", "whole", 0),
]
# Quote length against answers found (``--report``): not searched, since longer quotes always
# hold more answers; the chosen point is argued in ``bot/answers/quotes.py``.
LENGTHS = [
    {"join": 1.01, "after": 0.0, "whole": 0},  # the best sentence alone
    {"after": 0.0, "whole": 0},
    {"whole": 0},
    {"whole": 200},
    {"whole": 300},
    {"whole": 400},
    {"join": 0.0, "whole": 600},
]


def with_value(settings: AnswerSettings, group: str, name: str, value: object) -> AnswerSettings:
    if group == "settings":
        return replace(settings, **{name: value})
    return replace(settings, **{group: replace(getattr(settings, group), **{name: value})})


class Bench:
    """The development sets, loaded once, and one evaluation per settings."""

    def __init__(self, data: Path, work: Path) -> None:
        self.analyzer = Analyzer()
        manager = IndexManager(data / "newsqa-dev" / "corpus", work / "newsqa-index", self.analyzer)
        manager.open()
        self.newsqa = manager.current_index()
        self.questions = load_qa(data / "newsqa-dev" / "qa.jsonl")
        self.train = load_beir(data / "scifact", "train")
        self.scifact_dir = data / "scifact"
        self.scifact = build_index(self.train.articles, self.analyzer)
        self.seen: dict[AnswerSettings, tuple[float, dict[str, float]]] = {}

    def run(self, settings: AnswerSettings) -> tuple[float, dict[str, float]]:
        if settings not in self.seen:
            engine = AnswerEngine(lambda: self.newsqa, self.analyzer, settings)
            qa = evaluate_qa(engine, self.questions, 3)
            beir = evaluate_beir(self.train, index=self.scifact, settings=settings)
            figures = {
                "first": qa["answer in first quote"],
                "reply": qa["answer in reply"],
                "chars": qa["mean quote characters"],
                "refused": qa["no answer"],
                "train nDCG@10": beir["nDCG@10"],
            }
            objective = (figures["first"] + figures["reply"]) / 2 + figures["train nDCG@10"]
            self.seen[settings] = (objective, figures)
        return self.seen[settings]


def describe(figures: dict[str, float]) -> str:
    return (
        f"NewsQA first {figures['first']:.4f} reply {figures['reply']:.4f} "
        f"chars {figures['chars']:.0f} refused {figures['refused']:.3f} | "
        f"SciFact train nDCG@10 {figures['train nDCG@10']:.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bot-tune"))
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--report", action="store_true", help="no search: the defaults' figures")
    parser.add_argument("--test", action="store_true", help="then SciFact test, for the result")
    args = parser.parse_args()
    bm25.warm_up()
    bench = Bench(args.data, args.work)
    best = AnswerSettings()
    score, figures = bench.run(best)
    print(f"start: {describe(figures)}  objective {score:.4f}", flush=True)
    for n in range(0 if args.report else args.passes):
        for group, name, values in GRID:
            for value in values:
                trial = with_value(best, group, name, value)
                started = time.perf_counter()
                trial_score, trial_figures = bench.run(trial)
                seconds = time.perf_counter() - started
                print(
                    f"pass {n + 1} {group}.{name}={value}: {describe(trial_figures)}  "
                    f"objective {trial_score:.4f} ({seconds:.0f} s)",
                    flush=True,
                )
                if trial_score > score:
                    best, score, figures = trial, trial_score, trial_figures
        print(f"after pass {n + 1}: {describe(figures)}  objective {score:.4f}", flush=True)
    for group in ("ranking", "topic_ranking", "quotes"):
        chosen = getattr(best, group)
        print(
            f"{group}: " + ", ".join(f"{f.name}={getattr(chosen, f.name)}" for f in fields(chosen))
        )
    if args.report:
        for group, name, value in ABLATIONS:
            _, ablated = bench.run(with_value(best, group, name, value))
            print(f"without {group}.{name} ({name}={value}): {describe(ablated)}", flush=True)
        for change in LENGTHS:
            _, cut = bench.run(replace(best, quotes=replace(best.quotes, **change)))
            print(f"quotes {change}: {describe(cut)}", flush=True)
    if args.test:
        test = load_beir(bench.scifact_dir, "test")
        result = evaluate_beir(test, index=bench.scifact, settings=best)
        print(f"SciFact test (chosen settings, once): nDCG@10 {result['nDCG@10']:.4f}")


if __name__ == "__main__":
    main()
