"""The weight of a followed-up question's terms (``AnswerSettings.context_weight``).

    python benchmarks/tune_context.py [--data ../shared/data] [--work /tmp/bot-tune]

NewsQA dev holds several questions per story, written by one worker in a row: each question
after a story's first is asked as a follow-up of the one before it (``AskContext``), as a
reader replying to the bot's answer would, and the answer rates are compared with the same
questions asked alone. The story is what the two share, so the context can only help by
steering to it; a weight too high lets the old question's words outvote the new one's.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from bot.answers.engine import AnswerEngine, AnswerSettings
from bot.answers.model import AskContext
from bot.evaluation import contains_answer, load_qa
from bot.search import bm25
from bot.search.lifecycle import IndexManager

WEIGHTS = (0.0, 0.1, 0.2, 0.25, 0.3, 0.5, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bot-tune"))
    args = parser.parse_args()
    bm25.warm_up()
    folder = args.data / "newsqa-dev"
    manager = IndexManager(folder / "corpus", args.work / "newsqa-index")
    manager.open()
    items = load_qa(folder / "qa.jsonl")
    with (folder / "qa_meta.jsonl").open(encoding="utf-8") as f:
        stories = [json.loads(line)["story"] for line in f if line.strip()]
    pairs = [
        (items[n - 1][0], *items[n]) for n in range(1, len(items)) if stories[n] == stories[n - 1]
    ]
    print(f"{len(pairs)} NewsQA dev questions asked after the one before them (same story)")
    print("context weight  first quote  first reply")
    for weight in WEIGHTS:
        settings = replace(AnswerSettings(), context_weight=weight)
        engine = AnswerEngine(manager.current_index, manager.analyzer, settings)
        first = reply = 0
        for previous, question, answers in pairs:
            context = AskContext(previous_question=previous) if weight else None
            quotes = engine.ask(question, context).quotes
            first += bool(quotes) and contains_answer(quotes[0].text, answers)
            reply += any(contains_answer(q.text, answers) for q in quotes[:3])
        label = f"{weight:.2f}" if weight else "none"
        print(f"{label:>14}  {first / len(pairs):11.4f}  {reply / len(pairs):11.4f}")
    manager.close()


if __name__ == "__main__":
    main()
