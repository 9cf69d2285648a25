"""Measuring the product on labelled data: BEIR retrieval sets and question/answer files.

Both go through the same pipeline the bot uses (passages, analyzer, BM25 index, and for QA the
answer engine), so the figures describe what readers get, not a side path.
"""

from __future__ import annotations

import json
import math
import re
import time
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from bot.answers.engine import AnswerEngine, AnswerSettings
from bot.answers.render_text import reply_length
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


def rank_articles(engine: AnswerEngine, question: str, k: int) -> list[str]:
    """Article ids in the order the bot ranks their passages (first appearance): the answer
    engine's own ranking, re-ranking included."""
    ranking = engine.rank(question)
    index = ranking.index
    if index is None:
        return []
    best = dict.fromkeys(c.article_id for c in ranking.candidates)
    for ref, _ in ranking.rest:
        if len(best) >= k:
            break
        best.setdefault(index.article_id(ref), None)
    return list(best)[:k]


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
    settings: AnswerSettings = AnswerSettings(),
) -> dict[str, float]:
    """nDCG@10, Recall@100 and MRR@10 of the bot's article ranking (``settings``' ranking,
    over 1,000 first-stage passages so that 100 articles are ranked)."""
    analyzer = analyzer or Analyzer()
    if index is None:
        index = build_index(data.articles, analyzer, params, rules)
    engine = AnswerEngine(lambda: index, analyzer, replace(settings, candidates=1000))
    started = time.perf_counter()
    totals = defaultdict(float)
    for qid, text in data.queries.items():
        ranked = rank_articles(engine, text, 100)
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


def contains_answer(text: str, answers: list[str]) -> bool:
    """Case- and space-folded substring match."""
    folded = " ".join(text.casefold().split())
    return any(" ".join(a.casefold().split()) in folded for a in answers)


_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


def squad_normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, punctuation and English articles removed,
    whitespace folded (the official evaluation script's ``normalize_answer``)."""
    text = "".join(c for c in text.lower() if not unicodedata.category(c).startswith("P"))
    return " ".join(_ARTICLES.sub(" ", text).split())


def _contains_normalised(text: str, answers: list[str]) -> bool:
    """SQuAD-style match: the normalised answer in the normalised text, on word boundaries."""
    padded = f" {squad_normalise(text)} "
    return any(f" {squad_normalise(a)} " in padded for a in answers if squad_normalise(a))


def evaluate_qa(
    engine: AnswerEngine,
    items: list[tuple[str, list[str]]],
    reply_quotes: int,
    breakdown: bool = False,
) -> dict[str, float]:
    """What readers get: the gold answer in the first quote / in the first reply (plain and
    SQuAD-normalised matching), how often the bot refuses, how long quotes and first replies
    are; with ``breakdown``, passage@k: the answer in the full text of one of the k best
    ranked passages, to see whether answers are lost by ranking or by cutting quotes."""
    counts: dict[str, float] = defaultdict(float)
    quote_chars: list[int] = []
    reply_chars: list[int] = []
    for question, answers in items:
        ranking = engine.rank(question)
        quotes = engine.answer(ranking).quotes
        reply = quotes[:reply_quotes]
        counts["answer in first quote"] += bool(quotes) and contains_answer(quotes[0].text, answers)
        counts["answer in reply"] += any(contains_answer(q.text, answers) for q in reply)
        counts["answer in first quote (SQuAD-normalised)"] += bool(quotes) and (
            _contains_normalised(quotes[0].text, answers)
        )
        counts["answer in reply (SQuAD-normalised)"] += any(
            _contains_normalised(q.text, answers) for q in reply
        )
        counts["no answer"] += not quotes
        quote_chars += [len(q.text) for q in reply]
        if reply:
            reply_chars.append(reply_length(reply))
        if breakdown and ranking.index is not None:
            texts = [ranking.index.passage(c.ref).text for c in ranking.candidates[:10]]
            for k in (1, 3, 10):
                counts[f"passage@{k}"] += any(contains_answer(t, answers) for t in texts[:k])
    n = max(len(items), 1)
    results = {name: value / n for name, value in counts.items()}
    results["mean quote characters"] = sum(quote_chars) / max(len(quote_chars), 1)
    results["mean first reply characters"] = sum(reply_chars) / max(len(reply_chars), 1)
    results["longest first reply characters"] = max(reply_chars, default=0)
    results["questions"] = len(items)
    return results
