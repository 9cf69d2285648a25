"""Analysis speed per language: seconds per million words, one process, memos warm as in a build.

    python benchmarks/bench_analysis_languages.py [--words 300000]

Texts are the shared multilingual corpora (English: TyDi en plus BBC News; Russian: TyDi ru;
Chinese: CMRC 2018; Arabic: TyDi ar). The shared data has no Persian text, so Persian is
measured on the Arabic articles analysed as Persian (same script, Persian letters, stopwords
and stemmer): the cost per word, not the quality, is what this measures. Words are counted as
passages count them (a CJK character is a word). Detection is included: the articles are
given no language, as an archive without metadata would be.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bot.articles.model import Article
from bot.search.builder import analyse_article
from bot.text.analysis import Analyzer
from bot.text.passages import _WORD, PassageRules

SETS = {
    "en": ["tydiqa-goldp/en"],
    "ru": ["tydiqa-goldp/ru"],
    "zh": ["cmrc2018/zh"],
    "ar": ["tydiqa-goldp/ar"],
    "fa": ["tydiqa-goldp/ar"],
}


def articles(data: Path, language: str, words: int) -> list[Article]:
    out, count = [], 0
    texts = []
    for name in SETS[language]:
        for path in sorted((data / "multilingual" / name / "corpus").glob("*.md")):
            body = path.read_text(encoding="utf-8").split("\n---\n", 1)[-1]
            texts.append(body)
    if language == "en":
        with (data / "bbc-news" / "corpus.jsonl").open(encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in f]
    while count < words:  # repeat the set to reach the size asked
        for text in texts:
            declared = "fa" if language == "fa" else ""
            out.append(Article(id=f"{language}{len(out)}", title="", text=text, language=declared))
            count += len(_WORD.findall(text))
            if count >= words:
                break
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--words", type=int, default=300_000)
    args = parser.parse_args()
    rules = PassageRules()
    figures = {}
    for language in SETS:
        batch = articles(args.data, language, args.words)
        words = sum(len(_WORD.findall(a.text)) for a in batch)
        analyzer = Analyzer()
        analyse_article(batch[0], analyzer, rules)  # models and nltk loaded before timing
        started = time.perf_counter()
        for article in batch:
            analyse_article(article, analyzer, rules)
        seconds = time.perf_counter() - started
        figures[language] = seconds / words * 1e6
        print(f"{language}: {words:>9,} words in {seconds:6.2f} s = {figures[language]:5.1f} s/1M")
    for language, per_million in figures.items():
        print(f"{language} / en: {per_million / figures['en']:.2f}x (target <= 2x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
