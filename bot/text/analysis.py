"""The one analyzer for passages and questions, in every language.

Ranking is only as good as the agreement between how passages and questions are turned into
terms, so both go through the same steps, with the article's language (``languages.py``):
Unicode normalisation (NFC text, NFKC words, curly quotes and apostrophes made straight),
case folding, letter variants and diacritics folded, word tokenisation, English possessives
and French/Italian elisions stripped, stopword removal and Snowball stemming (PyStemmer).

Scripts written without spaces between words (Chinese, Japanese, Thai, Lao, Khmer, Burmese)
and Korean, whose spaced words carry particles, become overlapping bigrams of characters, as
Lucene's CJKAnalyzer does (no dictionary to ship: a two-character Chinese word is one term),
plus the characters themselves, as its ``outputUnigrams`` option does: ``ABC`` gives ``A``,
``AB``, ``B``, ``BC``, ``C``. Each run of one script is split on its own. Bigrams alone lose
answers that characters find (answer in reply, CMRC zh / TyDi ko / JSQuAD ja: characters only,
as before, 0.868 / 0.623 / 0.913; bigrams 0.748 / 0.482 / 0.864; both 0.886 / 0.746 / 0.921,
with the question's bigrams the archive never holds left out, see ``_wanted``). Their spans
overlap, so highlights are joined with :func:`merge_spans`.

Every word → term result is memoised per language: news vocabularies repeat words constantly,
and a memo hit is cheaper than the normalisation and stemming it replaces.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from typing import Protocol

import regex

from bot.text.languages import LanguageProfile, profile, script_of, stemmer

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

# Runs of one bigrammed script (with their combining marks: Thai vowels and tone marks), or a
# word: letters, digits and combining marks (Hindi and Bengali vowel signs, Arabic harakat),
# possibly joined by inner apostrophes ("don't", "o'brien").
_RUNS = {  # character classes, without their brackets
    "han": r"\p{Han}\p{Hiragana}\p{Katakana}\u30fc\u3005\u3006\u30f5\u30f6",
    "hangul": r"\p{Hangul}",
    "thai": r"\p{Thai}",
    "lao": r"\p{Lao}",
    "khmer": r"\p{Khmer}",
    "myanmar": r"\p{Myanmar}",
}
_LETTER = rf"[[\p{{L}}\p{{N}}]--[{''.join(_RUNS.values())}]]"
_WORD = rf"{_LETTER}[{_LETTER}\p{{M}}]*"
_TOKEN = regex.compile(
    "|".join(rf"(?P<{name}>(?:[{chars}]\p{{M}}*)+)" for name, chars in _RUNS.items())
    + rf"|(?P<word>{_WORD}(?:'{_WORD})*)",
    regex.V1,
)
_UNIT = regex.compile(r"\P{M}\p{M}*")  # a character with its combining marks
_MEMO_LIMIT = 1_000_000  # words per language before a memo starts again
# Languages Snowball has no stemmer for (Bengali, Telugu, Swahili, Hebrew...) keep the first
# three letters of each word, a crude stemmer that beats none on every such set (answer in
# reply, benchmarks/eval_languages.py; words kept whole / 3 / 4 / 5 letters, with the quotes
# of the time): bn 0.460/0.637/0.566/0.513, te 0.332/0.414/0.360/0.341, sw
# 0.565/0.611/0.607/0.591, HeQ he 0.540/0.609/0.573/0.548. Four letters were kept at first
# for Swahili's first quote; with today's quotes, three against four (first / reply):
# bn 0.558/0.637 vs 0.549/0.619, te 0.365/0.445 vs 0.272/0.296, sw 0.551/0.653 vs
# 0.565/0.639, he 0.588/0.625 vs 0.546/0.559.
PREFIX_LETTERS = 3
# The marks between those letters are kept, those after the third are not: in Indic scripts
# they are the vowel signs and the anusvara that inflection changes (Telugu నగరం "city",
# నగరాలు "cities", నగరంలో "in the city"; Bengali শহর, শহরে, শহরের). Shorter words are kept
# whole, and so are the characters and bigrams of Thai, Lao, Khmer and Burmese runs: their
# marks are vowels and tones, not endings (iapp th 0.719/0.789 with the marks of a bigram's
# second character dropped). Kept whole, Thai's ำ (NFKC: a mark, then า) is no longer read
# as า, as when leading marks were skipped (th 0.769/0.824 -> 0.772/0.828).
# With Telugu's question words left out (first / reply): bn 0.558/0.637 -> 0.575/0.681,
# te 0.390/0.538 -> 0.493/0.744; two and four letters so cut: bn 0.549/0.673 and
# 0.540/0.611, te 0.425/0.643 and 0.426/0.495. Swahili and Hebrew (its points are dropped,
# ``languages.py``) have no such marks.
_PREFIX = regex.compile(rf"\P{{M}}(?:\p{{M}}*\P{{M}}){{{PREFIX_LETTERS - 1}}}")


@dataclass(frozen=True, slots=True)
class Token:
    """A term with its place in the original text (for highlighting)."""

    term: str
    start: int
    end: int


class ArchiveVocabulary(Protocol):
    """What question analysis asks of the archive (``SearchIndex`` provides both)."""

    @property
    def languages(self) -> frozenset[str]: ...

    def idf(self, term: str) -> float | None: ...


class _Words:
    """One language's word → term function (None: a stopword), memoised."""

    __slots__ = ("memo", "profile", "stem")

    def __init__(self, language: LanguageProfile) -> None:
        self.profile = language
        self.stem = stemmer(language.stemmer).stemWord if language.stemmer else None
        self.memo: dict[str, str | None] = {}

    def term(self, word: str) -> str | None:
        memo = self.memo
        if word in memo:
            return memo[word]
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[word] = term = self._term(word)
        return term

    def _term(self, word: str) -> str | None:
        language = self.profile
        word = language.normalise(word)
        stopwords = language.stopwords
        if word in stopwords:
            return None
        if "'" in word:
            head, _, tail = word.partition("'")
            if head in language.elisions:
                word = tail
            elif word.endswith("'s") and language.code == "en":
                word = word[:-2]
            word = word.replace("'", "")
            if not word or word in stopwords:
                return None
        if self.stem:
            return self.stem(word)
        if any(c.isdigit() for c in word):
            return word
        prefix = _PREFIX.search(word)  # no stemmer: a word's first letters
        return prefix.group() if prefix else word


class Analyzer:
    """Turns text into index terms; the same instance serves the corpus and the questions.

    ``default_language`` is used for texts of unknown language ("") and when no language is
    given (topics, BEIR evaluation): English, as before languages were told apart.
    """

    def __init__(self, default_language: str = "en") -> None:
        self.default_language = default_language
        self._words: dict[str, _Words] = {}

    def __reduce__(self) -> tuple[type, tuple[str]]:
        """Pickled as its settings (worker processes build their own memos)."""
        return type(self), (self.default_language,)

    @property
    def signature(self) -> str:
        """Changes whenever what terms the analyzer produces can change: its settings and the
        versions of the stemmer, stopword and detector packages (stored indexes are then
        rebuilt, not misread)."""
        packages = ",".join(f"{p}-{version(p)}" for p in ("PyStemmer", "stopwordsiso", "py3langid"))
        return f"default={self.default_language};{packages}"

    def _for(self, language: str | None) -> _Words:
        code = language or self.default_language
        words = self._words.get(code)
        if words is None:
            words = self._words[code] = _Words(profile(code))
        return words

    def _analyse(self, text: str, words: _Words) -> Iterator[tuple[int, int, str, str | None]]:
        """``(start, end, token text, term or None)`` of every token, in order of start."""
        term = words.term
        for match in _TOKEN.finditer(text.translate(_FOLD)):
            if match.lastgroup == "word":
                word = match.group()
                yield match.start(), match.end(), word, term(word)
                continue
            start = match.start()
            units = _UNIT.findall(match.group())
            previous = ""
            for unit in units:
                end = start + len(unit)
                if previous:
                    bigram = previous + unit
                    yield start - len(previous), end, bigram, term(bigram)
                yield start, end, unit, term(unit)
                previous, start = unit, end

    def terms(self, text: str, language: str | None = None) -> list[str]:
        """Index terms of ``text`` in order (repeats kept: BM25 counts them)."""
        text = unicodedata.normalize("NFC", text)
        return [t for _, _, _, t in self._analyse(text, self._for(language)) if t]

    def tokens(self, text: str, language: str | None = None) -> list[Token]:
        """Terms with character spans into ``text`` (NFC, as articles are stored), for marking
        matches in quotes. Yields exactly the terms of :meth:`terms`, in the same order; spans
        overlap only within a run of bigrammed script (join them with :func:`merge_spans`)."""
        return [Token(t, s, e) for s, e, _, t in self._analyse(text, self._for(language)) if t]

    def analysed_languages(self, codes: Iterable[str]) -> frozenset[str]:
        """The languages :meth:`question_terms` analyses with for an archive of ``codes``
        ("" for unknown: the default language): equal sets analyse alike, so a memo of
        analyses can be keyed by them."""
        return frozenset(c or self.default_language for c in codes)

    def question_terms(
        self, text: str, archive: ArchiveVocabulary | None = None, reader: str = ""
    ) -> list[str]:
        """Distinct terms of a question, in order, for the archive it is asked of.

        A question is a few words: too little for language detection (py3langid gets 0.97 of
        them right, see ``detection.py``, and loading its model would double the start-up of
        ``bot.py ask``). So it is analysed with every language of the archive (and the reader's
        language, when known) and the analyses are combined word by word:

        - a word is analysed only with the languages that write its script ("Что такое
          TikTok?" in a Russian and English archive: "что", "такое" as Russian, "tiktok" as
          English); a script no archive language writes uses the default language;
        - among the languages sharing a script, those whose stopwords the question uses most
          decide which words are stopwords (a Spanish "son" is one, an English "son" is not);
        - each remaining word gets one term, so that no word weighs double in the coverage
          test: the term of the deciding languages that the archive holds (highest document
          frequency first), else the first deciding language's.

        With one language in the archive this is that language's analysis, unchanged (an
        English archive answers exactly as before). Cost: one analysis per language (about
        10 µs each for a ten-word question once the word memos are warm) and one memoised
        index look-up per word and candidate term: well under a millisecond beside a search.

        Repeating a word in a question does not double its weight (+0.006 nDCG@10 on SciFact
        train; passages keep their counts).
        """
        text = unicodedata.normalize("NFC", text)
        codes = sorted(self.analysed_languages(archive.languages if archive else ()))
        if reader and reader not in codes:
            codes.append(reader)
        if len(codes) <= 1:
            analysis = self._analyse(text, self._for(codes[0] if codes else None))
            terms = [t for _, _, token, t in analysis if t and _wanted(token, t, archive)]
            return list(dict.fromkeys(terms))
        return self._combined(text, [self._for(c) for c in codes], archive)

    def _combined(
        self, text: str, languages: list[_Words], archive: ArchiveVocabulary | None
    ) -> list[str]:
        analyses = [list(self._analyse(text, words)) for words in languages]
        tokens = analyses[0]  # tokenisation is the same in every language: only terms differ
        scripts = [script_of(token[2][0]) for token in tokens]
        by_script: dict[str, list[int]] = {}
        for script in dict.fromkeys(scripts):
            writing = [i for i, w in enumerate(languages) if w.profile.script == script]
            if not writing:
                writing = [next((i for i, w in enumerate(languages)
                                 if w.profile.code == self.default_language), 0)]  # fmt: skip
            if len(writing) > 1:  # the languages whose stopwords the question uses most
                hits = [
                    sum(analyses[i][n][3] is None for n, s in enumerate(scripts) if s == script)
                    for i in writing
                ]
                if max(hits):
                    writing = [i for i, h in zip(writing, hits, strict=True) if h == max(hits)]
            by_script[script] = writing
        out: dict[str, None] = {}
        for n, script in enumerate(scripts):
            candidates = [analyses[i][n][3] for i in by_script[script]]
            if None in candidates:
                continue
            best = _best(candidates, archive)  # type: ignore[arg-type]
            if _wanted(tokens[n][2], best, archive):
                out.setdefault(best, None)
        return list(out)


def _wanted(token: str, term: str, archive: ArchiveVocabulary | None) -> bool:
    """False for a question bigram the archive never holds: most are two words' edges ("音是"
    in "抖音是什么"), and counting them as missing would refuse answers (CMRC zh answered 0.83
    of questions with them, 0.99 without); unknown words still count, as they should."""
    return archive is None or not _is_bigram(token) or archive.idf(term) is not None


def _is_bigram(token: str) -> bool:
    return len(_UNIT.findall(token)) == 2 and _TOKEN.fullmatch(token).lastgroup != "word"  # type: ignore[union-attr]


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans sorted, overlapping and touching ones joined: a bigram and the characters it is
    made of are one highlight."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _best(candidates: Iterable[str], archive: ArchiveVocabulary | None) -> str:
    """The candidate term the archive holds in the most passages (lowest idf), else the first."""
    candidates = list(dict.fromkeys(candidates))
    if len(candidates) == 1 or archive is None:
        return candidates[0]
    known = [(idf, n) for n, t in enumerate(candidates) if (idf := archive.idf(t)) is not None]
    return candidates[min(known)[1]] if known else candidates[0]
