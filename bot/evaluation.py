"""Measuring the product on labelled data: BEIR retrieval sets and question/answer files.

Both go through the same pipeline the bot uses (passages, analyzer, BM25 index, and for QA the
answer engine), so the figures describe what readers get, not a side path.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.answers.engine import AnswerEngine
from bot.articles.model import Article
from bot.search.bm25 import BM25Params
from bot.search.index import SearchIndex
from bot.search.lifecycle import build_index
from bot.text.analysis import Analyzer
from bot.text.passages import PassageRules


@dataclass(slots=True)
class BeirSet:
    articles: list[Article]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _jsonl(path: Path) -> Iterable[dict]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def load_beir(folder: Path, split: str = "test") -> BeirSet:
    """A BEIR folder: ``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``."""
    articles = [
        Article(id=str(d["_id"]), title=d.get("title") or "", text=d.get("text") or "")
        for d in _jsonl(folder / "corpus.jsonl")
    ]
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with (folder / "qrels" / f"{split}.tsv").open(encoding="utf-8") as f:
        for line in f:
            parts = line.split("\t")
            if len(parts) == 3 and parts[2].strip().lstrip("-").isdigit():
                qrels[parts[0]][parts[1]] = int(parts[2])
    queries = {
        str(q["_id"]): q["text"] for q in _jsonl(folder / "queries.jsonl") if str(q["_id"]) in qrels
    }
    return BeirSet(articles, queries, dict(qrels))


def rank_articles(index: SearchIndex, terms: list[str], k: int, passages: int = 1000) -> list[str]:
    """Article ids by their best passage's BM25 score: how the bot finds articles."""
    best: dict[str, None] = {}
    for ref, _ in index.search(terms, passages):
        best.setdefault(index.article_id(ref), None)
        if len(best) == k:
            break
    return list(best)


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    positives = {d for d, g in relevant.items() if g > 0}
    return len(positives & set(ranked[:k])) / len(positives) if positives else 0.0


def mrr_at(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    return next((1 / (i + 1) for i, d in enumerate(ranked[:k]) if relevant.get(d, 0) > 0), 0.0)


def evaluate_beir(
    data: BeirSet,
    params: BM25Params = BM25Params(),
    rules: PassageRules = PassageRules(),
    analyzer: Analyzer | None = None,
    index: SearchIndex | None = None,
) -> dict[str, float]:
    analyzer = analyzer or Analyzer()
    if index is None:
        index = build_index(data.articles, analyzer, params, rules)
    started = time.perf_counter()
    totals = defaultdict(float)
    for qid, text in data.queries.items():
        ranked = rank_articles(index, analyzer.question_terms(text), 100)
        relevant = data.qrels[qid]
        totals["nDCG@10"] += ndcg_at(ranked, relevant, 10)
        totals["Recall@100"] += recall_at(ranked, relevant, 100)
        totals["MRR@10"] += mrr_at(ranked, relevant, 10)
    elapsed = time.perf_counter() - started
    n = max(len(data.queries), 1)
    return {**{m: v / n for m, v in totals.items()}, "queries/s": len(data.queries) / elapsed}


def load_qa(path: Path) -> list[tuple[str, list[str]]]:
    """JSONL of ``{"question": …, "answers": [strings]}``."""
    return [(r["question"], list(r["answers"])) for r in _jsonl(path)]


def _contains(text: str, answers: list[str]) -> bool:
    folded = " ".join(text.casefold().split())
    return any(" ".join(a.casefold().split()) in folded for a in answers)


def evaluate_qa(
    engine: AnswerEngine, items: list[tuple[str, list[str]]], reply_quotes: int
) -> dict[str, float]:
    """Share of questions whose gold answer is in the first quote / in the first reply."""
    first = reply = 0
    for question, answers in items:
        quotes = engine.ask(question).quotes
        first += bool(quotes) and _contains(quotes[0].text, answers)
        reply += any(_contains(q.text, answers) for q in quotes[:reply_quotes])
    n = max(len(items), 1)
    return {
        "answer in first quote": first / n,
        "answer in reply": reply / n,
        "questions": len(items),
    }
