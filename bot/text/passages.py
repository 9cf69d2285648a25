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
_SENTENCE_END = re.compile(r"[.!?…:;。！？][\"'”’)\]」』]*\s*$")  # closing quotes may follow


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


def split_passages(text: str, rules: PassageRules = PassageRules()) -> list[PassageSpan]:
    """Sentence windows within each paragraph; headings are not passages of their own."""
    passages: list[PassageSpan] = []
    for number, (p_start, p_end) in enumerate(paragraph_spans(text), start=1):
        paragraph = text[p_start:p_end]
        if is_heading(paragraph):
            continue
        spans = [(p_start + s, p_start + e) for s, e in sentence_spans(paragraph)]
        words = [len(_WORD.findall(text[s:e])) for s, e in spans]
        first = 0
        while first < len(spans):
            last = first + 1  # exclusive; a window holds at least one sentence
            count = words[first]
            while (
                last < len(spans)
                and last - first < rules.max_sentences
                and count + words[last] <= rules.max_words
            ):
                count += words[last]
                last += 1
            passages.append(PassageSpan(number, spans[first][0], spans[last - 1][1]))
            if last == len(spans):
                break
            first = max(first + 1, last - rules.overlap)
    return passages
