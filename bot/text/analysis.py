"""The one analyzer for passages and questions.

Ranking is only as good as the agreement between how passages and questions are turned into
terms, so both go through :func:`Analyzer.terms`. Steps: Unicode normalisation (NFC text, NFKC
words, curly quotes and apostrophes made straight), case folding, word tokenisation, possessive
stripping, stopword removal and Snowball stemming (memoised: stemming is the hot spot of indexing).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from nltk.stem.snowball import EnglishStemmer

from bot.text.stopwords import ENGLISH_STOPWORDS

# Characters folded before tokenising: typographic apostrophes/quotes and dashes.
_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201b": "'",
        "\u02bc": "'",
        "\uff07": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
    }
)

# A word: letters/digits, possibly joined by inner apostrophes ("don't", "o'brien").
# Han, Hiragana, Katakana and Hangul characters are tokens of their own: those scripts do not
# separate words with spaces, and single characters are a workable unit for BM25.
_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_])+(?:'(?:(?![{_CJK}])[^\W_])+)*")
_POSSESSIVE = re.compile(r"'s$")


@dataclass(frozen=True, slots=True)
class Token:
    """A term with its place in the original text (for highlighting)."""

    term: str
    start: int
    end: int


class Analyzer:
    """Turns text into index terms; the same instance serves the corpus and the questions."""

    def __init__(self, stopwords: frozenset[str] = ENGLISH_STOPWORDS) -> None:
        self._stopwords = stopwords
        stemmer = EnglishStemmer()
        # A memo makes Snowball ~15x cheaper: news vocabularies repeat words constantly.
        self._stem = lru_cache(maxsize=1_000_000)(stemmer.stem)

    def __reduce__(self) -> tuple[type, tuple[frozenset[str]]]:
        """Pickled as its settings (worker processes build their own stemming memo)."""
        return type(self), (self._stopwords,)

    def _term(self, word: str) -> str | None:
        # Per-word NFKC (full-width letters, ligatures) keeps spans valid for highlighting.
        word = unicodedata.normalize("NFKC", word).casefold()
        if word in self._stopwords:
            return None
        word = _POSSESSIVE.sub("", word).replace("'", "")
        if not word or word in self._stopwords:
            return None
        return self._stem(word)

    def terms(self, text: str) -> list[str]:
        """Index terms of ``text`` in order (repeats kept: BM25 counts them)."""
        term = self._term
        return [
            t
            for t in map(term, _TOKEN.findall(unicodedata.normalize("NFC", text).translate(_FOLD)))
            if t
        ]

    def question_terms(self, text: str) -> list[str]:
        """Distinct terms of a question, in order: repeating a word in a question should not
        double its weight (+0.006 nDCG@10 on SciFact train; passages keep their counts)."""
        return list(dict.fromkeys(self.terms(text)))

    def tokens(self, text: str) -> list[Token]:
        """Terms with character spans into ``text`` (NFC, as articles are stored), for marking
        matches in quotes. Yields exactly the terms of :meth:`terms`, in the same order."""
        out = []
        for match in _TOKEN.finditer(text.translate(_FOLD)):
            term = self._term(match.group())
            if term:
                out.append(Token(term, match.start(), match.end()))
        return out
