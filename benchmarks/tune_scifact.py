"""Grid search of BM25 and passage settings on SciFact's *train* queries; reports test once.

    python benchmarks/tune_scifact.py [--data ../shared/data/scifact]

The test split is only evaluated for the single best train setting, so the reported test
figure is not tuned on test.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from bot.evaluation import evaluate_beir, load_beir
from bot.search.bm25 import BM25Params
from bot.search.lifecycle import build_index
from bot.text.analysis import Analyzer
from bot.text.passages import PassageRules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/scifact"))
    args = parser.parse_args()
    train, test = load_beir(args.data, "train"), load_beir(args.data, "test")
    analyzer = Analyzer()
    results = []
    for sentences, words in [(4, 150), (6, 250), (8, 300), (10, 400)]:
        rules = PassageRules(sentences, words, 1)
        for k1, b in itertools.product([0.9, 1.2, 1.5], [0.3, 0.4, 0.5, 0.6, 0.75]):
            params = BM25Params(k1, b)
            index = build_index(train.articles, analyzer, params, rules)
            score = evaluate_beir(train, params, rules, analyzer, index)["nDCG@10"]
            results.append((score, rules, params))
            print(f"{rules} k1={k1} b={b}: train nDCG@10 {score:.4f}", flush=True)
    score, rules, params = max(results, key=lambda r: r[0])
    print(f"\nbest on train: {rules} {params} nDCG@10 {score:.4f}")
    for name, value in evaluate_beir(test, params, rules, analyzer).items():
        print(f"test {name}: {value:.4f}")


if __name__ == "__main__":
    main()
