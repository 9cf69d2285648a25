"""BM25: bitwise agreement with rank-bm25, top-k selection, and index/passage alignment."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from bot.articles import Article, read_corpus
from bot.search.bm25 import BM25Params, BM25Scorer, build_postings
from bot.search.index import build_index
from bot.text.analysis import Analyzer
from bot.text.passages import PassageRules

ROOT = Path(__file__).resolve().parent.parent
PARAMS = [
    BM25Params(),
    BM25Params(k1=1.2, b=0.75, epsilon=0.25),
    BM25Params(k1=0.9, b=0.4, epsilon=0.1),
    BM25Params(k1=2.0, b=1.0, epsilon=0.5),
    BM25Params(k1=0.5, b=0.0, epsilon=0.0),
]


def scorer_for(corpus: list[list[str]], params: BM25Params) -> tuple[BM25Scorer, dict[str, int]]:
    """A scorer over ``corpus`` with term ids numbered in order of first appearance."""
    ids: dict[str, int] = {}
    term_ids, doc_ids = [], []
    for d, doc in enumerate(corpus):
        for term in doc:
            term_ids.append(ids.setdefault(term, len(ids)))
            doc_ids.append(d)
    doc_len = np.array([len(doc) for doc in corpus], dtype=np.int32)
    postings = build_postings(
        np.array(term_ids, dtype=np.int32),
        np.array(doc_ids, dtype=np.int32),
        len(ids),
        doc_len,
        params,
    )
    return BM25Scorer(postings, len(corpus)), ids


def reference_top(scores: np.ndarray, k: int) -> tuple[list[int], list[float]]:
    """rank-bm25's scores, positive only, best first, ties to the lower index."""
    ranked = sorted(
        (i for i in range(len(scores)) if scores[i] > 0), key=lambda i: (-scores[i], i)
    )[:k]
    return ranked, [float(scores[i]) for i in ranked]


@st.composite
def corpora(draw: st.DrawFn) -> tuple[list[list[str]], list[str]]:
    vocab_size = draw(st.integers(1, 30))
    vocab = [f"w{i}" for i in range(vocab_size)]
    word = st.sampled_from(vocab)
    n_docs = draw(st.integers(1, 25))
    corpus = draw(
        st.lists(st.lists(word, min_size=1, max_size=20), min_size=n_docs, max_size=n_docs)
    )
    if draw(st.booleans()):  # a term in every document: negative idf, floored by epsilon
        everywhere = draw(word)
        corpus = [doc + [everywhere] * draw(st.integers(1, 3)) for doc in corpus]
    if draw(st.booleans()):  # length-1 documents
        corpus += [[draw(word)] for _ in range(draw(st.integers(1, 3)))]
    # Repeats and terms absent from the corpus ("zz…") in the query.
    query = draw(
        st.lists(st.one_of(word, word, st.sampled_from(["zz0", "zz1"])), min_size=1, max_size=8)
    )
    return corpus, query


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora(), st.sampled_from(PARAMS), st.integers(1, 12))
def test_scores_and_top_are_rank_bm25_bitwise(corpus, params: BM25Params, k: int) -> None:
    corpus, query = corpus
    reference = BM25Okapi(corpus, k1=params.k1, b=params.b, epsilon=params.epsilon)
    expected = reference.get_scores(query)
    scorer, ids = scorer_for(corpus, params)
    query_ids = [ids[t] for t in query if t in ids]
    assert np.array_equal(scorer.scores(query_ids), expected)
    # idf agrees too (including the epsilon floor for negative values).
    for term, i in ids.items():
        assert scorer.postings.idf[i] == reference.idf[term]
    rows, scores = scorer.top(query_ids, k)
    want_rows, want_scores = reference_top(expected, k)
    assert rows.tolist() == want_rows
    assert scores.tolist() == want_scores
    # Scratch buffers are reset between questions: asking again gives the same answer.
    again_rows, again_scores = scorer.top(query_ids, k)
    assert again_rows.tolist() == want_rows and again_scores.tolist() == want_scores


@pytest.mark.parametrize("seed", range(6))
def test_seeded_random_corpora_with_every_parameter_set(seed: int) -> None:
    rng = np.random.default_rng(seed)
    vocab = [f"t{i}" for i in range(int(rng.integers(3, 200)))]
    # Zipf-like draws: a few very common terms (negative idf), a long tail.
    weights = 1 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    corpus = [
        list(rng.choice(vocab, size=int(rng.integers(1, 60)), p=weights))
        for _ in range(int(rng.integers(2, 400)))
    ]
    for params in PARAMS:
        reference = BM25Okapi(corpus, k1=params.k1, b=params.b, epsilon=params.epsilon)
        scorer, ids = scorer_for(corpus, params)
        for _ in range(10):
            query = list(rng.choice([*vocab, "absent"], size=int(rng.integers(1, 8))))
            query_ids = [ids[t] for t in query if t in ids]
            expected = reference.get_scores(query)
            assert np.array_equal(scorer.scores(query_ids), expected)
            for k in (1, 5, 100):
                rows, scores = scorer.top(query_ids, k)
                want_rows, want_scores = reference_top(expected, k)
                assert rows.tolist() == want_rows
                assert scores.tolist() == want_scores


def test_negative_idf_is_floored_at_epsilon_times_average_idf() -> None:
    corpus = [["a", "b"], ["a", "c"], ["a", "d"]]  # "a" everywhere: log(0.5) - log(3.5) < 0
    params = BM25Params(epsilon=0.25)
    scorer, ids = scorer_for(corpus, params)
    raw = {
        t: math.log(3 - df + 0.5) - math.log(df + 0.5)
        for t, df in {"a": 3, "b": 1, "c": 1, "d": 1}.items()
    }
    floor = 0.25 * sum(raw.values()) / 4
    assert raw["a"] < 0
    assert scorer.postings.idf[ids["a"]] == pytest.approx(floor)
    assert scorer.postings.idf[ids["b"]] == pytest.approx(raw["b"])


def test_ties_go_to_the_lower_index() -> None:
    corpus = [["x", "y"], ["cat", "y"], ["z", "q"], ["cat", "y"], ["cat", "y"]]
    scorer, ids = scorer_for(corpus, BM25Params())
    rows, scores = scorer.top([ids["cat"]], 2)
    assert rows.tolist() == [1, 3]
    assert scores[0] == scores[1] > 0


def test_query_of_absent_terms_scores_nothing() -> None:
    scorer, _ = scorer_for([["a", "b"], ["c"]], BM25Params())
    rows, scores = scorer.top([], 10)
    assert rows.tolist() == [] and scores.tolist() == []
    assert scorer.scores([]).tolist() == [0.0, 0.0]


def test_top_zero_returns_nothing() -> None:
    scorer, ids = scorer_for([["a", "b"], ["a", "c"], ["d"]], BM25Params())
    rows, _ = scorer.top([ids["b"], ids["c"]], 0)
    assert rows.tolist() == []


# --- a tiny corpus ranked by hand -----------------------------------------------------------

PASSAGES = [
    "Cats chase mice in the barn.",  # 0: cat x1
    "The dog sleeps all day.",  # 1: no cat
    "A cat and another cat met a third cat.",  # 2: cat x3
    "Dogs bark at cats and at the postman.",  # 3: cat x1, dog x1
    "Birds sing at dawn.",  # 4: nothing
]


@pytest.fixture(scope="module")
def tiny_index():
    # One paragraph per passage and no title, so passage i is PASSAGES[i].
    article = Article(id="tiny", title="", text="\n\n".join(PASSAGES))
    return build_index([article], Analyzer())


def test_tiny_corpus_passages_are_the_paragraphs(tiny_index) -> None:
    assert [tiny_index.passage(i).text for i in range(len(tiny_index))] == PASSAGES


def test_tiny_corpus_ranking_by_hand(tiny_index) -> None:
    analyzer = Analyzer()
    ranked = [row for row, _ in tiny_index.search(analyzer.terms("cats"), 10)]
    # Three passages contain "cat": three occurrences beat one; 0 and 3 have one each and the
    # same length (cat chase mice barn / dog bark cat postman): a tie, lower index first.
    assert ranked == [2, 0, 3]
    ranked = [row for row, _ in tiny_index.search(analyzer.terms("dog cat"), 10)]
    # Passage 3 has both terms; "dog" is in 2 of 5 passages, "cat" in 3 (idf < 0, floored).
    assert ranked[0] == 3
    assert set(ranked) == {0, 1, 2, 3}
    assert tiny_index.search(analyzer.terms("birds dawn"), 10)[0][0] == 4


def test_tiny_corpus_score_by_the_formula(tiny_index) -> None:
    # "bird" occurs once, in passage 4 (3 terms: bird sing dawn), N = 5 passages.
    # cat chase mice barn | dog sleep day | cat anoth cat met third cat | dog bark cat postman |
    # bird sing dawn  (stopwords: in, the, all, a, and, at)
    lengths = [4, 3, 6, 4, 3]
    assert tiny_index.passages.length.tolist() == lengths
    avgdl = sum(lengths) / 5
    idf = math.log(5 - 1 + 0.5) - math.log(1 + 0.5)
    k1, b = tiny_index.params.k1, tiny_index.params.b
    expected = idf * (1 * (k1 + 1) / (1 + k1 * (1 - b + b * 3 / avgdl)))
    ((row, score),) = tiny_index.search(["bird"], 10)
    assert row == 4
    assert score == pytest.approx(expected, rel=1e-12)


def test_tiny_corpus_nothing_scored(tiny_index) -> None:
    assert tiny_index.search(Analyzer().terms("giraffes zebras"), 10) == []
    assert tiny_index.search([], 10) == []


# --- the built index: rows aligned with passages and with rank-bm25 --------------------------


@pytest.fixture(scope="module")
def seed_and_more() -> list[Article]:
    seed = read_corpus(ROOT / "corpus").articles[0]
    other = Article(
        id="other",
        title="Elections in the U.S.: what’s next?",
        text="Voters went to the polls on Nov. 3. Turnout was high.\n\nResults\n\n"
        "Counting took days. Both parties claimed victory. Courts were asked to rule. "
        "The results were certified in December.",
    )
    empty = Article(id="empty", title="Only a heading", text="Just a heading")
    return [seed, other, empty]


def test_build_index_rows_align_with_passage_text(seed_and_more) -> None:
    analyzer = Analyzer()
    index = build_index(seed_and_more, analyzer, rules=PassageRules(max_sentences=2, max_words=40))
    assert [a.id for a in index.articles] == [seed_and_more[0].id, "other"]  # no passages: dropped
    assert len(index) == len(index.passages.start) > 0
    for i in range(len(index)):
        passage = index.passage(i)
        assert passage.text == passage.article.text[passage.start : passage.end]
        title_terms = analyzer.terms(passage.article.title)
        terms = index.passage_terms(i)
        assert terms[: len(title_terms)] == title_terms
        assert terms[len(title_terms) :] == analyzer.terms(passage.text)
        assert index.passages.length[i] == len(terms)
        paragraphs = passage.article.paragraphs
        assert passage.text in paragraphs[passage.paragraph - 1]


@pytest.mark.parametrize("params", PARAMS[:3])
def test_built_index_scores_are_rank_bm25_over_its_passages(seed_and_more, params) -> None:
    analyzer = Analyzer()
    index = build_index(seed_and_more, analyzer, params)
    corpus = [index.passage_terms(i) for i in range(len(index))]
    reference = BM25Okapi(corpus, k1=params.k1, b=params.b, epsilon=params.epsilon)
    for question in [
        "What did Pompeo accuse TikTok of?",
        "China internet China",
        "election results",
        "Who founded Ctrip?",
        "nothing matches zzyzx",
    ]:
        terms = analyzer.terms(question)
        expected = reference.get_scores(terms)
        assert np.array_equal(index.scorer.scores(index.query_ids(terms)), expected)
        rows, scores = reference_top(expected, 7)
        assert index.search(terms, 7) == list(zip(rows, scores, strict=True))


def test_changing_the_title_changes_every_passages_terms(seed_and_more) -> None:
    analyzer = Analyzer()
    article = seed_and_more[1]
    retitled = dataclasses.replace(article, title="Counting the votes")
    a, b = build_index([article], analyzer), build_index([retitled], analyzer)
    assert a.fingerprints != b.fingerprints
    assert all(b.passage_terms(i)[:2] == ["count", "vote"] for i in range(len(b)))
