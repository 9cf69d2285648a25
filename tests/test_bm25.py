"""BM25 at query time: agreement with rank-bm25, both kernels alike, passage alignment."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from bot.articles import Article, read_corpus
from bot.errors import IndexDamaged
from bot.search import bm25
from bot.search.bm25 import BM25Params
from bot.search.builder import AnalysedArticle, SegmentBuilder
from bot.search.generation import LiveSegment, own_doc_freq, write_generation
from bot.search.index import SearchIndex
from bot.search.lifecycle import build_index
from bot.search.segment import Segment, write_segment
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
KERNELS = ["numpy", "numba"]


@pytest.fixture(params=KERNELS)
def kernel(request):
    """Run the test with each kernel; they must give identical results."""
    if request.param == "numba":
        if not bm25.warm_up():
            pytest.skip("numba is not installed")
    else:
        bm25.use_numpy()
    yield request.param
    bm25.use_numpy()


def token_article(n: int, tokens: list[str]) -> AnalysedArticle:
    """An analysed one-passage article whose passage is exactly ``tokens`` (no title)."""
    ids: dict[str, int] = {}
    local = [ids.setdefault(t, len(ids)) for t in tokens]
    return AnalysedArticle(
        article=Article(id=f"d{n}", title="", text="x"),
        terms=list(ids),
        title_terms=np.zeros(0, np.int32),
        sentences=np.array([[1, 0, 1]], np.int32),
        sentence_tokens=np.array([0, len(tokens)], np.int64),
        token_terms=np.array(local, np.int32),
        token_spans=np.zeros((len(tokens), 2), np.int32),
        passages=np.array([[0, 1]], np.int32),
    )


def token_index(corpus: list[list[str]], params: BM25Params, segments: int = 1) -> SearchIndex:
    """An index over pre-tokenised passages, split into ``segments`` consecutive segments."""
    with tempfile.TemporaryDirectory(prefix="bm25-test-") as name:  # the maps keep the data
        return _token_index(Path(name), corpus, params, segments)


def _token_index(
    folder: Path, corpus: list[list[str]], params: BM25Params, segments: int
) -> SearchIndex:
    bounds = np.linspace(0, len(corpus), segments + 1).astype(int)
    live = []
    for s in range(segments):
        builder = SegmentBuilder(params)
        for n in range(bounds[s], bounds[s + 1]):
            builder.add(token_article(n, corpus[n]))
        if len(builder):
            arrays, basis = builder.build()
            write_segment(arrays, folder / f"seg-{s}", basis)
            segment = Segment(folder / f"seg-{s}")
            deleted = np.zeros(segment.arrays.passages, bool)
            live.append(LiveSegment(segment, deleted, own_doc_freq(segment)))
    generation = write_generation(folder, 1, live, {}, {x.segment.name for x in live}, time.time())
    return SearchIndex.open(folder, generation, params)


def reference_top(scores: np.ndarray, k: int) -> list[int]:
    """rank-bm25's ranking: positive scores only, best first, ties to the earlier passage."""
    ranked = sorted((i for i in range(len(scores)) if scores[i] > 0), key=lambda i: (-scores[i], i))
    return ranked[:k]


def check_against_rank_bm25(index: SearchIndex, corpus, query, params, k) -> None:
    refs = list(index.passages())
    assert [index.passage_terms(r) for r in refs] == corpus  # rows aligned with passages
    reference = BM25Okapi(corpus, k1=params.k1, b=params.b, epsilon=params.epsilon)
    expected = reference.get_scores(query)
    hits = index.search(query, k)
    position = {ref: n for n, ref in enumerate(refs)}
    assert [position[h.ref] for h in hits] == reference_top(expected, k)
    for ref, score in hits:
        want = expected[position[ref]]
        assert score == pytest.approx(want, rel=1e-12, abs=0)
    # idf of every term agrees too (the epsilon floor included).
    for term in {t for doc in corpus for t in doc}:
        assert index.idf(term) == pytest.approx(reference.idf[term], rel=1e-12)


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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora(), st.sampled_from(PARAMS), st.integers(1, 12), st.integers(1, 3))
def test_scores_and_top_are_rank_bm25s(data, params: BM25Params, k: int, segments: int) -> None:
    corpus, query = data
    index = token_index(corpus, params, min(segments, len(corpus)))
    for name in KERNELS:
        if name == "numba" and not bm25.warm_up():
            continue
        if name == "numpy":
            bm25.use_numpy()
        check_against_rank_bm25(index, corpus, query, params, k)
    bm25.use_numpy()


@pytest.mark.parametrize("seed", range(4))
def test_seeded_zipf_corpora_with_every_parameter_set(seed: int, kernel: str) -> None:
    rng = np.random.default_rng(seed)
    vocab = [f"t{i}" for i in range(int(rng.integers(3, 200)))]
    # Zipf-like draws: a few very common terms (negative idf), a long tail.
    weights = 1 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    corpus = [
        [str(t) for t in rng.choice(vocab, size=int(rng.integers(1, 60)), p=weights)]
        for _ in range(int(rng.integers(2, 400)))
    ]
    for params in PARAMS:
        index = token_index(corpus, params, segments=int(rng.integers(1, 4)))
        for _ in range(6):
            size = int(rng.integers(1, 16))  # above 12 terms: term-at-a-time, else MaxScore
            query = [str(t) for t in rng.choice([*vocab, "absent"], size=size)]
            for k in (1, 5, 100):
                check_against_rank_bm25(index, corpus, query, params, k)


def test_negative_idf_is_floored_at_epsilon_times_average_idf() -> None:
    corpus = [["a", "b"], ["a", "c"], ["a", "d"]]  # "a" everywhere: log(0.5) - log(3.5) < 0
    index = token_index(corpus, BM25Params(epsilon=0.25))
    raw = {
        t: math.log(3 - df + 0.5) - math.log(df + 0.5)
        for t, df in {"a": 3, "b": 1, "c": 1, "d": 1}.items()
    }
    assert raw["a"] < 0
    assert index.idf("a") == pytest.approx(0.25 * sum(raw.values()) / 4)
    assert index.idf("b") == pytest.approx(raw["b"])
    assert index.idf("zebra") is None


def test_ties_go_to_the_earlier_passage_across_segments(kernel: str) -> None:
    corpus = [["x", "y"], ["cat", "y"], ["z", "q"], ["cat", "y"], ["cat", "y"]]
    index = token_index(corpus, BM25Params(), segments=2)
    refs = list(index.passages())
    hits = index.search(["cat"], 2)
    assert [refs.index(h.ref) for h in hits] == [1, 3]
    assert hits[0].score == hits[1].score > 0


def test_nothing_to_score(kernel: str) -> None:
    index = token_index([["a", "b"], ["c"]], BM25Params())
    assert index.search([], 10) == []
    assert index.search(["zz"], 10) == []
    assert index.search(["a"], 0) == []


@pytest.mark.parametrize(
    "settings", [{"b": 1.5}, {"b": -0.1}, {"k1": -1.0}, {"epsilon": -0.5}, {"b": math.nan}]
)
def test_settings_outside_bm25s_ranges_are_refused(settings: dict) -> None:
    with pytest.raises(ValueError, match="BM25 needs"):
        BM25Params(**settings)


def test_deleted_passages_never_score(kernel: str) -> None:
    index = token_index([["cat"], ["cat", "dog"], ["dog"], ["eel"], ["fox"]], BM25Params())
    live = index.segments[0]
    deleted = np.array([False, True, False, False, False])
    gone = SearchIndex(
        index.generation, [LiveSegment(live.segment, deleted, live.live_df)], index.terms,
        index.doc_freq, index.params,
    )  # fmt: skip
    assert [h.ref.doc for h in gone.search(["cat", "dog"], 10)] == [0, 2]


# --- a tiny corpus ranked by hand -----------------------------------------------------------

PASSAGES = [
    "Cats chase mice in the barn.",  # 0: cat x1
    "The dog sleeps all day.",  # 1: no cat
    "A cat and another cat met a third cat.",  # 2: cat x3
    "Dogs bark at cats and at the postman.",  # 3: cat x1, dog x1
    "Birds sing at dawn.",  # 4: nothing
]


@pytest.fixture(scope="module")
def tiny_index() -> SearchIndex:
    # One paragraph per passage and no title, so passage i is PASSAGES[i].
    article = Article(id="tiny", title="", text="\n\n".join(PASSAGES))
    return build_index([article], Analyzer())


def docs(index: SearchIndex, question: str) -> list[int]:
    return [h.ref.doc for h in index.search(Analyzer().terms(question), 10)]


def test_tiny_corpus_passages_are_the_paragraphs(tiny_index) -> None:
    assert [tiny_index.passage(r).text for r in tiny_index.passages()] == PASSAGES


def test_tiny_corpus_ranking_by_hand(tiny_index) -> None:
    # Three passages contain "cat": three occurrences beat one; 0 and 3 have one each and the
    # same length (cat chase mice barn / dog bark cat postman): a tie, lower index first.
    assert docs(tiny_index, "cats") == [2, 0, 3]
    # Passage 3 has both terms; "dog" is in 2 of 5 passages, "cat" in 3 (idf < 0, floored).
    ranked = docs(tiny_index, "dog cat")
    assert ranked[0] == 3 and set(ranked) == {0, 1, 2, 3}
    assert docs(tiny_index, "birds dawn")[0] == 4


def test_tiny_corpus_score_by_the_formula(tiny_index) -> None:
    # cat chase mice barn | dog sleep day | cat anoth cat met third cat | dog bark cat postman |
    # bird sing dawn  (stopwords: in, the, all, a, and, at)
    lengths = [len(tiny_index.passage_terms(r)) for r in tiny_index.passages()]
    assert lengths == [4, 3, 6, 4, 3]
    avgdl = sum(lengths) / 5
    idf = math.log(5 - 1 + 0.5) - math.log(1 + 0.5)
    k1, b = tiny_index.params.k1, tiny_index.params.b
    expected = idf * (1 * (k1 + 1) / (1 + k1 * (1 - b + b * 3 / avgdl)))
    ((ref, score),) = tiny_index.search(["bird"], 10)
    assert ref.doc == 4
    assert score == pytest.approx(expected, rel=1e-12)


def test_tiny_corpus_nothing_scored(tiny_index) -> None:
    assert tiny_index.search(Analyzer().terms("giraffes zebras"), 10) == []


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
    return [seed, other]


def test_passages_align_with_their_text_and_terms(seed_and_more) -> None:
    analyzer = Analyzer()
    index = build_index(seed_and_more, analyzer, rules=PassageRules(max_sentences=2, max_words=40))
    assert [a.id for a in index.articles()] == [seed_and_more[0].id, "other"]
    refs = list(index.passages())
    assert len(refs) == len(index) > 0
    for ref in refs:
        passage = index.passage(ref)
        assert passage.text == passage.article.text[passage.start : passage.end]
        title_terms = analyzer.terms(passage.article.title)
        terms = index.passage_terms(ref)
        assert terms[: len(title_terms)] == title_terms
        assert terms[len(title_terms) :] == analyzer.terms(passage.text)
        assert passage.text in passage.article.paragraphs[passage.paragraph - 1]
        detail = index.detail(ref)  # what quoting reads: spans and term keys of the tokens
        for (a, b), key in zip(detail.token_spans, detail.token_keys, strict=True):
            word = passage.article.text[a:b]
            assert [key] == list(index.query(analyzer.terms(word)).keys)


@pytest.mark.parametrize("params", PARAMS[:3])
def test_built_index_scores_are_rank_bm25_over_its_passages(seed_and_more, params) -> None:
    analyzer = Analyzer()
    index = build_index(seed_and_more, analyzer, params)
    corpus = [index.passage_terms(r) for r in index.passages()]
    for question in [
        "What did Pompeo accuse TikTok of?",
        "China internet China",
        "election results",
        "Who founded Ctrip?",
        "nothing matches zzyzx",
    ]:
        check_against_rank_bm25(index, corpus, analyzer.terms(question), params, 7)


def test_changing_the_title_changes_every_passages_terms(seed_and_more) -> None:
    analyzer = Analyzer()
    retitled = dataclasses.replace(seed_and_more[1], title="Counting the votes")
    index = build_index([retitled], analyzer)
    assert all(index.passage_terms(r)[:2] == ["count", "vote"] for r in index.passages())


def zipf_vocabulary(size: int) -> tuple[list[str], np.ndarray]:
    """Words t0, t1, ... and Zipf probabilities (exponent 1.1): long lists of common words."""
    weights = 1 / np.arange(1, size + 1) ** 1.1
    return [f"t{i}" for i in range(size)], weights / weights.sum()


def with_deletions(index: SearchIndex, rng: np.random.Generator, share: float) -> SearchIndex:
    """The index with about ``share`` of each segment's passages deleted."""
    live = [LiveSegment(s.segment, rng.random(len(s.deleted)) < share, s.live_df)
            for s in index.segments]  # fmt: skip
    return SearchIndex(index.generation, live, index.terms, index.doc_freq, index.params)


def assert_kernels_agree(index: SearchIndex, query: list[str], k: int) -> None:
    bm25.use_numpy()
    expected = index.search(query, k)
    bm25.warm_up()
    assert index.search(query, k) == expected, query


def test_kernels_agree_bit_for_bit_where_pruning_pays() -> None:
    """Big Zipf segments (long lists of common words, with deletions): the numba kernel's
    pruned walk gives the numpy kernel's exhaustive result exactly."""
    if not bm25.warm_up():
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(7)
    vocab, weights = zipf_vocabulary(400)
    corpus = [
        [str(t) for t in rng.choice(vocab, size=int(rng.integers(5, 80)), p=weights)]
        for _ in range(3000)
    ]
    index = with_deletions(token_index(corpus, BM25Params()), rng, 0.05)
    for _ in range(150):
        query = [str(t) for t in rng.choice(vocab, size=int(rng.integers(1, 9)), p=weights)]
        query += [str(rng.choice(vocab[200:]))]  # one rare term: the walk starts there
        assert_kernels_agree(index, query, int(rng.choice([1, 3, 10, 50])))
    bm25.use_numpy()


@pytest.mark.parametrize("length", [300, 20], ids=["ranked", "walked"])
def test_the_opening_bar_allows_for_deleted_passages(length: int) -> None:
    """A question starts with a bar, a list's k-th best part: stored at fixed ranks for a long
    list, found in a short one. Here deleted passages hold the list's best parts: a bar that
    counted them would prune the live top 10 away."""
    if not bm25.warm_up():
        pytest.skip("numba is not installed")
    # Passage n holds "word" 1 + n % 7 times, in passages of one length: seven distinct parts.
    corpus = [["word"] * (1 + n % 7) + ["pad"] * (7 - n % 7) for n in range(length)]
    corpus += [["other", f"f{n}"] for n in range(3 * length)]  # so that "word" has idf > 0
    index = token_index(corpus, BM25Params())
    term = index.query(["word"]).local_ids[0][0]
    assert (index.segments[0].segment.arrays.term_window[term] >= 0) == (length >= 32)
    live = index.segments[0]
    deleted = np.zeros(len(corpus), bool)
    deleted[[n for n in range(length) if n % 7 >= 5]] = True  # the two best parts' passages
    gone = SearchIndex(
        index.generation, [LiveSegment(live.segment, deleted, live.live_df)], index.terms,
        index.doc_freq, index.params,
    )  # fmt: skip
    for k in (1, 3, 10):
        assert_kernels_agree(gone, ["word"], k)
        assert_kernels_agree(gone, ["word", "other"], k)
        assert gone.search(["word"], k)[0].ref.doc % 7 == 4  # the best part still live
    bm25.use_numpy()


@pytest.mark.parametrize("segments", [1, 3])
def test_kernels_agree_across_windows_and_lists_that_end_early(segments: int) -> None:
    """Past the numba kernel's 4,096-passage windows: words confined to the start or the end
    of the archive (lists that run out while others go on, windows only some lists reach),
    deletions, and one archive split into segments of different average lengths."""
    if not bm25.warm_up():
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(11)
    vocab, weights = zipf_vocabulary(300)
    corpus = []
    for d in range(10_000):
        tokens = [str(t) for t in rng.choice(vocab, size=int(rng.integers(3, 30)), p=weights)]
        if d < 2500 and rng.random() < 0.4:
            tokens += ["early"] * int(rng.integers(1, 4))
        if d > 7000 and rng.random() < 0.05:
            tokens.append("late")
        corpus.append(tokens)
    index = with_deletions(token_index(corpus, BM25Params(), segments), rng, 0.03)
    for _ in range(80):
        query = [str(t) for t in rng.choice(vocab, size=int(rng.integers(1, 6)), p=weights)]
        query += [w for w in ("early", "late", str(rng.choice(vocab[150:]))) if rng.random() < 0.6]
        assert_kernels_agree(index, query, int(rng.choice([1, 10, 40])))
    bm25.use_numpy()


@pytest.mark.skipif(bool(os.environ.get("NUMBA_BOUNDSCHECK")), reason="already bounds-checked")
def test_the_numba_kernel_stays_inside_its_arrays(tmp_path: Path) -> None:
    """The window test again, with numba's bounds checks compiled in (a fresh cache): an index
    off by one would otherwise read a neighbour's memory and perhaps still give the answer."""
    pytest.importorskip("numba")
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(tmp_path)}
    tests = [
        f"{__file__}::test_kernels_agree_across_windows_and_lists_that_end_early",
        f"{__file__}::test_a_wrong_window_table_gives_wrong_passages_not_a_crash",
    ]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", *tests],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


def _file_pages_resident_kb() -> int:
    """This process's resident file-backed memory (``RssFile``), in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1])
    pytest.skip("no RssFile in /proc/self/status")


def test_preload_maps_in_the_postings_questions_read() -> None:
    rng = np.random.default_rng(5)
    vocab = [f"w{i}" for i in range(2000)]
    corpus = [[str(t) for t in rng.choice(vocab, size=60)] for _ in range(20_000)]
    index = token_index(corpus, BM25Params())
    a = index.segments[0].segment.arrays
    postings_kb = (a.post_doc.nbytes + a.post_tf.nbytes + a.post_part.nbytes) // 1024
    before = _file_pages_resident_kb()
    index.preload()
    assert _file_pages_resident_kb() - before >= 0.8 * postings_kb
    assert index.search(["w1", "w2"], 3)


@pytest.mark.parametrize("layout", ["uniform", "clustered", "tiny"])
def test_term_ids_and_idf_are_found_alike_by_both_kernels(layout: str) -> None:
    """The numba look-up guesses a key's place from its value (keys are uniform hashes) and
    gallops from there: on tables that are not uniform at all it must still find every key
    the numpy search finds, and nothing else; idf comes out with the same bits."""
    if not bm25.warm_up():
        pytest.skip("numba is not installed")
    from bot.search import _kernel_numba

    rng = np.random.default_rng(7)
    size = {"uniform": 50_000, "clustered": 5_000, "tiny": 1}[layout]
    if layout == "clustered":  # every key in a sliver at the top or bottom of the range
        low = rng.integers(0, 2**20, size).astype(np.uint64)
        table = np.r_[low, np.uint64(2**64 - 1) - low]
    else:
        table = rng.integers(0, 2**63, size) * 2 + rng.integers(0, 2, size)
    table = np.unique(table.astype(np.uint64))
    live_df = rng.integers(0, 1000, len(table)).astype(np.int64)
    keys = np.r_[
        table[rng.integers(0, len(table), 2000)], table[:1], table[-1:],
        table[:3] - np.uint64(1), table[-3:] + np.uint64(1),
        rng.integers(0, 2**63, 2000).astype(np.uint64), np.array([0, 2**64 - 1], np.uint64),
    ].astype(np.uint64)  # fmt: skip
    doc_freq = np.ones(len(keys), np.int64)  # resolve adds to it
    ids = np.zeros(len(keys), np.int64)
    _kernel_numba.resolve(table, live_df, keys, ids, doc_freq)
    want = bm25.local_ids(table, keys)
    assert ids.tolist() == want.tolist()
    assert doc_freq.tolist() == (1 + np.where(want >= 0, live_df[want], 0)).tolist()
    empty = np.ones(5, np.int64)
    _kernel_numba.resolve(np.zeros(0, np.uint64), np.zeros(0, np.int64), keys[:5], ids, empty)
    assert ids[:5].tolist() == [-1] * 5 and empty.tolist() == [1] * 5

    params = BM25Params()
    frequencies = np.r_[0, 1, 2, 3, rng.integers(1, 10**6, 3000), 499_999, 500_000, 10**6]
    frequencies = frequencies.astype(np.int64)
    got = np.full(len(frequencies), np.nan)
    _kernel_numba.idf_values(frequencies, 10**6, 1.7, params.epsilon, got)
    expected = [bm25.floored_idf(df, 10**6, 1.7, params) if df else 0.0 for df in frequencies]
    assert got.tolist() == expected  # bit for bit, the floored ones included
    bm25.use_numpy()


def test_a_question_looked_up_in_another_index_is_found_again() -> None:
    """A ``Query`` carries its terms' ids in the segments of the index that looked it up;
    another index (a later generation) numbers its terms differently, so it finds them again
    (and scores with the statistics the query carries)."""
    old = token_index([["a", "b"], ["b", "c"], ["d"], ["e"], ["f"]], BM25Params())
    new = token_index([["z", "y", "c"], ["c", "a"], ["b", "x"], ["w"], ["v"]], BM25Params())
    query = old.query(["a", "c"])
    assert query.idf.min() > 0
    expected = new.search(dataclasses.replace(new.query(["a", "c"]), idf=query.idf), 3)
    assert [h.ref.doc for h in expected] == [1, 0]
    assert new.search(query, 3) == expected


def test_a_huge_k_is_answered_by_both_kernels() -> None:
    corpus = [[f"w{i}", "a" if i % 3 == 0 else "b"] for i in range(9)]
    index = token_index(corpus, BM25Params())
    question = ["w1", "w2", "w4", "a"]  # passages 0, 1, 2, 3, 4, 6
    bm25.use_numpy()
    expected = index.search(question, 10**12)
    assert sorted(h.ref.doc for h in expected) == [0, 1, 2, 3, 4, 6]
    if bm25.warm_up():
        assert index.search(question, 10**12) == expected
    bm25.use_numpy()


def test_the_window_table_says_where_each_long_list_is_in_every_window() -> None:
    """Checked against the postings themselves, posting by posting, on a segment of three
    windows with lists long and short (only lists of at least 32 postings get a row), and
    each row's parts at the stored ranks."""
    n_docs = 2 * bm25.WINDOW + 100
    corpus = [
        ["common", f"w{n % 50}", *(["rare"] if n % 997 == 0 else [])]
        + (["tail"] if n >= 2 * bm25.WINDOW else [])
        for n in range(n_docs)
    ]
    index = token_index(corpus, BM25Params())
    a = index.segments[0].segment.arrays
    windows = 3
    assert a.window_post.shape[1] == windows + 1 and a.window_max.shape[1] == windows
    rows = 0
    for t in range(a.terms):
        lo, hi = int(a.term_docs[t]), int(a.term_docs[t + 1])
        r = int(a.term_window[t])
        if hi - lo < 32:
            assert r == -1
            continue
        assert r == rows
        rows += 1
        docs, parts = a.post_doc[lo:hi], a.post_part[lo:hi]
        descending = np.sort(parts)[::-1]
        assert a.rank_part[r].tolist() == [
            descending[n - 1] if n <= len(parts) else 0.0 for n in bm25.RANKS
        ]
        for w in range(windows):
            inside = (docs >= w * bm25.WINDOW) & (docs < (w + 1) * bm25.WINDOW)
            where = np.flatnonzero(inside)
            if len(where):
                assert (int(a.window_post[r, w]), int(a.window_post[r, w + 1])) == (
                    where[0],
                    where[-1] + 1,
                )
                assert a.window_max[r, w] == parts[inside].max()
            else:
                assert a.window_post[r, w] == a.window_post[r, w + 1]
                assert a.window_max[r, w] == 0
    assert rows == len(a.window_post) >= 52  # common, w0..w49, tail
    tail = index.query(["tail"]).local_ids[0][0]
    assert a.window_post[a.term_window[tail]].tolist() == [0, 0, 0, 100]


def _damaged_window_table(folder: Path, damage) -> Path:
    """A segment of three windows whose window table ``damage(window_post)`` changed."""
    builder = SegmentBuilder(BM25Params())
    for n in range(3 * bm25.WINDOW):
        builder.add(token_article(n, [f"w{n % 2}", *(["x"] if n % 7 == 0 else [])]))
    arrays, basis = builder.build()
    damage(arrays.window_post)
    write_segment(arrays, folder / "seg", basis)
    return folder / "seg"


@pytest.mark.parametrize(
    "damage",
    [
        lambda table: table[:, -1].__iadd__(1),  # past its list's end
        lambda table: table[:, 1].__setitem__(slice(None), table[:, -1] + 1),  # decreasing
    ],
    ids=["end", "order"],
)
def test_a_window_table_that_does_not_fit_its_postings_is_damage(tmp_path: Path, damage) -> None:
    """The numba kernel reads postings where the table points: a table that points past its
    list, or goes backwards, stops the segment at opening."""
    with pytest.raises(IndexDamaged, match="window table"):
        Segment(_damaged_window_table(tmp_path, damage))


def test_a_wrong_window_table_gives_wrong_passages_not_a_crash(tmp_path: Path) -> None:
    """A table damaged within its bounds (in order, ends right) passes the opening checks of a
    segment too big to checksum: the kernel may then misplace postings, but every write stays
    in its buffer (the bounds-checked run below runs this test too)."""
    if not bm25.warm_up():
        pytest.skip("numba is not installed")
    path = _damaged_window_table(
        tmp_path, lambda table: table[:, 1].__setitem__(slice(None), table[:, 2])
    )
    segment = Segment(path)
    live = [LiveSegment(segment, np.zeros(segment.arrays.passages, bool), own_doc_freq(segment))]
    generation = write_generation(tmp_path, 1, live, {}, {segment.name}, time.time())
    index = SearchIndex.open(tmp_path, generation, BM25Params())
    for k in (1, 3, 10, 100):
        hits = index.search(["x", "w0"], k)  # idf > 0 both: the numba kernel's questions
        assert len(hits) <= k
        assert all(0 <= h.ref.doc < segment.arrays.passages for h in hits)
    bm25.use_numpy()


def test_remembered_terms_make_the_same_query() -> None:
    """Topic matching memoises terms (``remember``): a query built from the memo is the one
    built afresh, segment ids included, across segments."""
    corpus = [["a", "b"], ["b", "c"], ["c", "d"], ["e"], ["f"], ["a", "f"]]
    index = token_index(corpus, BM25Params(), segments=2)
    terms = ["a", "c", "zz", "a"]
    fresh = index.query(terms)
    first = index.query(terms, remember=True)
    assert set(index._terms_seen) == {"a", "c", "zz"}
    again = index.query(terms, remember=True)  # every term from the memo
    for query in (first, again):
        assert query.keys.tolist() == fresh.keys.tolist()
        assert query.doc_freq.tolist() == fresh.doc_freq.tolist()
        assert query.idf.tolist() == fresh.idf.tolist()
        assert [i.tolist() for i in query.local_ids] == [i.tolist() for i in fresh.local_ids]
        assert index.search(query, 4) == index.search(fresh, 4)
