"""The search index: articles, their passages, and BM25 postings, aligned by position.

``passage i`` is row ``i`` of every per-passage array and column ``i`` of the postings; every
citation comes from that row. Building keeps each passage's token ids (in order) so that a
rebuild re-analyses only the articles whose content changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.articles.model import Article, SkippedFile
from bot.search.bm25 import BM25Params, BM25Scorer, Postings, build_postings
from bot.text.analysis import Analyzer
from bot.text.passages import PassageRules, split_passages

Progress = Callable[[int, int], None]  # (articles done, articles total)

# Bump when analysis or passage splitting changes, so cached token ids are not reused.
ANALYSIS_VERSION = "1"


def fingerprint(article: Article) -> str:
    """What must be unchanged for an article's cached analysis to be reused."""
    digest = hashlib.sha1(ANALYSIS_VERSION.encode())
    digest.update(article.title.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(article.text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Passage:
    """One passage with its article, ready for quoting and citing."""

    index: int
    article: Article
    paragraph: int
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.article.text[self.start : self.end]


@dataclass(slots=True)
class PassageTable:
    """Per-passage columns, aligned with the postings' passage numbers."""

    article: np.ndarray  # int32 index into SearchIndex.articles
    paragraph: np.ndarray  # int32, 1-based
    start: np.ndarray  # int32 character offsets into the article text
    end: np.ndarray
    length: np.ndarray  # int32 number of terms (BM25's document length)
    token_offsets: np.ndarray  # int64, len = passages + 1, into ``tokens``
    tokens: np.ndarray  # int32 term ids of every passage, in order

    def __len__(self) -> int:
        return len(self.article)


@dataclass(slots=True)
class SearchIndex:
    """Everything a question is answered from; immutable once built (swapped whole)."""

    articles: list[Article]
    fingerprints: list[str]
    passages: PassageTable
    vocabulary: list[str]
    postings: Postings
    params: BM25Params
    rules: PassageRules
    built_at: float = field(default_factory=time.time)
    skipped: list[SkippedFile] = field(default_factory=list)
    term_ids: dict[str, int] = field(init=False)
    scorer: BM25Scorer = field(init=False)
    _article_rows: dict[str, int] = field(init=False)
    _average_idf: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.term_ids = {term: i for i, term in enumerate(self.vocabulary)}
        self.scorer = BM25Scorer(self.postings, len(self.passages))
        self._article_rows = {a.id: i for i, a in enumerate(self.articles)}

    def __len__(self) -> int:
        return len(self.passages)

    @property
    def article_count(self) -> int:
        return len(self.articles)

    def query_ids(self, terms: Sequence[str]) -> list[int]:
        """Term ids of the question's terms that occur in the corpus (others score 0)."""
        ids = self.term_ids
        return [ids[t] for t in terms if t in ids]

    def search(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """Top ``k`` passages for analysed question terms, as ``(passage, score)``."""
        rows, scores = self.scorer.top(self.query_ids(terms), k)
        return list(zip(rows.tolist(), scores.tolist(), strict=True))

    def passage(self, i: int) -> Passage:
        t = self.passages
        return Passage(
            i,
            self.articles[int(t.article[i])],
            int(t.paragraph[i]),
            int(t.start[i]),
            int(t.end[i]),
        )

    def passage_terms(self, i: int) -> list[str]:
        t = self.passages
        lo, hi = t.token_offsets[i], t.token_offsets[i + 1]
        return [self.vocabulary[j] for j in t.tokens[lo:hi].tolist()]

    def newest(self, n: int) -> list[Article]:
        """The ``n`` most recent articles; undated ones last."""
        return sorted(
            self.articles, key=lambda a: (a.date is not None, a.date or dt.date.min), reverse=True
        )[:n]

    def article(self, article_id: str) -> Article | None:
        row = self._article_rows.get(article_id)
        return None if row is None else self.articles[row]

    def article_rows(self, article_id: str) -> range:
        """Passage rows of an article (contiguous, in article order); empty if unknown."""
        row = self._article_rows.get(article_id)
        if row is None:
            return range(0)
        return range(*np.searchsorted(self.passages.article, [row, row + 1]).tolist())

    def article_scores(self, article_id: str, terms: Sequence[str]) -> np.ndarray:
        """BM25 scores of one article's passages only, from the postings (no full scan)."""
        rows = self.article_rows(article_id)
        scores = np.zeros(len(rows), np.float64)
        p = self.postings
        for t in self.query_ids(terms):
            lo, hi = int(p.indptr[t]), int(p.indptr[t + 1])
            docs = p.indices[lo:hi]
            a, b = np.searchsorted(docs, [rows.start, rows.stop]).tolist()
            scores[np.asarray(docs[a:b]) - rows.start] += p.weights[lo + a : lo + b]
        return scores

    def article_mentions(self, article_id: str, terms: Sequence[str]) -> bool:
        """Whether any of ``terms`` occurs in the article (title or text)."""
        wanted = set(terms)
        return any(
            not wanted.isdisjoint(self.passage_terms(r)) for r in self.article_rows(article_id)
        )

    @property
    def average_idf(self) -> float:
        if self._average_idf is None:
            self._average_idf = float(np.mean(self.postings.idf)) if len(self.vocabulary) else 0.0
        return self._average_idf

    def idf(self, term: str) -> float | None:
        i = self.term_ids.get(term)
        return None if i is None else float(self.postings.idf[i])


@dataclass(slots=True)
class _AnalysedArticle:
    spans: list[tuple[int, int, int]]  # (paragraph, start, end) per passage
    tokens: list[list[str]]  # terms per passage (title terms first)


def _analyse(article: Article, analyzer: Analyzer, rules: PassageRules) -> _AnalysedArticle:
    # The title counts for every passage of its article: it says what the passage is about.
    title_terms = analyzer.terms(article.title)
    spans, tokens = [], []
    for span in split_passages(article.text, rules):
        spans.append((span.paragraph, span.start, span.end))
        tokens.append(title_terms + analyzer.terms(article.text[span.start : span.end]))
    return _AnalysedArticle(spans, tokens)


def _cached(previous: SearchIndex | None) -> dict[str, tuple[SearchIndex, int]]:
    """Article fingerprint → (previous index, article row), for reuse of its analysis."""
    if previous is None:
        return {}
    return {fp: (previous, row) for row, fp in enumerate(previous.fingerprints)}


def _previous_analysis(index: SearchIndex, row: int) -> _AnalysedArticle:
    t = index.passages
    rows = index.article_rows(index.articles[row].id)
    spans = [(int(t.paragraph[i]), int(t.start[i]), int(t.end[i])) for i in rows]
    return _AnalysedArticle(spans, [index.passage_terms(i) for i in rows])


def build_index(
    articles: Sequence[Article],
    analyzer: Analyzer,
    params: BM25Params = BM25Params(),
    rules: PassageRules = PassageRules(),
    previous: SearchIndex | None = None,
    skipped: Sequence[SkippedFile] = (),
    progress: Progress | None = None,
) -> SearchIndex:
    """Analyse ``articles`` (reusing ``previous``'s analysis of unchanged ones) and index them.

    Articles without any passage are dropped: they could never be quoted.
    """
    reuse = _cached(previous) if previous is not None and previous.rules == rules else {}
    term_ids: dict[str, int] = {}
    kept: list[Article] = []
    prints: list[str] = []
    article_col, paragraph_col, start_col, end_col, lengths = [], [], [], [], []
    flat: list[int] = []
    for n, article in enumerate(articles, start=1):
        fp = fingerprint(article)
        hit = reuse.get(fp)
        analysed = (
            _previous_analysis(*hit) if hit is not None else _analyse(article, analyzer, rules)
        )
        if analysed.spans:
            row = len(kept)
            kept.append(article)
            prints.append(fp)
            for (paragraph, start, end), terms in zip(analysed.spans, analysed.tokens, strict=True):
                article_col.append(row)
                paragraph_col.append(paragraph)
                start_col.append(start)
                end_col.append(end)
                lengths.append(len(terms))
                # First-seen numbering, as rank-bm25's dicts: it fixes the idf average's order.
                flat.extend([term_ids.setdefault(t, len(term_ids)) for t in terms])
        if progress is not None:
            progress(n, len(articles))
    length = np.array(lengths, dtype=np.int32)
    offsets = np.zeros(len(length) + 1, dtype=np.int64)
    np.cumsum(length, out=offsets[1:])
    tokens = np.array(flat, dtype=np.int32)
    doc_ids = np.repeat(np.arange(len(length), dtype=np.int32), length)
    table = PassageTable(
        np.array(article_col, dtype=np.int32),
        np.array(paragraph_col, dtype=np.int32),
        np.array(start_col, dtype=np.int32),
        np.array(end_col, dtype=np.int32),
        length,
        offsets,
        tokens,
    )
    vocabulary = list(term_ids)  # insertion order is id order
    postings = build_postings(tokens, doc_ids, len(vocabulary), length, params)
    return SearchIndex(
        kept, prints, table, vocabulary, postings, params, rules, skipped=list(skipped)
    )
