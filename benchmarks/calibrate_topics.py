"""How the alert topic threshold behaves on real news: BBC News articles and their categories.

    python benchmarks/calibrate_topics.py [--data ../shared/data/bbc-news/corpus.jsonl]

For topics whose natural home is one BBC category, prints per relevance threshold how many
articles a subscriber would be alerted about and the share of them in that category (a
proxy for precision: a football story outside "sport" is usually a mistake). The articles'
own category tags are left out, so only the BM25 relevance is measured.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from bot.alerts.topics import ArticleTerms, Topic, relevance
from bot.articles import read_article_file
from bot.search.lifecycle import build_index
from bot.search.segment import term_hash
from bot.text.analysis import Analyzer

TOPICS = {
    "football": "sport", "election": "politics", "oil prices": "business",
    "box office": "entertainment", "mobile phones": "tech", "interest rates": "business",
    "tennis -football": "sport", "labour party": "politics", "video games": "tech",
    "film awards": "entertainment",
}  # fmt: skip
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc-news" / "corpus.jsonl"
    parser.add_argument("--data", type=Path, default=default)
    args = parser.parse_args()
    articles, _ = read_article_file(args.data, args.data.parent)
    category = {a.id: a.topics[0] if a.topics else "" for a in articles}
    analyzer = Analyzer()
    index = build_index([dataclasses.replace(a, topics=()) for a in articles], analyzer)
    print(f"{len(articles)} BBC articles; alerts per topic (share in the expected category)\n")
    print(f"{'topic':20} {'category':14} " + " ".join(f"{'>= ' + str(t):>14}" for t in THRESHOLDS))
    totals = {t: [0, 0] for t in THRESHOLDS}
    for text, expected in TOPICS.items():
        topic = Topic.parse(text, analyzer, index.languages)
        excluded = {term_hash(t) for t in topic.exclude}
        scores = {}
        for a in index.articles():
            terms = ArticleTerms(index, index.article_terms(a.id), set())
            if excluded & terms.keys:
                continue
            scores[a.id] = relevance(index, terms, topic.include)
        cells = []
        for t in THRESHOLDS:
            hits = [i for i, s in scores.items() if s >= t]
            good = sum(category[i] == expected for i in hits)
            totals[t][0] += len(hits)
            totals[t][1] += good
            cells.append(f"{len(hits):5} ({good / len(hits):4.0%})" if hits else f"{0:5} (  - )")
        print(f"{text:20} {expected:14} " + " ".join(f"{c:>14}" for c in cells))
    print(
        f"{'all':35} "
        + " ".join(f"{n:5} ({g / n:4.0%})".rjust(14) if n else " " * 14 for n, g in totals.values())
    )


if __name__ == "__main__":
    main()
