"""Index benchmark: our sparse BM25 index against plain rank-bm25 on news passages.

    python benchmarks/bench_index.py [--sizes 10000,100000,1000000] [--queries 200]
                                     [--data ../shared/data]

Corpus: Reuters-21578 and BBC News records (read in place, never copied), one article per
record with an empty body skipped, shuffled with a fixed seed. A size of N passages takes
articles in that order until N passages are reached; beyond the distinct articles' passages
the list is repeated as copies whose title carries " #<copy>" (a new title term), so copies
are distinct articles with distinct passages. The distinct articles are analysed once
(Analyzer + split_passages, exactly as ``build_index`` does); copies reuse that analysis with
their own (really analysed) title terms.

Every measurement of a size runs in a fresh child process, one at a time:
  build  ``build_index`` on the articles with analysis served from the cache, so it covers
         fingerprints + vocabulary numbering + arrays + ``build_postings`` + SearchIndex;
         then ``save_index`` (peak RSS = the child's ru_maxrss, cache included)
  e2e    ``build_index`` with real analysis (sizes without copies only, <= --e2e-max)
  load   ``load_index`` in a fresh process, RSS, then ``SearchIndex.search(terms, 10)``
  rank   ``BM25Okapi(token_lists)``, ``get_scores`` + top-10, and agreement with our index
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bot.articles.model import Article, article_id  # noqa: E402
from bot.text.analysis import Analyzer  # noqa: E402
from bot.text.passages import PassageRules  # noqa: E402

SEED = 20240611
SOURCES = (("reuters-21578/corpus.jsonl", "Reuters"), ("bbc-news/corpus.jsonl", "BBC News"))
PAGE = os.sysconf("SC_PAGE_SIZE")
GOALS = {
    "p50_100k_ms": 1.0,
    "p50_1m_ms": 10.0,
    "load_100k_s": 0.5,
    "build_ratio": 2.0,
    "peak_1m_gb": 5.0,
}


# --- measurement helpers -------------------------------------------------------------------


def rss_mb() -> float:
    """Current resident set size of this process (from /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def peak_mb() -> float:
    """RSS high-water mark of this process so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> bool:
    """Reset this process's RSS high-water mark (VmHWM) so a phase's own peak can be read."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def hwm_mb() -> float:
    """VmHWM (RSS high-water mark since start or the last reset_peak) from /proc/self/status."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return peak_mb()


def percentiles(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values)
    return float(np.percentile(a, 50)), float(np.percentile(a, 95))


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --- corpus ----------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Paragraphs separated by a blank line; hard-wrapped lines joined. A blank line or an
    indented line (Reuters indents each paragraph's first line) starts a paragraph."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if (not line.strip() or line[0] in " \t") and current:
            paragraphs.append(" ".join(" ".join(current).split()))
            current = []
        if line.strip():
            current.append(line)
    if current:
        paragraphs.append(" ".join(" ".join(current).split()))
    return "\n\n".join(paragraphs)


def read_articles(data: Path) -> list[Article]:
    articles = []
    for rel, source in SOURCES:
        with (data / rel).open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                record = json.loads(line)
                text = normalise(record.get("text") or "")
                if not text:
                    continue
                key = str(record.get("_id") or lineno)
                topics = record.get("topics") or (
                    [record["category"]] if record.get("category") else []
                )
                articles.append(
                    Article(
                        id=article_id(f"{rel}#{key}"),
                        title=" ".join((record.get("title") or f"{rel} {key}").split()),
                        text=text,
                        source=source,
                        topics=tuple(topics),
                        path=f"{rel}#{key}",
                    )
                )
    random.Random(SEED).shuffle(articles)
    return articles


def copy_article(article: Article, copy: int) -> Article:
    if copy == 0:
        return article
    return Article(
        id=article_id(f"{article.path}~copy{copy}"),
        title=f"{article.title} #{copy}",
        text=article.text,
        source=article.source,
        date=article.date,
        topics=article.topics,
        path=f"{article.path}~copy{copy}",
    )


def make_cache(data: Path, cache: Path) -> dict:
    """Analyse the distinct articles once; pickle articles + per-article analysis."""
    from bot.search.index import _analyse

    t0 = time.perf_counter()
    articles = read_articles(data)
    t_read = time.perf_counter() - t0
    analyzer, rules = Analyzer(), PassageRules()
    t0 = time.perf_counter()
    analysed, title_counts = [], []
    for a in articles:
        analysed.append(_analyse(a, analyzer, rules))
        title_counts.append(len(analyzer.terms(a.title)))
    t_analyse = time.perf_counter() - t0
    with cache.open("wb") as f:
        pickle.dump((articles, analysed, title_counts), f, protocol=pickle.HIGHEST_PROTOCOL)
    passages = sum(len(x.spans) for x in analysed)
    return {
        "articles": len(articles),
        "passages": passages,
        "tokens": sum(len(t) for x in analysed for t in x.tokens),
        "read_s": t_read,
        "analyse_s": t_analyse,
        "analyse_us_per_passage": t_analyse / passages * 1e6,
    }


def select(cache: Path, size: int, analyzer: Analyzer | None):
    """Articles (with copies) reaching ``size`` passages, and their analysis in build order.

    ``analyzer`` is needed for copies: their suffixed title is really analysed.
    """
    from bot.search.index import _AnalysedArticle

    with cache.open("rb") as f:
        base, analysed, title_counts = pickle.load(f)
    articles, analyses, total, copy = [], [], 0, 0
    while total < size:
        for article, a, n_title in zip(base, analysed, title_counts, strict=True):
            if total >= size:
                break
            if not a.spans:
                continue
            art = copy_article(article, copy)
            if copy:
                title = analyzer.terms(art.title)
                a = _AnalysedArticle(a.spans, [title + t[n_title:] for t in a.tokens])
            articles.append(art)
            analyses.append(a)
            total += len(a.spans)
        copy += 1
    return articles, analyses, total, copy


def check_copies(articles, analyses, analyzer, n=20) -> None:
    """The reused analysis of copies must equal a real analysis of those articles."""
    from bot.search.index import _analyse

    rng = random.Random(SEED)
    copies = [i for i, a in enumerate(articles) if "~copy" in a.path]
    for i in rng.sample(copies, min(n, len(copies))):
        real = _analyse(articles[i], analyzer, PassageRules())
        assert real.spans == analyses[i].spans and real.tokens == analyses[i].tokens, i


# --- child processes -------------------------------------------------------------------------


def child_build(spec: dict) -> dict:
    import bot.search.index as index_mod
    from bot.search.storage import save_index

    analyzer = Analyzer()
    t0 = time.perf_counter()
    articles, analyses, n_passages, copies = select(Path(spec["cache"]), spec["size"], analyzer)
    prep_s = time.perf_counter() - t0
    if copies > 1:
        check_copies(articles, analyses, analyzer)
    by_id = {a.id: x for a, x in zip(articles, analyses, strict=True)}
    index_mod._analyse = lambda article, analyzer, rules: by_id[article.id]
    timing = {}
    real_postings = index_mod.build_postings

    def timed_postings(*args, **kwargs):
        t = time.perf_counter()
        out = real_postings(*args, **kwargs)
        timing["postings_s"] = time.perf_counter() - t
        return out

    index_mod.build_postings = timed_postings
    rss_before, peak_before = rss_mb(), peak_mb()
    was_reset = reset_peak()
    t0 = time.perf_counter()
    index = index_mod.build_index(articles, analyzer)
    build_s = time.perf_counter() - t0
    peak_build = hwm_mb() if was_reset else peak_mb()
    rss_after = rss_mb()
    assert len(index) == n_passages, (len(index), n_passages)
    t0 = time.perf_counter()
    version = save_index(index, Path(spec["out"]), manifest={})
    save_s = time.perf_counter() - t0
    return {
        "passages": n_passages,
        "articles": len(articles),
        "copies": copies,
        "vocabulary": len(index.vocabulary),
        "postings": len(index.postings.indices),
        "tokens": len(index.passages.tokens),
        "prep_s": prep_s,
        "build_s": build_s,
        "postings_s": timing["postings_s"],
        "rss_before_mb": rss_before,
        "peak_before_mb": peak_before,
        "peak_build_mb": peak_build,
        "rss_after_mb": rss_after,
        "peak_process_mb": peak_mb(),
        "save_s": save_s,
        "disk_bytes": dir_size(version),
    }


def child_e2e(spec: dict) -> dict:
    import bot.search.index as index_mod

    analyzer = Analyzer()
    articles, _, n_passages, copies = select(Path(spec["cache"]), spec["size"], None)
    assert copies == 1
    real_analyse, spent = index_mod._analyse, [0.0]

    def timed_analyse(*args):
        t = time.perf_counter()
        out = real_analyse(*args)
        spent[0] += time.perf_counter() - t
        return out

    index_mod._analyse = timed_analyse
    t0 = time.perf_counter()
    index = index_mod.build_index(articles, analyzer)
    total = time.perf_counter() - t0
    assert len(index) == n_passages
    return {"e2e_s": total, "analyse_s": spent[0]}


def child_load(spec: dict) -> dict:
    from bot.search.storage import load_index

    queries = json.loads(Path(spec["queries"]).read_text())
    rss0 = rss_mb()
    t0 = time.perf_counter()
    index = load_index(Path(spec["out"]))
    load_s = time.perf_counter() - t0
    rss_load = rss_mb()
    lat = []
    for terms in queries:
        t = time.perf_counter()
        index.search(terms, 10)
        lat.append(time.perf_counter() - t)
    # Second pass: mmap pages are now resident.
    warm = []
    for terms in queries:
        t = time.perf_counter()
        index.search(terms, 10)
        warm.append(time.perf_counter() - t)
    p50, p95 = percentiles(lat)
    w50, w95 = percentiles(warm)
    return {
        "load_s": load_s,
        "rss_start_mb": rss0,
        "rss_load_mb": rss_load,
        "rss_queries_mb": rss_mb(),
        "p50_ms": p50 * 1e3,
        "p95_ms": p95 * 1e3,
        "first_ms": lat[0] * 1e3,
        "warm_p50_ms": w50 * 1e3,
        "warm_p95_ms": w95 * 1e3,
        "max_ms": max(lat) * 1e3,
    }


def child_rank(spec: dict) -> dict:
    from rank_bm25 import BM25Okapi

    from bot.search.storage import load_index

    queries = json.loads(Path(spec["queries"]).read_text())[: spec["rank_queries"]]
    analyzer = Analyzer()
    _, analyses, n_passages, _ = select(Path(spec["cache"]), spec["size"], analyzer)
    corpus = [t for a in analyses for t in a.tokens]
    del analyses
    rss_before = rss_mb()
    was_reset = reset_peak()
    t0 = time.perf_counter()
    from bot.search.bm25 import BM25Params

    params = BM25Params()  # the index's settings, so that scores are comparable
    bm25 = BM25Okapi(corpus, k1=params.k1, b=params.b, epsilon=params.epsilon)
    build_s = time.perf_counter() - t0
    peak_build = hwm_mb() if was_reset else peak_mb()
    rss_after = rss_mb()
    del corpus
    lat, refs, all_scores = [], [], []
    for terms in queries:
        t = time.perf_counter()
        scores = bm25.get_scores(terms)
        top = np.argpartition(-scores, 10)[:10]
        top = top[np.argsort(-scores[top], kind="stable")]
        lat.append(time.perf_counter() - t)
        order = np.lexsort((np.arange(len(scores)), -scores))[:10]
        refs.append([int(i) for i in order if scores[i] > 0])
        all_scores.append(scores)
        if len(all_scores) * len(scores) > 5e7:  # keep at most ~400 MB of score vectors
            all_scores[-1] = None
    # Agreement with our index, loaded from disk as the bot does.
    index = load_index(Path(spec["out"]))
    same, max_diff, max_diff_top = 0, 0.0, 0.0
    mismatches = []
    for qi, (terms, ref) in enumerate(zip(queries, refs, strict=True)):
        ours = index.search(terms, 10)
        ids = [i for i, _ in ours]
        if ids == ref:
            same += 1
        else:
            mismatches.append({"query": terms, "ours": ids, "rank_bm25": ref})
        scores = all_scores[qi] if all_scores[qi] is not None else bm25.get_scores(terms)
        max_diff_top = max([max_diff_top] + [abs(s - scores[i]) for i, s in ours])
        dense = index.scorer.scores(index.query_ids(terms))
        max_diff = max(max_diff, float(np.max(np.abs(dense - scores))))
    p50, p95 = percentiles(lat)
    return {
        "passages": n_passages,
        "build_s": build_s,
        "rss_before_mb": rss_before,
        "peak_build_mb": peak_build,
        "rss_after_mb": rss_after,
        "queries": len(queries),
        "p50_ms": p50 * 1e3,
        "p95_ms": p95 * 1e3,
        "identical": same,
        "max_abs_diff": max_diff,
        "max_abs_diff_top": max_diff_top,
        "mismatches": mismatches[:3],
    }


CHILDREN = {"build": child_build, "e2e": child_e2e, "load": child_load, "rank": child_rank}


def run_child(kind: str, spec: dict, work: Path, max_rss_gb: float) -> dict | None:
    """Run one measurement in a fresh interpreter; kill it if its RSS passes ``max_rss_gb``."""
    spec_path = work / f"{kind}-{spec['size']}.json"
    result_path = work / f"{kind}-{spec['size']}.result.json"
    spec_path.write_text(json.dumps({**spec, "result": str(result_path)}))
    proc = subprocess.Popen([sys.executable, __file__, "--child", kind, str(spec_path)])
    limit_pages = max_rss_gb * 2**30 / PAGE
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/statm") as f:
                if int(f.read().split()[1]) > limit_pages:
                    proc.kill()
                    proc.wait()
                    print(f"  ! {kind} at {spec['size']} killed: RSS > {max_rss_gb} GB", flush=True)
                    return None
        except FileNotFoundError:
            pass
        time.sleep(0.2)
    if proc.returncode != 0:
        print(f"  ! {kind} at {spec['size']} failed (exit {proc.returncode})", flush=True)
        return None
    return json.loads(result_path.read_text())


# --- queries ---------------------------------------------------------------------------------


def make_queries(cache: Path, n: int) -> list[dict]:
    """Half lower-cased titles, half 3-8 consecutive words of a random passage; analysed."""
    with cache.open("rb") as f:
        articles, analysed, _ = pickle.load(f)
    analyzer, rng, out = Analyzer(), random.Random(SEED), []
    while len(out) < n:
        i = rng.randrange(len(articles))
        if not analysed[i].spans:
            continue
        if len(out) % 2 == 0:
            text, kind = articles[i].title.lower(), "title"
        else:
            _, start, end = rng.choice(analysed[i].spans)
            words = articles[i].text[start:end].split()
            k = rng.randint(3, 8)
            j = rng.randrange(max(1, len(words) - k + 1))
            text, kind = " ".join(words[j : j + k]), "snippet"
        terms = analyzer.terms(text)
        if terms:
            out.append({"kind": kind, "text": text, "terms": terms})
    return out


# --- report ----------------------------------------------------------------------------------


def fmt(value, spec: str, missing: str = "n/a") -> str:
    return missing if value is None else format(value, spec)


def ok(flag: bool | None) -> str:
    return "n/a" if flag is None else ("MET" if flag else "NOT MET")


def report(rows: list[dict], info: dict, args) -> None:
    print()
    print(
        f"Corpus: {info['articles']:,} distinct articles (Reuters-21578 + BBC News, body "
        f"non-empty) = {info['passages']:,} passages, {info['tokens']:,} tokens; analysis "
        f"(split_passages + Analyzer) {info['analyse_s']:.1f} s = "
        f"{info['analyse_us_per_passage']:.0f} us/passage, shared by both indexes."
    )
    print(
        f"Queries: {args.queries} (half lower-cased titles, half 3-8 word passage snippets), "
        f"seed {SEED}, same for every size."
    )
    print()
    print("Our index (bot.search)")
    head = (
        f"{'passages':>9} {'articles':>8} {'copies':>6} {'analysis':>9} {'e2e build':>9} "
        f"{'build':>7} {'postings':>8} {'peak RSS':>9} {'base RSS':>8} {'proc peak':>9} "
        f"{'disk':>8} "
        f"{'load':>7} {'RSS load':>8} {'RSS q':>7} {'p50':>8} {'p95':>8} {'warm p50':>8}"
    )
    print(head)
    print(
        f"{'':>9} {'':>8} {'':>6} {'s':>9} {'s':>9} {'s':>7} {'s':>8} {'MB':>9} {'MB':>8} "
        f"{'MB':>9} "
        f"{'MB':>8} {'s':>7} {'MB':>8} {'MB':>7} {'ms':>8} {'ms':>8} {'ms':>8}"
    )
    for r in rows:
        b, lo, e = r["build"] or {}, r["load"] or {}, r["e2e"] or {}
        analysis = e.get("analyse_s")
        analysis_s = (
            fmt(analysis, ".1f")
            if analysis is not None
            else (f"~{r['passages'] * info['analyse_us_per_passage'] / 1e6:.0f}*")
        )
        print(
            f"{r['passages']:>9,} {fmt(b.get('articles'), ',d'):>8} {fmt(b.get('copies'), 'd'):>6} "
            f"{analysis_s:>9} {fmt(e.get('e2e_s'), '.1f', '-'):>9} "
            f"{fmt(b.get('build_s'), '.2f'):>7} {fmt(b.get('postings_s'), '.2f'):>8} "
            f"{fmt(b.get('peak_build_mb'), ',.0f'):>9} {fmt(b.get('rss_before_mb'), ',.0f'):>8} "
            f"{fmt(b.get('peak_process_mb'), ',.0f'):>9} "
            f"{fmt(b.get('disk_bytes', 0) / 2**20 if b else None, ',.0f'):>8} "
            f"{fmt(lo.get('load_s'), '.3f'):>7} {fmt(lo.get('rss_load_mb'), ',.0f'):>8} "
            f"{fmt(lo.get('rss_queries_mb'), ',.0f'):>7} {fmt(lo.get('p50_ms'), '.3f'):>8} "
            f"{fmt(lo.get('p95_ms'), '.3f'):>8} {fmt(lo.get('warm_p50_ms'), '.3f'):>8}"
        )
    print()
    print("rank-bm25 (BM25Okapi) on the same token lists, and agreement with our index")
    print(
        f"{'passages':>9} {'build':>7} {'ours/rb':>7} {'peak RSS':>9} {'base RSS':>8} "
        f"{'queries':>7} {'p50':>9} {'p95':>9} {'speed-up':>8} {'top-10 identical':>16} "
        f"{'max|diff| all':>13} {'max|diff| top':>13}"
    )
    print(
        f"{'':>9} {'s':>7} {'':>7} {'MB':>9} {'MB':>8} {'':>7} {'ms':>9} {'ms':>9} "
        f"{'p50':>8} {'':>16} {'':>13} {'':>13}"
    )
    for r in rows:
        k, b, lo = r["rank"], r["build"] or {}, r["load"] or {}
        if not k:
            print(f"{r['passages']:>9,}  rank-bm25 not run: {r.get('rank_note', 'failed')}")
            continue
        ratio = b["build_s"] / k["build_s"] if b else None
        speed = k["p50_ms"] / lo["p50_ms"] if lo else None
        print(
            f"{r['passages']:>9,} {k['build_s']:>7.2f} {fmt(ratio, '.2f'):>7} "
            f"{k['peak_build_mb']:>9,.0f} {k['rss_before_mb']:>8,.0f} {k['queries']:>7} "
            f"{k['p50_ms']:>9.1f} {k['p95_ms']:>9.1f} {fmt(speed, ',.0f'):>7}x "
            f"{k['identical']:>7}/{k['queries']:<3} {100 * k['identical'] / k['queries']:>4.0f}% "
            f"{k['max_abs_diff']:>13.3g} {k['max_abs_diff_top']:>13.3g}"
        )
    print()
    print("What each column covers:")
    print("  analysis   split_passages + Analyzer for this size's passages, timed inside an")
    print("             end-to-end build_index; * = estimate from the distinct-article rate (sizes")
    print("             with copies are not analysed for real). Not included in 'build' below.")
    print("  e2e build  build_index(articles) with real analysis, fresh process ('-' = not run).")
    print("  build      build_index(articles) with analysis served from the cache: fingerprints,")
    print("             first-seen vocabulary numbering, passage arrays, build_postings,")
    print(
        "             SearchIndex (term dict). Compare with rank-bm25 'build' = BM25Okapi(tokens)."
    )
    print("  postings   the build_postings part of 'build'.")
    print("  peak RSS   RSS high-water mark of the build (VmHWM reset just before build_index /")
    print("             BM25Okapi, read after it), so it includes 'base RSS' = resident before the")
    print("             build: interpreter + analysis cache + this size's token lists. 'proc peak'")
    print("             = ru_maxrss of the whole fresh build process (cache loading included).")
    print("  disk       saved index directory (save_index). load = load_index in a fresh process")
    print(
        "             (OS page cache warm); RSS load / RSS q = resident after load / after queries."
    )
    print(
        "  p50/p95    SearchIndex.search(terms, 10) over all queries right after load (mmap pages"
    )
    print("             faulted in on first use); warm p50 = second pass over the same queries.")
    print("  rank-bm25  p50/p95 = get_scores + top-10 (argpartition); fewer queries at large sizes")
    print("             (see 'queries'). Identical = our top-10 ids == rank-bm25's positive-score")
    print("             top-10 ordered by (-score, index); max|diff| all = over every passage's")
    print("             score (our dense scores vs get_scores), top = over our top-10.")
    print()
    print("Goals:")
    by = {r["passages"]: r for r in rows}

    def nearest(target):
        sizes = [s for s in by if 0.8 * target <= s <= 1.2 * target]
        return by[min(sizes, key=lambda s: abs(s - target))] if sizes else None

    r100, r1m = nearest(100_000), nearest(1_000_000)

    def val(r, part, key):
        return (r.get(part) or {}).get(key) if r else None

    p = val(r100, "load", "p50_ms")
    print(
        f"  p50 <= 1 ms at 100k:            {fmt(p, '.3f')} ms"
        f"   {ok(None if p is None else p <= 1)}"
    )
    p = val(r1m, "load", "p50_ms")
    print(
        f"  p50 <= 10 ms at 1M:             {fmt(p, '.3f')} ms"
        f"   {ok(None if p is None else p <= 10)}"
    )
    ident = [(r["passages"], r["rank"]) for r in rows if r["rank"]]
    all_same = all(k["identical"] == k["queries"] for _, k in ident) if ident else None
    detail = ", ".join(f"{n:,}: {k['identical']}/{k['queries']}" for n, k in ident)
    print(f"  top-10 identical to rank-bm25:  {detail}   {ok(all_same)}")
    p = val(r100, "load", "load_s")
    print(
        f"  cold load <= 0.5 s at 100k:     {fmt(p, '.3f')} s"
        f"   {ok(None if p is None else p <= 0.5)}"
    )
    ratios = [
        (r["passages"], r["build"]["build_s"] / r["rank"]["build_s"])
        for r in rows
        if r["build"] and r["rank"]
    ]
    detail = ", ".join(f"{n:,}: {x:.2f}x" for n, x in ratios)
    print(
        f"  build <= 2x rank-bm25 build:    {detail}   "
        f"{ok(all(x <= 2 for _, x in ratios) if ratios else None)}"
    )
    p = val(r1m, "build", "peak_process_mb")
    print(
        f"  peak memory at 1M <= 5 GB:      {fmt(p and p / 1024, '.2f')} GB (whole build process)  "
        f"{ok(None if p is None else p <= 5 * 1024)}"
    )
    for r in rows:
        if r.get("rank_note"):
            print(f"  note: {r['passages']:,}: {r['rank_note']}")


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument(
        "--e2e-max",
        type=int,
        default=100_000,
        help="largest size also built with real analysis (default 100000)",
    )
    parser.add_argument(
        "--rank-max",
        type=int,
        default=1_000_000,
        help="largest size rank-bm25 is run at (default 1000000)",
    )
    parser.add_argument(
        "--max-rss-gb",
        type=float,
        default=12.0,
        help="kill a child (and skip rank-bm25 if projected) above this RSS",
    )
    parser.add_argument("--keep", type=Path, help="keep work files (cache, indexes) here")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, spec_path = args.child
        spec = json.loads(Path(spec_path).read_text())
        result = CHILDREN[kind](spec)
        Path(spec["result"]).write_text(json.dumps(result))
        return

    sizes = [int(s) for s in args.sizes.split(",") if s]
    work = Path(tempfile.mkdtemp(prefix="bench_index_")) if not args.keep else args.keep
    work.mkdir(parents=True, exist_ok=True)
    try:
        cache = work / "analysed.pickle"
        print(f"analysing the distinct articles once (cache {cache}) ...", flush=True)
        info = make_cache(args.data, cache)
        print(
            f"  {info['articles']:,} articles, {info['passages']:,} passages, "
            f"{info['analyse_s']:.1f} s",
            flush=True,
        )
        queries = make_queries(cache, args.queries)
        queries_path = work / "queries.json"
        queries_path.write_text(json.dumps([q["terms"] for q in queries]))
        rows, rank_mb_per_passage = [], None
        for size in sizes:
            out = work / f"index-{size}"
            spec = {
                "size": size,
                "cache": str(cache),
                "out": str(out),
                "queries": str(queries_path),
            }
            row = {
                "size": size,
                "passages": size,
                "build": None,
                "e2e": None,
                "load": None,
                "rank": None,
            }
            print(f"[{size:,}] build ...", flush=True)
            row["build"] = run_child("build", spec, work, args.max_rss_gb)
            if row["build"]:
                row["passages"] = row["build"]["passages"]
                print(f"  {json.dumps(row['build'])}", flush=True)
            if size <= args.e2e_max and size <= info["passages"]:
                print(f"[{size:,}] end-to-end build_index ...", flush=True)
                row["e2e"] = run_child("e2e", spec, work, args.max_rss_gb)
                print(f"  {json.dumps(row['e2e'])}", flush=True)
            if row["build"]:
                print(f"[{size:,}] load + queries ...", flush=True)
                row["load"] = run_child("load", spec, work, args.max_rss_gb)
                print(f"  {json.dumps(row['load'])}", flush=True)
            projected = rank_mb_per_passage * size if rank_mb_per_passage else 0
            rank_queries = min(args.queries, max(20, int(2e7 // size)))
            if size > args.rank_max:
                row["rank_note"] = f"rank-bm25 capped at {args.rank_max:,} passages (--rank-max)"
            elif projected > args.max_rss_gb * 1024:
                row["rank_note"] = (
                    f"rank-bm25 skipped: projected RSS {projected / 1024:.1f} GB "
                    f"> {args.max_rss_gb} GB"
                )
            elif row["build"]:
                print(f"[{size:,}] rank-bm25 ({rank_queries} queries) ...", flush=True)
                row["rank"] = run_child(
                    "rank", {**spec, "rank_queries": rank_queries}, work, args.max_rss_gb
                )
                if row["rank"]:
                    k = row["rank"]
                    rank_mb_per_passage = k["peak_build_mb"] / k["passages"]
                    print(f"  {json.dumps(k)[:2000]}", flush=True)
                    if rank_queries < args.queries:
                        row["rank_note"] = (
                            f"rank-bm25 timed and compared on the first "
                            f"{rank_queries} of {args.queries} queries (~1 s each)"
                        )
                else:
                    row["rank_note"] = f"rank-bm25 failed or passed {args.max_rss_gb} GB RSS"
            shutil.rmtree(out, ignore_errors=True)
            rows.append(row)
        report(rows, info, args)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
