"""From articles to segment arrays: analysis (in worker processes for big batches) and building.

Analysing an article (sentences, passages, every index term with its text span) is most of the
cost of indexing, so it is done once and kept whole in the segment. :class:`ArticleAnalyser`
takes an optional cache (any mutable mapping from :func:`analysis_key` to the result): the
benchmarks use it to index the same texts at several sizes without analysing them again, the
indexer leaves it out.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, replace
from itertools import chain, islice

import numpy as np

from bot.articles.model import Article
from bot.search.bm25 import BM25Params, window_table
from bot.search.segment import SegmentArrays, article_meta, term_hashes
from bot.text.analysis import Analyzer
from bot.text.detection import SAMPLE_CHARS, detect_language
from bot.text.passages import PassageRules, layout

log = logging.getLogger(__name__)

# Bump when analysis or passage splitting changes: stored segments are then rebuilt, not misread.
# 3: per-language analysis and sentences, detected languages; 4: words of languages without a
# stemmer cut to three letters, not four; 5: Telugu question words are stopwords; 6: those
# three letters without the marks after the third; 7: Telugu abbreviations and initials.
ANALYSIS_VERSION = "7"
POOL_MIN_ARTICLES = 400  # fewer are analysed in-process: starting workers costs ~0.5 s
_CHUNK = 64  # articles per worker task


@dataclass(slots=True)
class AnalysedArticle:
    """One article as the index keeps it; term ids are local to the article (``terms``)."""

    article: Article
    terms: list[str]  # distinct index terms, first-seen order
    title_terms: np.ndarray  # int32 into terms: the title, in order
    sentences: np.ndarray  # int32 [S, 3]: paragraph, start, end
    sentence_tokens: np.ndarray  # int64 [S+1]: token range of each sentence
    token_terms: np.ndarray  # int32 into terms
    token_spans: np.ndarray  # int32 [X, 2]: start, end in the article text
    passages: np.ndarray  # int32 [D, 2]: first sentence, one past the last


def analysis_key(article: Article, rules: PassageRules) -> str:
    """What an analysis depends on: the analysis version, passage rules, title, text, language."""
    digest = hashlib.sha1(f"{ANALYSIS_VERSION}\0{asdict(rules)}\0".encode())
    for part in (article.title, article.language, article.text):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def analyse_article(article: Article, analyzer: Analyzer, rules: PassageRules) -> AnalysedArticle:
    """An article's sentences, passages and terms, in its language. An article whose metadata
    names no language gets the one detected from its title and text (~0.3 ms): done here, once
    per new or changed article, and kept with the article in the segment."""
    if not article.language:
        detected = detect_language(f"{article.title}\n{article.text[:SAMPLE_CHARS]}")
        if detected:
            article = replace(article, language=detected)
    language = article.language
    ids: dict[str, int] = {}
    title = [ids.setdefault(t, len(ids)) for t in analyzer.terms(article.title, language)]
    plan = layout(article.text, rules, language)
    text = article.text
    token_terms: list[int] = []
    spans: list[tuple[int, int]] = []
    sentence_tokens = [0]
    for sentence in plan.sentences:
        for token in analyzer.tokens(text[sentence.start : sentence.end], language):
            token_terms.append(ids.setdefault(token.term, len(ids)))
            spans.append((sentence.start + token.start, sentence.start + token.end))
        sentence_tokens.append(len(token_terms))
    return AnalysedArticle(
        article=article,
        terms=list(ids),
        title_terms=np.array(title, np.int32),
        sentences=np.array(
            [(s.paragraph, s.start, s.end) for s in plan.sentences], np.int32
        ).reshape(-1, 3),
        sentence_tokens=np.array(sentence_tokens, np.int64),
        token_terms=np.array(token_terms, np.int32),
        token_spans=np.array(spans, np.int32).reshape(-1, 2),
        passages=np.array(plan.passages, np.int32).reshape(-1, 2),
    )


# Worker processes: each builds its analyzer once (its stemming memo then stays warm).
_worker: tuple[Analyzer, PassageRules] | None = None


def _init_worker(analyzer: Analyzer, rules: PassageRules) -> None:
    global _worker
    _worker = (analyzer, rules)


def _analyse_chunk(articles: list[Article]) -> list[AnalysedArticle]:
    assert _worker is not None
    return [analyse_article(a, *_worker) for a in articles]


class ArticleAnalyser:
    """Analyses a stream of articles in order, on every core for big batches."""

    def __init__(
        self,
        analyzer: Analyzer,
        rules: PassageRules,
        cache: MutableMapping[str, AnalysedArticle] | None = None,
        workers: int | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.rules = rules
        self.cache = cache
        self.workers = workers if workers is not None else (os.cpu_count() or 1)

    def analyse(self, articles: Iterable[Article]) -> Iterator[AnalysedArticle]:
        """Analysed articles in input order. The input is consumed lazily and at most a few
        chunks are in flight, so memory stays bounded whatever the stream's length."""
        stream = iter(articles)
        head = list(islice(stream, POOL_MIN_ARTICLES))
        if len(head) < POOL_MIN_ARTICLES or self.workers < 2:
            for chunk in _chunks(chain(head, stream), _CHUNK):
                yield from self._complete(chunk, self._cached(chunk), [])
            return
        # A process pool that reports its dead: a worker killed mid-build (the OOM killer,
        # say) or unable to start breaks the pool, and the rest is analysed here instead of
        # waiting forever for a result that will never come (multiprocessing.Pool's way).
        pool = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),  # fork is unsafe beside threads
            initializer=_init_worker,
            initargs=(self.analyzer, self.rules),
        )
        try:
            in_flight: deque[tuple[list[Article], list, Future | None]] = deque()
            for chunk in _chunks(chain(head, stream), _CHUNK):
                cached = self._cached(chunk)
                missing = [a for a, hit in zip(chunk, cached, strict=True) if hit is None]
                in_flight.append((chunk, cached, self._submit(pool, missing)))
                if len(in_flight) >= 4 * self.workers:
                    yield from self._collect(*in_flight.popleft())
            while in_flight:
                yield from self._collect(*in_flight.popleft())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, pool: ProcessPoolExecutor, missing: list[Article]) -> Future | None:
        """The chunk's misses sent to the pool; None once the pool is broken."""
        try:
            return pool.submit(_analyse_chunk, missing)
        except BrokenProcessPool:
            return None

    def _collect(
        self, chunk: list[Article], cached: list, future: Future | None
    ) -> Iterator[AnalysedArticle]:
        try:
            fresh = future.result() if future is not None else []
        except BrokenProcessPool as error:
            log.warning("analysis worker lost (%s): analysing the rest in this process", error)
            fresh = []
        yield from self._complete(chunk, cached, fresh)

    def _cached(self, chunk: list[Article]) -> list[AnalysedArticle | None]:
        if self.cache is None:
            return [None] * len(chunk)
        return [self.cache.get(analysis_key(a, self.rules)) for a in chunk]

    def _complete(
        self,
        chunk: list[Article],
        cached: list[AnalysedArticle | None],
        fresh: list[AnalysedArticle],
    ) -> Iterator[AnalysedArticle]:
        """The chunk's analyses in order: cache hits, then ``fresh`` ones (computed here when
        not given) for the misses; a hit may be of a copy, so the article is always the input's
        (with the language its analysis detected)."""
        fresh_results = iter(fresh)
        for article, hit in zip(chunk, cached, strict=True):
            if hit is None:
                hit = next(fresh_results, None) or analyse_article(
                    article, self.analyzer, self.rules
                )
                if self.cache is not None:
                    self.cache[analysis_key(article, self.rules)] = hit
            if hit.article is not article:
                hit = replace(hit, article=replace(article, language=hit.article.language))
            yield hit


def _chunks(items: Iterable[Article], size: int) -> Iterator[list[Article]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, e)`` for every pair, without a Python loop."""
    lengths = (np.asarray(ends) - np.asarray(starts)).astype(np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(np.asarray(starts, np.int64) - offsets, lengths) + np.arange(total)


def _offsets(lengths: Sequence[int] | np.ndarray) -> np.ndarray:
    out = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=out[1:])
    return out


@dataclass(slots=True)
class ArticleColumns:
    """A segment's article, sentence, token and passage arrays (see ``SegmentArrays``), with
    term ids pointing into a term table given beside them; ``finish_segment`` derives the rest."""

    art_key: np.ndarray
    art_meta: np.ndarray
    meta_blob: np.ndarray
    art_text: np.ndarray
    text_blob: np.ndarray
    art_date: np.ndarray
    art_docs: np.ndarray
    art_sentences: np.ndarray
    art_title: np.ndarray
    title_terms: np.ndarray
    sent_para: np.ndarray
    sent_start: np.ndarray
    sent_end: np.ndarray
    sent_tokens: np.ndarray
    tok_term: np.ndarray
    tok_start: np.ndarray
    tok_end: np.ndarray
    doc_art: np.ndarray
    doc_first: np.ndarray
    doc_last: np.ndarray


def finish_segment(
    columns: ArticleColumns, keys: np.ndarray, strings: list[str], params: BM25Params
) -> tuple[SegmentArrays, dict[str, float]]:
    """The full segment: ``keys`` (ascending, unique) and ``strings`` are the term table that
    ``columns``' term ids point into; terms no token uses are dropped, postings are built.

    Also returns what the per-term weight bounds were computed with (``params`` and the
    segment's own average length); see ``SegmentArrays.term_bound`` and ``post_part``."""
    c = columns
    used = np.zeros(len(keys), bool)
    used[c.tok_term] = True
    used[c.title_terms] = True
    if not used.all():  # a merge leaves the terms of deleted articles behind
        remap = np.cumsum(used) - 1
        c.tok_term = remap[c.tok_term].astype(np.int32)
        c.title_terms = remap[c.title_terms].astype(np.int32)
        keys = keys[used]
        strings = [t for t, u in zip(strings, used.tolist(), strict=True) if u]
    n_docs, n_terms = len(c.doc_art), len(keys)

    # Every (term, passage) occurrence, counted by sorting one int64 key: term-major order.
    body_lo, body_hi = c.sent_tokens[c.doc_first], c.sent_tokens[c.doc_last]
    title_lo, title_hi = c.art_title[c.doc_art], c.art_title[c.doc_art + 1]
    doc_len = ((body_hi - body_lo) + (title_hi - title_lo)).astype(np.int32)
    stride = max(n_docs, 1)
    docs = np.arange(n_docs, dtype=np.int64)
    occurrences = np.concatenate(
        (
            c.title_terms[_ranges(title_lo, title_hi)].astype(np.int64) * stride
            + np.repeat(docs, title_hi - title_lo),
            c.tok_term[_ranges(body_lo, body_hi)].astype(np.int64) * stride
            + np.repeat(docs, body_hi - body_lo),
        )
    )
    occurrences.sort()
    first = np.flatnonzero(np.r_[True, occurrences[1:] != occurrences[:-1]])
    first = first if len(occurrences) else np.zeros(0, np.int64)
    unique = occurrences[first]
    post_tf = np.diff(np.append(first, len(occurrences))).astype(np.int32)
    post_term = unique // stride
    post_doc = (unique - post_term * stride).astype(np.int32)
    term_docs = np.searchsorted(post_term, np.arange(n_terms + 1)).astype(np.int64)
    avgdl = float(doc_len.sum()) / n_docs if n_docs else 1.0
    k1, b = params.k1, params.b
    if len(post_doc):
        tf = post_tf.astype(np.float64)
        length = doc_len[post_doc].astype(np.float64)
        part = tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avgdl))
        term_bound = np.maximum.reduceat(part, term_docs[:-1])
    else:
        part = term_bound = np.zeros(0, np.float64)
    part32 = part.astype(np.float32)
    term_window, window_post, window_max, rank_part = window_table(
        term_docs, post_doc, part32, n_docs
    )
    encoded = [t.encode("utf-8", "surrogatepass") for t in strings]
    return SegmentArrays(
        **{name: getattr(c, name) for name in ArticleColumns.__slots__},
        art_by_key=np.argsort(c.art_key, kind="stable").astype(np.int32),
        doc_len=doc_len,
        term_hash=np.asarray(keys, np.uint64),
        term_text=_offsets([len(t) for t in encoded]),
        terms_blob=np.frombuffer(b"".join(encoded), np.uint8),
        term_docs=term_docs,
        post_doc=post_doc,
        post_tf=post_tf,
        post_part=part32,
        term_bound=term_bound,
        term_window=term_window,
        window_post=window_post,
        window_max=window_max,
        rank_part=rank_part,
    ), {"bound_k1": k1, "bound_b": b, "bound_avgdl": avgdl}


def _languages(articles: Iterable[Article]) -> dict[str, int]:
    """How many articles of each language (code, "" unknown) a segment holds."""
    counts: dict[str, int] = {}
    for article in articles:
        counts[article.language] = counts.get(article.language, 0) + 1
    return counts


def _joined(parts: list[np.ndarray], dtype: type, width: int = 0) -> np.ndarray:
    if parts:
        return np.concatenate(parts).astype(dtype, copy=False)
    return np.zeros((0, width) if width else 0, dtype)


class SegmentBuilder:
    """Collects analysed articles and turns them into one segment's arrays."""

    def __init__(self, params: BM25Params = BM25Params()) -> None:
        self.params = params
        self._vocabulary: dict[str, int] = {}  # term → id in first-seen order (until build)
        self._articles: list[AnalysedArticle] = []
        self._local_to_segment: list[np.ndarray] = []
        self.passages = 0

    def __len__(self) -> int:
        return len(self._articles)

    @property
    def articles(self) -> list[Article]:
        return [a.article for a in self._articles]

    def add(self, analysed: AnalysedArticle) -> None:
        if not len(analysed.passages):
            raise ValueError(f"article {analysed.article.id} has no passage")
        vocabulary = self._vocabulary
        self._local_to_segment.append(
            np.array([vocabulary.setdefault(t, len(vocabulary)) for t in analysed.terms], np.int32)
        )
        self._articles.append(analysed)
        self.passages += len(analysed.passages)

    def build(self) -> tuple[SegmentArrays, dict[str, float]]:
        articles = self._articles
        terms = list(self._vocabulary)
        hashes = term_hashes(terms)
        order = np.argsort(hashes, kind="stable")
        if len(hashes) > 1 and np.any(hashes[order][1:] == hashes[order][:-1]):
            raise ValueError("two terms share a 64-bit key")  # odds ~1e-8 per million terms
        rank = np.empty(len(terms), np.int32)
        rank[order] = np.arange(len(terms), dtype=np.int32)
        to_segment = [rank[m] for m in self._local_to_segment]
        sentence_base = _offsets([len(a.sentences) for a in articles])
        token_base = _offsets([len(a.token_terms) for a in articles])
        sentences = _joined([a.sentences for a in articles], np.int32, 3)
        spans = _joined([a.token_spans for a in articles], np.int32, 2)
        passages = _joined(
            [a.passages + sentence_base[n] for n, a in enumerate(articles)], np.int32, 2
        )
        art_docs = _offsets([len(a.passages) for a in articles])
        metas = [article_meta(a.article) for a in articles]
        texts = [a.article.text.encode("utf-8", "surrogatepass") for a in articles]
        columns = ArticleColumns(
            art_key=term_hashes([a.article.id for a in articles]),
            art_meta=_offsets([len(m) for m in metas]),
            meta_blob=np.frombuffer(b"".join(metas), np.uint8),
            art_text=_offsets([len(t) for t in texts]),
            text_blob=np.frombuffer(b"".join(texts), np.uint8),
            art_date=np.array(
                [a.article.date.toordinal() if a.article.date else 0 for a in articles], np.int32
            ),
            art_docs=art_docs,
            art_sentences=sentence_base,
            art_title=_offsets([len(a.title_terms) for a in articles]),
            title_terms=_joined(
                [to_segment[n][a.title_terms] for n, a in enumerate(articles)], np.int32
            ),
            sent_para=sentences[:, 0].copy(),
            sent_start=sentences[:, 1].copy(),
            sent_end=sentences[:, 2].copy(),
            sent_tokens=np.concatenate(
                [a.sentence_tokens[:-1] + token_base[n] for n, a in enumerate(articles)]
                + [token_base[-1:]]
            ).astype(np.int64),
            tok_term=_joined(
                [to_segment[n][a.token_terms] for n, a in enumerate(articles)], np.int32
            ),
            tok_start=spans[:, 0].copy(),
            tok_end=spans[:, 1].copy(),
            doc_art=np.repeat(np.arange(len(articles), dtype=np.int32), np.diff(art_docs)),
            doc_first=passages[:, 0].copy(),
            doc_last=passages[:, 1].copy(),
        )
        arrays, info = finish_segment(
            columns, hashes[order], [terms[i] for i in order.tolist()], self.params
        )
        return arrays, {**info, "languages": _languages(a.article for a in articles)}
