"""Cutting a quote from a ranked passage: the sentences that answer, not the ones that repeat
the question.

A paragraph of at most 3 sentences and ``whole`` (300) characters is quoted whole: cutting it
saves the reader little and loses what surrounds the answer. In a longer paragraph every
sentence is scored against the question, from the term keys the index stored for it (nothing
is re-split or re-analysed)::

    sentence = BM25(sentence) + proximity * BM25TP pairs of question words in the sentence

with the question's idf, ``k1``/``b`` below and ``sentence_terms`` as the average length: how
Elasticsearch's unified highlighter scores passages, BM25 with sentences as documents. With
``k1`` = 0.01 a term counts once, by its idf, however often the sentence repeats it: the
sentence holding most of the question wins, not the one saying one of its words twice
(Chinese and Japanese bigrams repeat within a sentence all the time). Word pairs count in the
question's order only (``reverse`` = 0) and break ties: "big data ... monitor" answers "What
does big data monitor?", "monitoring tools ... big firms ... data" less so.

A question naming its article's subject (holding at least ``subject``, half, of the title's
distinct terms: "What is the PIN code of <village>?" of the article "<village>") chooses its
best sentence without the title's terms (``_about_subject``), ties broken by the full score:
the passage's BM25 counted the title in every passage, and every sentence of the article is
about its subject whether or not it repeats the name, so those terms tell articles apart,
not sentences. Without the rule the sentence naming the subject beats the one holding the
rest of the question: Wikipedia's village articles name the village in their first sentence.
The best of the passage's own sentences starts the quote; the sentence after it joins (the
answer to "what did X say" often follows the sentence naming X), and any other neighbour in
the paragraph joins while its score reaches ``join`` (0.2) of the best's, or while the quote
is shorter than ``min_chars`` (150: a shorter quote lacks its context, and Chinese and
Japanese sentences are often that short), within 3 sentences and ``max_chars`` (480)
characters. A single sentence longer than that is cut to the characters around its matched
words. A quote still shorter than ``min_chars`` that ends its paragraph goes on with the next
paragraph's first sentence (``_spill``): news writes paragraphs of one sentence, and the
sentence after the one naming someone is often what they said. The quote is cited by the
paragraph it starts in. Thai, Lao, Khmer and Burmese are written without sentence marks: a
paragraph is one "sentence", and its quote the ``window_chars`` (340) characters holding most
of the question's matched idf.

How the rules were chosen, on development sets only (answer in the first quote / in the
first reply / mean quote characters; NewsQA dev with ``bot.py eval --qa``, the others with
``benchmarks/eval_languages.py``). The first search (``benchmarks/tune_ranking.py --report``,
NewsQA): the best sentence alone 0.382 / 0.494 / 151; with neighbours scoring at least 0.4 of
it 0.391 / 0.507 / 163; with the sentence after 0.398 / 0.518 / 178; with paragraphs up to
300 characters whole 0.404 / 0.525 / 187 (400: 0.405 / 0.527 / 190). The multilingual sets
then showed those quotes losing Chinese answers that quoting the 1-3 sentences with most idf
mass found (CMRC 2018 zh 0.827 / 0.890 that way), and running long on English Wikipedia.
Each step below is on top of the one before:

================================================  ===============  ===============  ===============
rules                                             NewsQA dev       CMRC 2018 zh     TyDi GoldP en
================================================  ===============  ===============  ===============
first search: join 0.4, sentence_terms 20, 600    0.404/0.525/187  0.761/0.818/118  0.695/0.736/323
three quotes per article (``engine``)             0.404/0.541/184
join 0.2, sentence_terms 40, min_chars 150, 500   0.406/0.544/187  0.787/0.851/144  0.686/0.725/319
the next paragraph's first sentence               0.417/0.556/230  0.787/0.851/144  0.686/0.725/319
k1 0.01, proximity 0.05 (were 1.2, 0.5)           0.417/0.556/230  0.816/0.879/146  0.695/0.739/321
480 characters (chosen)                           0.416/0.555/230  0.816/0.878/146  0.686/0.730/315
================================================  ===============  ===============  ===============

Without proximity zh reaches 0.824 / 0.891 and en 0.700 / 0.741, but the tie above goes the
wrong way (``tests/test_ranking.py``); at 0.1: zh 0.814 / 0.878, en 0.698 / 0.741. Thai
windows (iapp-wiki-qa th): 500 characters 0.766 / 0.827 / 403, 400 0.754 / 0.815 / 359, 340
0.730 / 0.781 / 317, 300 0.712 / 0.761 / 286: 340 is the longest within the 320-character
mean every language's quotes keep to. Windows then summed every occurrence of a matched word
and started at the first best place; counting each question term once and taking the middle
of the best places, 340 characters give 0.769 / 0.824 / 311.

The subject rule (first / reply, ``eval_languages.py``; issue 12): TyDi te 0.484 / 0.553 ->
0.740 / 0.816 with Telugu's abbreviations split correctly (0.493 / 0.744 -> 0.743 / 0.825
when "కి. మీ." still ended a sentence), en 0.686 / 0.730 -> 0.698 / 0.739,
ru 0.648 / 0.718 -> 0.676 / 0.749, bn 0.575 / 0.681 -> 0.619 / 0.726, CMRC 2018 zh 0.816 /
0.878 -> 0.852 / 0.906, the other sets equal or better, NewsQA dev unchanged (news
headlines are rarely half in a question). Tried and worse: title terms at a fraction of
their weight in every score, joins included (x0: te 0.740 / 0.816 but en 0.677 / 0.720, a
sentence scoring 0 no longer joins; x0.2: te 0.641 / 0.709, ar 0.764 / 0.818); choosing
without title terms whatever the title (HeQ he first 0.588 -> 0.586: headlines' words
do pick sentences); requiring the whole title in the question (te 0.717 / 0.792).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.answers.ranking import QuestionTerms, pair_proximity, term_positions
from bot.search.index import FollowingSentence, PassageDetail
from bot.text.sentences import UNSEGMENTED


@dataclass(frozen=True, slots=True)
class QuoteRules:
    """How quotes are cut; chosen on NewsQA dev (see the module docstring)."""

    max_sentences: int = 3
    max_chars: int = 480
    window_chars: int = 340  # a quote cut from a paragraph with no sentence marks (Thai...)
    k1: float = 0.01
    b: float = 0.75
    sentence_terms: float = 40.0  # a typical sentence's length in index terms
    proximity: float = 0.05
    window: int = 5
    reverse: float = 0.0  # weight of a word pair in the opposite order to the question's
    join: float = 0.2
    after: float = 0.4
    whole: int = 300  # a paragraph of at most this many characters is quoted whole
    min_chars: int = 150  # a quote shorter than this takes its best neighbour whatever its score
    subject: float = 0.5  # a question holding this share of its article's title asks about it


@dataclass(frozen=True, slots=True)
class QuoteSpan:
    """Where a quote lies: text offsets in the article and the paragraph sentences it takes."""

    start: int
    end: int
    first: int
    last: int  # inclusive
    following: FollowingSentence | None = None  # the next paragraph's first sentence, taken


def sentence_scores(detail: PassageDetail, terms: QuestionTerms, rules: QuoteRules) -> np.ndarray:
    """Each paragraph sentence's score against the question."""
    keys, idf = terms.keys, terms.idf
    n = len(detail.sentences)
    sizes = np.diff(detail.sentence_tokens)
    sentence_of = np.repeat(np.arange(n), sizes)
    term = term_positions(detail.token_keys, keys)
    found = term >= 0
    tf = np.bincount(sentence_of[found] * len(keys) + term[found], minlength=n * len(keys)).reshape(
        n, len(keys)
    )
    k1, b = rules.k1, rules.b
    norm = k1 * (1 - b + b * sizes / rules.sentence_terms)
    scores = (idf * (tf * (k1 + 1) / (tf + norm[:, None]))).sum(axis=1)
    if rules.proximity:
        scores += rules.proximity * pair_proximity(
            np.flatnonzero(found),
            term[found],
            sentence_of[found],
            idf,
            terms.rank,
            rules.window,
            n,
            rules.reverse,
        )
    return scores


def choose_span(detail: PassageDetail, terms: QuestionTerms, rules: QuoteRules) -> QuoteSpan:
    """The quote of a passage: its best sentence and the neighbours that earn their place."""
    spans = detail.sentences.tolist()
    if len(spans) <= rules.max_sentences and spans[-1][1] - spans[0][0] <= rules.whole:
        return _spill(detail, QuoteSpan(spans[0][0], spans[-1][1], 0, len(spans) - 1), rules)
    scores = sentence_scores(detail, terms, rules).tolist()
    own = range(detail.first, detail.last)
    choice = scores
    if (about := _about_subject(detail, terms, rules)) is not None:
        choice = sentence_scores(detail, about, rules).tolist()
    best = max(own, key=lambda i: (choice[i], scores[i], -i))
    lo = hi = best
    while hi - lo + 1 < rules.max_sentences:
        options = []
        if lo > 0:
            options.append((scores[lo - 1], lo - 1))
        if hi + 1 < len(spans):
            bonus = rules.after * scores[best] if hi == best else 0.0
            options.append((scores[hi + 1] + bonus, hi + 1))
        short = spans[hi][1] - spans[lo][0] < rules.min_chars
        joining = [
            (v, i) for v, i in options if short or (v > 0 and v >= rules.join * scores[best])
        ]
        if not joining:
            break
        _, i = max(joining)
        new_lo, new_hi = min(lo, i), max(hi, i)
        if spans[new_hi][1] - spans[new_lo][0] > rules.max_chars:
            break
        lo, hi = new_lo, new_hi
    start, end = spans[lo][0], spans[hi][1]
    limit = (
        rules.window_chars if detail.passage.article.language in UNSEGMENTED else rules.max_chars
    )
    if end - start > limit:  # one long sentence: the characters around its matches
        start, end = _window(detail, terms, start, end, limit)
    return _spill(detail, QuoteSpan(start, end, lo, hi), rules)


def _about_subject(
    detail: PassageDetail, terms: QuestionTerms, rules: QuoteRules
) -> QuestionTerms | None:
    """The question without its title terms when it names the article's subject: holds at
    least ``subject`` of the title's distinct terms ("Where is the Eiffel Tower?" of the
    article "Eiffel Tower"; not two words of a long news headline). Every sentence of the
    article is then about that subject, named or not ("It is 330 metres tall"), and the title's
    terms, which the passage's BM25 already counted, tell the article apart but not its
    sentences: the best sentence is the one holding most of the rest of the question. None
    when the rule does not apply."""
    title = np.unique(detail.title_keys)
    if not len(title):
        return None
    in_title = np.isin(terms.keys, title)
    if not in_title.any() or np.isin(title, terms.keys).mean() < rules.subject:
        return None
    return QuestionTerms(terms.keys, np.where(in_title, 0.0, terms.idf), terms.rank)


def _spill(detail: PassageDetail, span: QuoteSpan, rules: QuoteRules) -> QuoteSpan:
    """A quote shorter than ``min_chars`` that ends its paragraph takes the next paragraph's
    first sentence (news writes many paragraphs of one sentence, and what follows the
    sentence naming someone is often what they said), within ``max_chars``."""
    if (
        span.last == len(detail.sentences) - 1
        and span.end == detail.sentences[-1][1]  # ends its paragraph (not a window's cut)
        and span.end - span.start < rules.min_chars
        and (following := detail.following()) is not None
        and following.end - span.start <= rules.max_chars
    ):
        return QuoteSpan(span.start, following.end, span.first, span.last, following)
    return span


def _window(
    detail: PassageDetail, terms: QuestionTerms, start: int, end: int, size: int
) -> tuple[int, int]:
    """The ``size`` characters of ``start:end`` holding most of the question: the idf of the
    distinct question terms in them (as sentences are scored, a repeated word counts once).
    Among the starts that do as well, the middle one, so that what surrounds the matches (an
    answer often follows them) is quoted too. From a token start (or the sentence's own
    start), ending at a token end."""
    spans = detail.token_spans
    inside = (spans[:, 0] >= start) & (spans[:, 1] <= end)
    tokens = spans[inside]
    if not len(tokens):
        return start, start + size
    term = term_positions(detail.token_keys[inside], terms.keys)
    starts = np.concatenate(([start], tokens[:, 0]))
    first = np.searchsorted(tokens[:, 0], starts, "left")
    stop = np.maximum(np.searchsorted(tokens[:, 1], starts + size, "right"), first)
    # occurrences of each question term among the first i tokens, for every i
    found = np.zeros((len(tokens) + 1, len(terms.keys)), np.int32)
    hit = np.flatnonzero(term >= 0)
    found[hit + 1, term[hit]] = 1
    np.cumsum(found, axis=0, out=found)
    present = (found[stop] - found[first]) > 0  # [start, term]: in that window
    mass = present.astype(np.float64) @ terms.idf
    ties = np.flatnonzero(mass >= mass.max())
    best = int(ties[len(ties) // 2]) if mass.max() > 0 else 0  # nothing matched: the start
    begin = int(starts[best])
    last_token = int(stop[best]) - 1
    finish = int(tokens[last_token, 1]) if last_token >= int(first[best]) else begin + size
    return begin, min(finish, end)
