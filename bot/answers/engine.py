"""From a question to quotes: rank passages, keep the ones that really answer, cut quotes.

The steps, each in its own module:

1. the exact BM25 first stage (``SearchIndex.search``; for a question scoped to one article,
   the same formula over that article's passages only);
2. re-ranking of its best candidates with their article's context (``ranking``);
3. the "no answer" decision and the quotes: a passage answers only if it contains a good share
   of the question's information, measured as the share of the question's idf mass (each
   distinct term weighted by its idf; terms absent from the archive count with the average
   idf) found in the passage, title included; the quote is its answering sentences
   (``quotes``); at most three quotes per article, reprints shown once, and the first reply's
   three quotes with their citations within 1,500 characters. Three, not two: a question is
   usually answered by one story, and on NewsQA dev the first reply holds the answer 54.1% of
   the time with three quotes per article against 52.5% with two and 47.0% with one
   (``benchmarks/tune_ranking.py``'s settings, first quote unchanged at 40.4%).

The threshold, 0.42, is the highest that still answers at least 90% of the questions the
archive can answer on both development sets (``benchmarks/calibrate_no_answer.py``, with the
re-ranked candidates): SciFact train claims are answered 91.6% of the time with their
evidence in the corpus and refused 24.8% without it (0.45: 88.3% / 31.3%; 0.5: 80.7% /
45.0%); NewsQA dev questions are answered 97.6% with their story and refused 19.4% when
asked of the archive without it (0.5: 94.8% / 29.6%). Claims share vocabulary with the rest
of a specialised corpus, and news stories with other stories, so refusing more would cost
answers; a question about something the archive never covers matches little and is refused.
BM25 scores alone are not comparable across questions, so they cannot decide.

Follow-ups (:class:`AskContext`): the terms of the question being followed up together weigh
at most ``context_weight`` (0.3) of the new question's own (``_weigh``), in the first stage,
re-ranking and coverage alike. On NewsQA dev, 3,574 questions asked as follow-ups of the
question before them about the same story (``benchmarks/tune_context.py``) find the answer
in the first quote 43.8% of the time and in the first reply 56.4% (asked alone: 40.7% /
53.2%; weight 0.1: 42.3% / 55.1%; 0.5: 42.8% / 55.6%; 1.0: 40.4% / 52.9%). An article id
scopes the search to that article (and lifts the two-quotes-per-article rule).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from bot.answers.model import Answer, AnswerStatus, AskContext, Citation, Quote
from bot.answers.question_kind import QuestionKind, answer_words, question_kind
from bot.answers.quotes import QuoteRules, QuoteSpan, choose_span
from bot.answers.ranking import (
    TOPIC_WEIGHTS,
    Candidate,
    QuestionTerms,
    RankingWeights,
    rerank,
)
from bot.answers.render_text import reply_length
from bot.search.bm25 import length_norms
from bot.search.index import Hit, PassageDetail, Query, SearchIndex
from bot.text.analysis import Analyzer, merge_spans


@dataclass(frozen=True, slots=True)
class AnswerSettings:
    max_question_chars: int = 1000
    candidates: int = 100  # first-stage passages considered
    max_quotes: int = 12
    quotes_per_article: int = 3
    min_coverage: float = 0.42  # share of the question's idf mass a passage must contain
    duplicate_jaccard: float = 0.8  # passages this alike are one passage shown twice (reprints)
    related_titles: int = 3
    context_weight: float = 0.3  # a followed-up question's terms' weight, relative to the new
    reply_quotes: int = 3  # quotes in the first reply...
    reply_chars: int = 1500  # ...and its most visible characters, citations included
    ranking: RankingWeights = field(default_factory=RankingWeights)  # questions
    topic_ranking: RankingWeights = TOPIC_WEIGHTS  # claims and keywords
    quotes: QuoteRules = field(default_factory=QuoteRules)


@dataclass(slots=True)
class Ranking:
    """A question as searched: its query, the ranked candidates, or why it was not searched."""

    question: str
    status: AnswerStatus | None = None  # set when the question could not be searched
    index: SearchIndex | None = None
    query: Query | None = None
    candidates: list[Candidate] = field(default_factory=list)  # re-ranked, best first
    rest: list[Hit] = field(default_factory=list)  # first-stage hits below them, in order
    weights: dict[int, float] = field(default_factory=dict)  # coverage weight by term key
    scoped: bool = False  # asked about one article


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
        self._kind_keys: dict[QuestionKind, np.ndarray] = {}
        self._kind_index: SearchIndex | None = None

    def ask(self, question: str, context: AskContext | None = None) -> Answer:
        return self.answer(self.rank(question, context))

    # -- ranking ----------------------------------------------------------------------------

    def rank(self, question: str, context: AskContext | None = None) -> Ranking:
        """The question's candidates, best first (what :meth:`answer` quotes from)."""
        question = " ".join(unicodedata.normalize("NFC", question).split())
        s = self.settings
        if not question:
            return Ranking(question, AnswerStatus.EMPTY)
        if len(question) > s.max_question_chars:
            return Ranking(question, AnswerStatus.TOO_LONG)
        index = self._current_index()
        terms = self.analyzer.question_terms(question, index)  # in the archive's languages
        earlier: list[str] = []
        if context and context.previous_question:
            asked = set(terms)
            earlier = [
                t
                for t in self.analyzer.question_terms(
                    context.previous_question[: s.max_question_chars], index
                )
                if t not in asked
            ]
        if not terms and not earlier:
            return Ranking(question, AnswerStatus.NO_TERMS)
        if index is None or len(index) == 0:
            return Ranking(question, AnswerStatus.NO_MATCH, index)
        query, weights = _weigh(index, index.query(terms + earlier), len(earlier), s.context_weight)
        scoped = bool(context and context.article_id)
        if scoped:
            hits = _article_hits(index, query, context.article_id, s.candidates)
        else:
            hits = index.search(query, s.candidates)
        kind = question_kind(question)
        candidates = rerank(
            index,
            query,
            hits,
            self._answer_keys(index, kind),
            np.array([weights[k] for k in query.keys.tolist()]),
            s.topic_ranking if kind is QuestionKind.TOPIC else s.ranking,
        )
        rest = hits[len(candidates) :]
        return Ranking(question, None, index, query, candidates, rest, weights, scoped)

    def _answer_keys(self, index: SearchIndex, kind: QuestionKind) -> np.ndarray:
        """Sorted term keys of the words marking the answer ``kind`` expects, per index."""
        if self._kind_index is not index:
            self._kind_keys, self._kind_index = {}, index
        keys = self._kind_keys.get(kind)
        if keys is None:
            terms = self.analyzer.terms(answer_words(kind))
            keys = np.unique(index.query(terms).keys) if terms else np.zeros(0, np.uint64)
            self._kind_keys[kind] = keys
        return keys

    # -- answering --------------------------------------------------------------------------

    def answer(self, ranking: Ranking) -> Answer:
        """Quotes cut from the ranked candidates, or the reason there are none."""
        question, index, query = ranking.question, ranking.index, ranking.query
        if ranking.status is not None or index is None or query is None:
            return Answer(question, ranking.status or AnswerStatus.NO_MATCH)
        s = self.settings
        terms = QuestionTerms.of(query)
        per_article = s.max_quotes if ranking.scoped else s.quotes_per_article
        quotes: list[Quote] = []
        kept_terms: list[set[int]] = []
        shown: dict[str, int] = {}
        for candidate in ranking.candidates:
            if candidate.coverage < s.min_coverage:
                continue
            if shown.get(candidate.article_id, 0) >= per_article:
                continue
            detail = index.detail(candidate.ref)
            # Reprints carry other headlines: compare the passages' own words only.
            lo, hi = detail.sentence_tokens[detail.first], detail.sentence_tokens[detail.last]
            body_terms = set(detail.token_keys[lo:hi].tolist())
            if any(_alike(body_terms, other, s.duplicate_jaccard) for other in kept_terms):
                continue
            span = choose_span(detail, terms, s.quotes)
            quote = _make_quote(detail, span, candidate.score, ranking.weights)
            if any(
                q.citation.article_id == candidate.article_id and _overlaps(q, quote)
                for q in quotes
            ):
                continue
            quotes.append(quote)
            kept_terms.append(body_terms)
            shown[candidate.article_id] = shown.get(candidate.article_id, 0) + 1
            if len(quotes) == s.max_quotes:
                break
        if quotes:
            return Answer(question, AnswerStatus.ANSWERED, self._fit_reply(quotes))
        return Answer(
            question,
            AnswerStatus.NO_MATCH,
            related=_related(index, ranking, s.related_titles),
        )

    def _fit_reply(self, quotes: list[Quote]) -> list[Quote]:
        """The first reply's quotes shortened, longest first, until the reply (quotes and
        citation lines) fits ``reply_chars``: cut after a sentence where one ends late
        enough, else at a word, never below ``_SHORTEST`` characters."""
        s = self.settings
        reply = quotes[: s.reply_quotes]
        while (excess := reply_length(reply) - s.reply_chars) > 0:
            longest = max(range(len(reply)), key=lambda i: len(reply[i].text))
            if len(reply[longest].text) <= _SHORTEST:
                break
            reply[longest] = _shorten(reply[longest], len(reply[longest].text) - excess)
        return reply + quotes[s.reply_quotes :]


def _article_hits(index: SearchIndex, query: Query, article_id: str, k: int) -> list[Hit]:
    """The first stage over one article's passages: the same BM25Okapi scores (the live
    archive's idf and average length), best first, ties to the earlier passage."""
    refs = index.article_passages(article_id)
    if not refs:
        return []
    passages = index.article_terms(article_id)
    params = index.params
    norms = length_norms(np.array([len(p) for p in passages]), params, index.generation.avgdl)
    scores = np.zeros(len(refs))
    for key, idf in zip(query.keys.tolist(), query.idf.tolist(), strict=True):
        if idf == 0.0:
            continue
        tf = np.array([np.count_nonzero(p == key) for p in passages], np.float64)
        scores += idf * (tf * (params.k1 + 1) / (tf + norms))
    order = [i for i in np.lexsort((np.arange(len(refs)), -scores)).tolist() if scores[i] > 0]
    return [Hit(refs[i], float(scores[i])) for i in order[:k]]


def _weigh(
    index: SearchIndex, query: Query, earlier: int, context_weight: float
) -> tuple[Query, dict[int, float]]:
    """The query with a followed-up question's terms (its last ``earlier``) scaled down, and
    each distinct term's coverage weight by term key.

    A term's coverage weight is its idf; a term absent from the archive counts with the
    average idf: it may be a word form the articles phrase differently ("founded" for
    "founder"), or a sign the question is about something else. The earlier question's
    terms together weigh at most ``context_weight`` of the new question's own (in the first
    stage, re-ranking and coverage alike), so the new words decide and the old ones only
    steer; a follow-up without words of its own ("And when?") is asked with the old ones.
    """
    weights = np.array(
        [
            max(idf if doc_freq else index.average_idf, 0.0)
            for doc_freq, idf in zip(query.doc_freq.tolist(), query.idf.tolist(), strict=True)
        ]
    )
    asked = len(weights) - earlier
    own, old = float(weights[:asked].sum()), float(weights[asked:].sum())
    if earlier and own > 0 and old > 0:
        scale = np.ones(len(weights))
        scale[asked:] = min(1.0, context_weight * own / old)
        weights = weights * scale
        query = replace(query, idf=query.idf * scale)
    return query, dict(zip(query.keys.tolist(), weights.tolist(), strict=True))


def _make_quote(
    detail: PassageDetail, span: QuoteSpan, score: float, weights: dict[int, float]
) -> Quote:
    passage = detail.passage
    article = passage.article
    start, end = span.start, span.end
    spans, keys = detail.token_spans.tolist(), detail.token_keys.tolist()
    paragraph_end = int(detail.sentences[-1][1])
    following = span.following
    if following is not None:
        spans += following.token_spans.tolist()
        keys += following.token_keys.tolist()
        paragraph_end = following.paragraph_end
    highlights = tuple(
        merge_spans(  # CJK bigrams overlap the characters they are made of
            (a - start, b - start)
            for (a, b), key in zip(spans, keys, strict=True)
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
        cut_after=end < paragraph_end,
    )


_SHORTEST = 80  # characters a quote keeps when the first reply must shrink
# A sentence ends at . ! ? … (Arabic ؟, Urdu ۔, the danda) before a space, or at 。！？ (no
# space follows in Chinese and Japanese), closing quotes and brackets included.
_SENTENCE_END = re.compile(r"[.!?…؟۔।][\"'”’)\]]*\s|[。！？][」』”’\"')）]*")


def _shorten(quote: Quote, keep: int) -> Quote:
    """``quote`` cut to at most ``keep`` characters (at least ``_SHORTEST``): after its last
    sentence ending past ``_SHORTEST``, else at a word."""
    keep = max(keep, _SHORTEST)
    ends = [m.end() for m in _SENTENCE_END.finditer(quote.text, 0, keep + 1)]
    if ends and ends[-1] >= _SHORTEST:
        cut = ends[-1]
    else:  # at a word; text without spaces (CJK, Thai) where it must
        space = quote.text.rfind(" ", 0, keep + 1)
        cut = space if space >= _SHORTEST else keep
    text = quote.text[:cut].rstrip()
    return Quote(
        text,
        tuple((a, b) for a, b in quote.highlights if b <= len(text)),
        quote.score,
        quote.citation,
        quote.start,
        quote.start + len(text),
        quote.cut_before,
        cut_after=True,
    )


def _alike(a: set[int], b: set[int], threshold: float) -> bool:
    """Jaccard similarity of ``a`` and ``b`` at least ``threshold`` (sizes checked first:
    the similarity is at most the smaller size over the larger)."""
    if not a or not b:
        return not a and not b
    if min(len(a), len(b)) < threshold * max(len(a), len(b)):
        return False
    return len(a & b) / len(a | b) >= threshold


def _overlaps(a: Quote, b: Quote) -> bool:
    return a.start < b.end and b.start < a.end


def _related(index: SearchIndex, ranking: Ranking, limit: int) -> list[Citation]:
    """Articles of the best partial matches: 'closest titles' for an unanswered question."""
    seen: dict[str, Citation] = {}
    for ref in [c.ref for c in ranking.candidates] + [ref for ref, _ in ranking.rest]:
        passage = index.passage(ref)
        seen.setdefault(passage.article.id, Citation.of(passage.article, passage.paragraph))
        if len(seen) == limit:
            break
    return list(seen.values())
