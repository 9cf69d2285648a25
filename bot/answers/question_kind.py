"""What a reader's message asks for, read from its wording: a question expecting a number or a
date, another question, or no question at all (a claim or keywords: "TikTok ban in China").

Ranking uses it twice (``bot/answers/ranking.py``): passages holding the expected kind of
answer (a number for "how many", a date for "when") gain a little, and only topic searches get
pseudo-relevance feedback, which finds more passages *like* the best match: what a topic search
wants, while a question's answer often sits in a passage unlike the one that repeats its words.

The cues are English words; in other languages every message reads as a question without an
expected kind, and ranking falls back to the features that need no wording.
"""

from __future__ import annotations

import enum
import re


class QuestionKind(enum.Enum):
    TOPIC = "topic"  # not a question: a claim or keywords
    QUESTION = "question"  # a question expecting no particular kind of answer
    NUMBER = "number"  # how many, how much, how old, what percentage...
    DATE = "date"  # when, what year, what day...


# A question asks ("...?"), or opens with a question word or an auxiliary verb, maybe after a
# conjunction or a preposition ("And who...", "In what year..."), or with a request ("Name
# the..."), or holds a question word without ending as a sentence ("He was sued by who").
# A claim holding "where" or "which" in a relative clause, full stop at the end, is not asking.
_ASKING = re.compile(
    r"\?|^(?:(?:and|but|so|then|also|ok|okay|well)\s+)?"
    r"(?:(?:in|on|at|for|from|by|to|since|of|with|about|during|after|before|until)\s+)?"
    r"(?:who|whom|whose|what|which|where|when|why|how|is|are|was|were|do|does|did|can|"
    r"could|will|would|should|shall|has|have|had|may|might|must|name|list|tell|describe|"
    r"explain)\b"
)
_WH = re.compile(r"\b(?:who|whom|whose|what|which|where|when|why|how)\b")
_NUMBER = re.compile(
    r"\bhow\s+(?:many|much|old|long|far|big|large|tall|high|often|fast)\b"
    r"|\b(?:what|which)(?:\s+\w+)?\s+(?:number|percentage|percent|amount|age|size|"
    r"proportion|share|rate|price|cost|total|figure|score)s?\b"
    r"|\bnumber\s+of\b"
)
_DATE = re.compile(
    r"\bwhen\b|\b(?:what|which)\s+(?:year|day|date|month|time|decade|century|season)s?\b"
    r"|\bhow\s+soon\b"
)


def question_kind(text: str) -> QuestionKind:
    """The kind of message ``text`` is (see the module's docstring)."""
    folded = " ".join(text.casefold().split())
    if not _ASKING.search(folded) and (folded.endswith(".") or not _WH.search(folded)):
        return QuestionKind.TOPIC
    if _NUMBER.search(folded):
        return QuestionKind.NUMBER
    if _DATE.search(folded):
        return QuestionKind.DATE
    return QuestionKind.QUESTION


_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
    "hundred hundreds thousand thousands million millions billion billions trillion dozen "
    "dozens half quarter percent"
)
_DATE_WORDS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday "
    "friday saturday sunday today yesterday tomorrow tonight morning afternoon evening night "
    "week weeks month months year years decade decades century ago weekend"
)


def answer_words(kind: QuestionKind) -> str:
    """Words whose presence marks a passage as holding the kind of answer ``kind`` expects
    (empty for the other kinds): numerals and number words, or dates and times."""
    if kind is QuestionKind.NUMBER:
        return " ".join((_NUMBER_WORDS, *map(str, range(10_000))))
    if kind is QuestionKind.DATE:
        return " ".join((_DATE_WORDS, *map(str, range(1, 32)), *map(str, range(1800, 2101))))
    return ""
