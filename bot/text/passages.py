"""Splitting an article into passages: a few consecutive sentences within one paragraph.

Each passage points back into ``Article.text`` by character offsets, so every quote can be
cited to its paragraph and cut from the exact text. Consecutive windows overlap by one sentence
so that an answer spanning a window boundary is still found whole in one passage.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.text.sentences import sentence_spans

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# A word: a run of non-space characters, or one CJK character (those scripts use no spaces).
_WORD = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\s\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+"
)
# Closing quotes may follow; ؟ ۔ are Arabic-script marks, । ॥ the danda.
_SENTENCE_END = re.compile(r"[.!?…:;。！？؟۔।॥][\"'”’)\]」』]*\s*$")


@dataclass(frozen=True, slots=True)
class PassageSpan:
    """Where a passage lies in its article: paragraph number (1-based) and text offsets."""

    paragraph: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class PassageRules:
    """How big passages are: best on SciFact's train queries (``benchmarks/tune_scifact.py``).

    News paragraphs are mostly shorter than this, so a passage is usually a paragraph; the
    quote shown is still the best 1-3 sentences of it.
    """

    max_sentences: int = 8
    max_words: int = 300
    overlap: int = 1  # sentences shared by consecutive windows


def paragraph_spans(text: str) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each non-blank paragraph, paragraphs being separated by blank lines."""
    pos = 0
    for brk in _PARAGRAPH_BREAK.finditer(text):
        if text[pos : brk.start()].strip():
            yield _strip_span(text, pos, brk.start())
        pos = brk.end()
    if text[pos:].strip():
        yield _strip_span(text, pos, len(text))


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    chunk = text[start:end]
    return start + (len(chunk) - len(chunk.lstrip())), end - (len(chunk) - len(chunk.rstrip()))


def is_heading(paragraph: str) -> bool:
    """A short line without closing punctuation reads as a heading, not as an answer."""
    return len(_WORD.findall(paragraph)) <= 8 and not _SENTENCE_END.search(paragraph)


@dataclass(frozen=True, slots=True)
class SentenceSpan:
    """One sentence of an article: its paragraph number (1-based) and text offsets."""

    paragraph: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Layout:
    """An article's sentences (in text order) and its passages as sentence ranges.

    Passage ``i`` is sentences ``passages[i][0]`` up to (excluding) ``passages[i][1]``, all in
    one paragraph; consecutive windows of a paragraph share ``rules.overlap`` sentences. The
    index stores this once, so answering never splits or analyses text again.
    """

    sentences: list[SentenceSpan]
    passages: list[tuple[int, int]]


def layout(text: str, rules: PassageRules = PassageRules(), language: str = "") -> Layout:
    """Sentence windows within each paragraph, sentences split as ``language`` (ISO 639-1,
    "" unknown) writes them; headings are not passages of their own.

    A text made only of heading-like lines (a one-line record such as "Port closed by storm")
    still gets its paragraphs as passages: otherwise it could never be found, nor quoted.
    """
    paragraphs = list(enumerate(paragraph_spans(text), start=1))
    body = [(n, span) for n, span in paragraphs if not is_heading(text[span[0] : span[1]])]
    sentences: list[SentenceSpan] = []
    passages: list[tuple[int, int]] = []
    for number, (p_start, p_end) in body or paragraphs:
        first_sentence = len(sentences)
        sentences += [
            SentenceSpan(number, p_start + s, p_start + e)
            for s, e in sentence_spans(text[p_start:p_end], language)
        ]
        words = [len(_WORD.findall(text[s.start : s.end])) for s in sentences[first_sentence:]]
        first = 0
        while first < len(words):
            last = first + 1  # exclusive; a window holds at least one sentence
            count = words[first]
            while (
                last < len(words)
                and last - first < rules.max_sentences
                and count + words[last] <= rules.max_words
            ):
                count += words[last]
                last += 1
            passages.append((first_sentence + first, first_sentence + last))
            if last == len(words):
                break
            first = max(first + 1, last - rules.overlap)
    return Layout(sentences, passages)


def split_passages(
    text: str, rules: PassageRules = PassageRules(), language: str = ""
) -> list[PassageSpan]:
    """The passages of :func:`layout` as paragraph and text offsets."""
    plan = layout(text, rules, language)
    return [
        PassageSpan(
            plan.sentences[first].paragraph,
            plan.sentences[first].start,
            plan.sentences[last - 1].end,
        )
        for first, last in plan.passages
    ]
