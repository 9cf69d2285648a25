"""Answers: from a question to ranked quotes with citations, and their plain-text rendering."""

from bot.answers.engine import AnswerEngine, AnswerSettings
from bot.answers.model import Answer, AnswerStatus, AskContext, Citation, Quote

__all__ = [
    "Answer",
    "AnswerEngine",
    "AnswerSettings",
    "AnswerStatus",
    "AskContext",
    "Citation",
    "Quote",
]
