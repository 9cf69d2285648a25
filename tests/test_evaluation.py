"""Evaluation: BEIR loading and metrics on hand-checked data, the eval command, SciFact."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.answers.engine import AnswerEngine
from bot.articles.scan import read_corpus
from bot.evaluation import (
    evaluate_beir,
    evaluate_qa,
    load_beir,
    load_qa,
    mrr_at,
    ndcg_at,
    recall_at,
    squad_normalise,
)
from bot.search.lifecycle import build_index
from bot.text.analysis import Analyzer

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = (ROOT / ".." / "shared" / "data" / "scifact").resolve()
NEWSQA = (ROOT / ".." / "shared" / "data" / "newsqa-dev").resolve()

DOCS = [
    {
        "_id": "d1",
        "title": "Solar power",
        "text": "Solar panels convert sunlight into electricity efficiently.",
    },
    {
        "_id": "d2",
        "title": "Wind farms",
        "text": "Wind turbines generate electricity on windy coasts.",
    },
    {"_id": "d3", "title": "Coral reefs", "text": "Coral reefs bleach when the oceans warm."},
    {"_id": "d4", "title": "Volcanoes", "text": "Volcanic eruptions spread ash across the sky."},
    {"_id": 5, "title": "", "text": "Sourdough bread rises slowly overnight."},
]
QUERIES = [
    {"_id": "q1", "text": "coral bleaching"},
    {"_id": "q2", "text": "volcanic ash"},
    {"_id": "q3", "text": "electricity from wind turbines"},
    {"_id": "q9", "text": "sourdough bread"},  # judged in train only: not a test query
]
QRELS = "query-id\tcorpus-id\tscore\nq1\td3\t1\nq2\td4\t2\nq3\td1\t1\nq3\td5\t0\n"


@pytest.fixture
def beir(tmp_path: Path) -> Path:
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        "\n".join(json.dumps(d) for d in DOCS) + "\n\n", encoding="utf-8"
    )
    (folder / "queries.jsonl").write_text(
        "\n".join(json.dumps(q) for q in QUERIES), encoding="utf-8"
    )
    (folder / "qrels" / "test.tsv").write_text(QRELS, encoding="utf-8")
    (folder / "qrels" / "train.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq9\t5\t1\n", encoding="utf-8"
    )
    return folder


def test_load_beir(beir: Path) -> None:
    data = load_beir(beir, "test")
    assert [a.id for a in data.articles] == ["d1", "d2", "d3", "d4", "5"]
    assert data.articles[0].title == "Solar power"
    assert data.queries == {
        "q1": "coral bleaching",
        "q2": "volcanic ash",
        "q3": "electricity from wind turbines",
    }
    assert data.qrels == {"q1": {"d3": 1}, "q2": {"d4": 2}, "q3": {"d1": 1, "d5": 0}}
    assert load_beir(beir, "train").queries == {"q9": "sourdough bread"}


def test_evaluate_beir_on_a_known_ranking(beir: Path) -> None:
    results = evaluate_beir(load_beir(beir, "test"))
    # q1 and q2: the only document with the query's words is the relevant one (rank 1).
    # q3: d2 (wind, turbines, electricity) outranks the relevant d1 (electricity only): rank 2.
    assert results["nDCG@10"] == pytest.approx((1 + 1 + 1 / math.log2(3)) / 3)
    assert results["Recall@100"] == pytest.approx(1.0)
    assert results["MRR@10"] == pytest.approx((1 + 1 + 1 / 2) / 3)
    assert results["queries/s"] > 0


def test_ndcg_by_hand() -> None:
    relevant = {"b": 2, "c": 1, "d": 1}
    dcg = 2 / math.log2(3) + 1 / math.log2(4)
    ideal = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at(["a", "b", "c"], relevant, 3) == pytest.approx(dcg / ideal)
    assert ndcg_at(["b", "c", "d"], relevant, 3) == pytest.approx(1.0)
    assert ndcg_at(["b", "a"], relevant, 1) == pytest.approx(1.0)  # cut at k on both sides
    assert ndcg_at(["a", "b"], relevant, 1) == 0.0
    assert ndcg_at(["a"], {}, 10) == 0.0
    assert ndcg_at([], relevant, 10) == 0.0


def test_recall_by_hand() -> None:
    relevant = {"b": 1, "d": 3, "z": 0}  # grade 0 is not relevant
    assert recall_at(["a", "b", "c"], relevant, 2) == pytest.approx(0.5)
    assert recall_at(["a", "b", "c"], relevant, 1) == 0.0
    assert recall_at(["d", "z", "b"], relevant, 3) == pytest.approx(1.0)
    assert recall_at(["a"], {"z": 0}, 5) == 0.0


def test_mrr_by_hand() -> None:
    assert mrr_at(["a", "b", "c"], {"c": 1}, 3) == pytest.approx(1 / 3)
    assert mrr_at(["a", "b", "c"], {"c": 1}, 2) == 0.0
    assert mrr_at(["a", "b", "c"], {"b": 1, "c": 2}, 10) == pytest.approx(1 / 2)
    assert mrr_at(["a", "b"], {"a": 0, "b": 1}, 10) == pytest.approx(1 / 2)


def test_eval_beir_command_prints_the_metrics(
    beir: Path, capsys, monkeypatch, tmp_path: Path
) -> None:
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["eval", "--beir", str(beir)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"nDCG@10: {(2 + 1 / math.log2(3)) / 3:.4f}" in out
    assert "Recall@100: 1.0000" in out
    assert f"MRR@10: {2.5 / 3:.4f}" in out


def test_eval_qa_command_reports_what_readers_get(tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"
    items = [
        {
            "question": "What did Pompeo accuse TikTok of?",
            "answers": ["feeding data directly to the Chinese Communist Party"],
        },
        {"question": "Who is Jin Chun?", "answers": ["FORMER big  data engineer"]},  # case, spaces
        # Only SQuAD-normalised matching sees this one (article and comma dropped):
        {
            "question": "What did Pompeo accuse TikTok of?",
            "answers": ["a Chinese Communist Party,"],
        },
        {"question": "What is the capital of France?", "answers": ["Paris"]},
    ]
    qa.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BOT_"))}
    env["BOT_DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run(
        [sys.executable, "bot.py", "eval", "--qa", str(qa), "--corpus", "corpus", "--breakdown"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "answer in first quote: 0.5000" in lines
    assert "answer in reply: 0.5000" in lines
    assert "answer in first quote (SQuAD-normalised): 0.7500" in lines
    assert "answer in reply (SQuAD-normalised): 0.7500" in lines
    assert "no answer: 0.2500" in lines
    assert "passage@1: 0.5000" in lines and "passage@10: 0.5000" in lines
    chars = next(line for line in lines if line.startswith("mean quote characters: "))
    assert 0 < float(chars.split(": ")[1]) <= 600
    assert "questions: 4" in lines
    assert (tmp_path / "data" / "eval" / "index" / "CURRENT").is_file()


@pytest.mark.parametrize(
    "text, normalised",
    [
        ("The Chinese Communist Party.", "chinese communist party"),
        ("  an   Apple, a day!", "apple day"),
        ("“getting his chest waxed,”", "getting his chest waxed"),
        ("Theatre", "theatre"),  # "the" only as a word
    ],
)
def test_squad_normalisation(text: str, normalised: str) -> None:
    assert squad_normalise(text) == normalised


def test_eval_qa_needs_a_corpus(tmp_path: Path, capsys) -> None:
    from bot.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "--qa", str(tmp_path / "qa.jsonl")])
    assert exit_info.value.code == 2
    assert "--qa needs --corpus" in capsys.readouterr().err


# BM25 and the topic-search re-ranking were chosen on SciFact's train queries only; on test
# they give 0.6997 (BM25 alone: 0.6934).
def test_scifact_ndcg_at_10() -> None:
    if not (SCIFACT / "corpus.jsonl").is_file():
        pytest.skip(f"SciFact not found at {SCIFACT}")
    results = evaluate_beir(load_beir(SCIFACT, "test"))
    assert results["nDCG@10"] >= 0.699, results


# The question ranking and quote rules were chosen on NewsQA dev: 0.4038 / 0.5249 / 187
# characters (``benchmarks/tune_ranking.py --report``); the floors leave room for ties.
def test_newsqa_answers_in_the_first_quote_and_reply() -> None:
    if not (NEWSQA / "qa.jsonl").is_file():
        pytest.skip(f"NewsQA dev not found at {NEWSQA}")
    analyzer = Analyzer()
    index = build_index(read_corpus(NEWSQA / "corpus").articles, analyzer)
    engine = AnswerEngine(lambda: index, analyzer)
    results = evaluate_qa(engine, load_qa(NEWSQA / "qa.jsonl"), 3)
    assert results["answer in first quote"] >= 0.40, results
    assert results["answer in reply"] >= 0.52, results
    assert results["mean quote characters"] <= 320, results
    assert results["longest first reply characters"] <= 1500, results
