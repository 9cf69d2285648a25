"""From a question to quotes: rank passages, keep the ones that really answer, cut quotes.

The "no answer" decision is a coverage test: a passage answers only if it contains a good
share of the question's information, measured as the share of the question's idf mass (each
distinct term weighted by its idf; terms absent from the archive count with the average idf)
found in the passage.

The threshold, 0.4, favours answering: on SciFact (``benchmarks/calibrate_no_answer.py``) it
answers 94% of claims whose evidence is in the corpus and refuses 23% of those whose evidence
was removed (0.5: 78% / 44%; 0.6: 63% / 63%). Claims share vocabulary with the rest of a
specialised corpus; a question about something the archive never covers ("What is the capital
of France?" on a news archive about China) matches little and is refused. BM25 scores alone
are not comparable across questions, so they cannot decide.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from bot.answers.model import Answer, AnswerStatus, Citation, Quote
from bot.search.index import Hit, PassageDetail, Query, SearchIndex
from bot.text.analysis import Analyzer, merge_spans


@dataclass(frozen=True, slots=True)
class AnswerSettings:
    max_question_chars: int = 1000
    candidates: int = 100  # passages ranked before grouping
    max_quotes: int = 12
    quotes_per_article: int = 2
    min_coverage: float = 0.4  # share of the question's idf mass a passage must contain
    max_quote_sentences: int = 3
    max_quote_chars: int = 600
    duplicate_jaccard: float = 0.8  # passages this alike are one passage shown twice (reprints)
    related_titles: int = 3


class AnswerEngine:
    """Answers questions from whatever index ``current_index`` returns at the time."""

    def __init__(
        self,
        current_index: Callable[[], SearchIndex | None],
        analyzer: Analyzer,
        settings: AnswerSettings = AnswerSettings(),
    ) -> None:
        self._current_index = current_index
        self.analyzer = analyzer
        self.settings = settings

    def ask(self, question: str) -> Answer:
        question = " ".join(unicodedata.normalize("NFC", question).split())
        s = self.settings
        if not question:
            return Answer(question, AnswerStatus.EMPTY)
        if len(question) > s.max_question_chars:
            return Answer(question, AnswerStatus.TOO_LONG)
        index = self._current_index()
        terms = self.analyzer.question_terms(question, index)  # in the archive's languages
        if not terms:
            return Answer(question, AnswerStatus.NO_TERMS)
        if index is None or len(index) == 0:
            return Answer(question, AnswerStatus.NO_MATCH)
        query = index.query(terms)
        hits = index.search(query, s.candidates)
        weights = _term_weights(index, query)
        total = sum(weights.values())
        quotes: list[Quote] = []
        kept_terms: list[set[int]] = []
        per_article: dict[str, int] = {}
        for ref, score in hits:
            detail = index.detail(ref)
            article = detail.passage.article
            present = set(detail.keys().tolist())  # title terms included
            if sum(w for t, w in weights.items() if t in present) < s.min_coverage * total:
                continue
            if per_article.get(article.id, 0) >= s.quotes_per_article:
                continue
            # Reprints carry other headlines: compare the passages' own words only.
            lo, hi = detail.sentence_tokens[detail.first], detail.sentence_tokens[detail.last]
            body_terms = set(detail.token_keys[lo:hi].tolist())
            if any(_jaccard(body_terms, other) >= s.duplicate_jaccard for other in kept_terms):
                continue
            quote = self._quote(detail, score, weights)
            if any(q.citation.article_id == article.id and _overlaps(q, quote) for q in quotes):
                continue
            quotes.append(quote)
            kept_terms.append(body_terms)
            per_article[article.id] = per_article.get(article.id, 0) + 1
            if len(quotes) == s.max_quotes:
                break
        if quotes:
            return Answer(question, AnswerStatus.ANSWERED, quotes)
        return Answer(
            question, AnswerStatus.NO_MATCH, related=_related(index, hits, s.related_titles)
        )

    def _quote(self, detail: PassageDetail, score: float, weights: dict[int, float]) -> Quote:
        """The best 1-3 consecutive sentences: most idf mass, then fewest sentences."""
        spans = detail.sentences.tolist()
        tokens = detail.sentence_tokens.tolist()
        keys = detail.token_keys.tolist()
        own = range(detail.first, detail.last)
        sentence_terms = {i: set(keys[tokens[i] : tokens[i + 1]]) for i in own}
        best_key, best = None, (detail.first, detail.last - 1)
        for first in own:
            covered: set[int] = set()
            for last in range(first, min(first + self.settings.max_quote_sentences, own.stop)):
                if (
                    last > first
                    and spans[last][1] - spans[first][0] > self.settings.max_quote_chars
                ):
                    break
                covered |= sentence_terms[last]
                key = (sum(weights.get(t, 0.0) for t in covered), -(last - first))
                if best_key is None or key > best_key:
                    best_key, best = key, (first, last)
        return self._make_quote(detail, spans[best[0]][0], spans[best[1]][1], score, weights)

    def _make_quote(
        self, detail: PassageDetail, start: int, end: int, score: float, weights: dict[int, float]
    ) -> Quote:
        passage = detail.passage
        article = passage.article
        limit = self.settings.max_quote_chars * 2  # one run-on "sentence" must not flood a reply
        cut_after = False
        if end - start > limit:
            space = article.text[start : start + limit].rfind(" ")
            end = start + (space if space > 0 else limit)  # CJK text has no spaces
            cut_after = True
        highlights = tuple(
            merge_spans(  # CJK bigrams overlap the characters they are made of
                (a - start, b - start)
                for (a, b), key in zip(
                    detail.token_spans.tolist(), detail.token_keys.tolist(), strict=True
                )
                if key in weights and start <= a and b <= end
            )
        )
        return Quote(
            article.text[start:end],
            highlights,
            score,
            Citation.of(article, passage.paragraph),
            start,
            end,
            cut_before=start > int(detail.sentences[0][0]),
            cut_after=cut_after or end < int(detail.sentences[-1][1]),
        )


def _term_weights(index: SearchIndex, query: Query) -> dict[int, float]:
    """idf of each distinct question term, by term key; a term absent from the archive counts
    with the average idf: it may be a word form the articles phrase differently ("founded"
    for "founder"), or a sign the question is about something else."""
    weights = {}
    for key, doc_freq, idf in zip(
        query.keys.tolist(), query.doc_freq.tolist(), query.idf.tolist(), strict=True
    ):
        weights[key] = max(idf if doc_freq else index.average_idf, 0.0)
    return weights


def _jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _overlaps(a: Quote, b: Quote) -> bool:
    return a.start < b.end and b.start < a.end


def _related(index: SearchIndex, hits: list[Hit], limit: int) -> list[Citation]:
    """Articles of the best partial matches: 'closest titles' for an unanswered question."""
    seen: dict[str, Citation] = {}
    for ref, _ in hits:
        passage = index.passage(ref)
        seen.setdefault(passage.article.id, Citation.of(passage.article, passage.paragraph))
        if len(seen) == limit:
            break
    return list(seen.values())
