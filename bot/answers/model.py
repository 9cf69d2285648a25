"""The answer as data: quotes, highlight spans and citations, rendered by each front end."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import asdict, dataclass, field

from bot.articles.model import Article


class AnswerStatus(enum.Enum):
    ANSWERED = "answered"
    EMPTY = "empty"  # nothing but whitespace
    TOO_LONG = "too_long"
    NO_TERMS = "no_terms"  # only stopwords, punctuation or emoji: nothing to search for
    NO_MATCH = "no_match"  # the archive does not answer it


@dataclass(frozen=True, slots=True)
class AskContext:
    """What a question follows up, as a front end knows it.

    ``previous_question``: the question of the answer being replied to; its terms count with
    a lower weight (``AnswerSettings.context_weight``) beside the new question's own.
    ``article_id``: answer from this article only ("Ask about this article").
    """

    previous_question: str = ""
    article_id: str = ""


@dataclass(frozen=True, slots=True)
class Citation:
    article_id: str
    title: str
    source: str
    date: dt.date | None
    url: str
    paragraph: int
    language: str = ""  # the article's ISO 639-1 code, from metadata or detected; "" unknown

    @classmethod
    def of(cls, article: Article, paragraph: int) -> Citation:
        return cls(
            article.id,
            article.title,
            article.source,
            article.date,
            article.url,
            paragraph,
            article.language,
        )


@dataclass(frozen=True, slots=True)
class Quote:
    """1-3 consecutive sentences of a passage, with the question's terms marked.

    ``highlights`` are ``(start, end)`` spans into ``text``; ``start``/``end`` are offsets
    into the article text; ``cut_before``/``cut_after`` say whether the paragraph goes on
    beyond the quote (front ends show an ellipsis).
    """

    text: str
    highlights: tuple[tuple[int, int], ...]
    score: float
    citation: Citation
    start: int
    end: int
    cut_before: bool
    cut_after: bool

    @property
    def highlighted_terms(self) -> list[str]:
        return list(dict.fromkeys(self.text[s:e] for s, e in self.highlights))


@dataclass(slots=True)
class Answer:
    question: str
    status: AnswerStatus
    quotes: list[Quote] = field(default_factory=list)
    related: list[Citation] = field(default_factory=list)  # closest articles when unanswered

    @property
    def answered(self) -> bool:
        return self.status is AnswerStatus.ANSWERED

    def to_dict(self) -> dict:
        """JSON-ready form (``bot.py ask --json``)."""

        def citation(c: Citation) -> dict:
            return {**asdict(c), "date": c.date.isoformat() if c.date else None}

        return {
            "question": self.question,
            "status": self.status.value,
            "quotes": [
                {
                    "text": q.text,
                    "highlights": [
                        {"start": s, "end": e, "text": q.text[s:e]} for s, e in q.highlights
                    ],
                    "highlighted_terms": q.highlighted_terms,
                    "score": round(q.score, 6),
                    **citation(q.citation),
                    "start": q.start,
                    "end": q.end,
                }
                for q in self.quotes
            ],
            "related": [citation(c) for c in self.related],
        }
