"""Sentence boundaries (offline Punkt) and passage windows pointing back into the text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.articles import read_corpus
from bot.text.passages import PassageRules, is_heading, paragraph_spans, split_passages
from bot.text.sentences import sentence_spans

ROOT = Path(__file__).resolve().parent.parent


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


# --- sentences ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first, second",
    [
        ("The U.S. said on Aug. 3 that it would act.", "Beijing disagreed."),
        ("Dr. Smith met Mr. Jones and Mrs. Lee in Washington, D.C. on Friday.", "They talked."),
        ("The novel by J. K. Rowling sold well.", "Critics were kind."),
        ("President John F. Kennedy spoke at 3 p.m. in the U.K. capital.", "Crowds cheered."),
        (
            "Sen. Warren and Gov. Newsom of Calif. wrote to Acme Inc. and Foo Corp. about it.",
            "No reply.",
        ),
        ("It was signed on Sept. 12 by Prof. Li, e.g. in Geneva.", "Then it ended."),
    ],
)
def test_abbreviations_do_not_end_sentences(first: str, second: str) -> None:
    assert sentences(f"{first} {second}") == [first, second]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("He said “Stop.” She left.", ["He said “Stop.”", "She left."]),
        ('He said "Stop." She left.', ['He said "Stop."', "She left."]),
        ("She asked: “Why?” Nobody answered.", ["She asked: “Why?”", "Nobody answered."]),
        (
            "“It’s Douyin and also Taobao,” Yang said. “If I talk about it, it pushes things.”",
            [
                "“It’s Douyin and also Taobao,” Yang said.",
                "“If I talk about it, it pushes things.”",
            ],
        ),
        (
            "He called it a ‘fire sale.’ Others agreed.",
            ["He called it a ‘fire sale.’", "Others agreed."],
        ),
    ],
)
def test_closing_quotes_stay_with_their_sentence(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_initials_without_spaces_do_not_end_sentences() -> None:
    assert sentences("The novel by J.K. Rowling sold well. Critics were kind.") == [
        "The novel by J.K. Rowling sold well.",
        "Critics were kind.",
    ]


@pytest.mark.parametrize(
    "first, second",
    [
        ("ఊరు నుండి బడి 5 కి. మీ. దూరంలో ఉంది.", "అక్కడ పెద్ద చెరువు ఉంది."),
        ("ఊరు నుండి బడి 5 కి.మీ. దూరంలో ఉంది.", "అక్కడ పెద్ద చెరువు ఉంది."),
        ("ఈ గుడిని సా. శ. 1900 లో కట్టారు.", "ఏటా జాతర జరుగుతుంది."),
        ("డా. రాము ఆ సినిమాను కె. ఎస్. రావుతో తీశారు.", "అది బాగా ఆడింది."),
        ("ఆమె 1990లో బి.ఎ. చదివారు.", "తర్వాత బడిలో పాఠాలు చెప్పారు."),
    ],
)
def test_telugu_abbreviations_and_initials_do_not_end_sentences(first: str, second: str) -> None:
    text = f"{first} {second}"
    assert [text[a:b] for a, b in sentence_spans(text, "te")] == [first, second]


def test_sentence_spans_exclude_whitespace_between_and_after_sentences() -> None:
    text = "First one.   Second one!\n Third?  "
    assert sentences(text) == ["First one.", "Second one!", "Third?"]


def test_sentence_spans_exclude_leading_whitespace() -> None:
    assert sentence_spans("  First one. Second.") == [(2, 12), (13, 20)]


def test_sentence_splitting_needs_no_nltk_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import nltk

    from bot.text import sentences as module

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("NLTK data must not be loaded or downloaded")

    monkeypatch.setattr(nltk, "download", refuse)
    monkeypatch.setattr(nltk.data, "load", refuse)
    monkeypatch.setattr(nltk.data, "find", refuse)
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    module._tokenizer.cache_clear()
    try:
        assert sentences("Mr. Li left. Ms. Wu stayed.") == ["Mr. Li left.", "Ms. Wu stayed."]
    finally:
        module._tokenizer.cache_clear()


# --- paragraphs and headings ---------------------------------------------------------------


def test_paragraph_spans_are_stripped_and_skip_blank_paragraphs() -> None:
    text = "\n  First para.\nstill first.  \n\n \n\n\tSecond.\n\n"
    spans = list(paragraph_spans(text))
    assert [text[a:b] for a, b in spans] == ["First para.\nstill first.", "Second."]


@pytest.mark.parametrize(
    "line", ["Diplomatic warfare", "The road ahead", "What comes next for TikTok"]
)
def test_short_lines_without_final_punctuation_are_headings(line: str) -> None:
    assert is_heading(line)


@pytest.mark.parametrize(
    "line",
    ["He left.", "Why?", "Stop!", "“It is done,” he said.", " ".join(["word"] * 9)],
)
def test_sentences_and_long_lines_are_not_headings(line: str) -> None:
    assert not is_heading(line)


def test_headings_are_not_passages() -> None:
    text = (
        "Breaking news\n\nThe talks ended on Friday. Both sides left.\n\n"
        "What comes next\n\nNobody knows."
    )
    passages = split_passages(text)
    assert [(p.paragraph, text[p.start : p.end]) for p in passages] == [
        (2, "The talks ended on Friday. Both sides left."),
        (4, "Nobody knows."),
    ]


def test_quoted_subheading_of_the_seed_is_not_a_passage() -> None:
    article = read_corpus(ROOT / "corpus").articles[0]
    number = article.paragraphs.index("‘Diplomatic warfare’") + 1
    assert is_heading("‘Diplomatic warfare’")
    assert number not in {p.paragraph for p in split_passages(article.text)}


def test_windows_overlap_by_one_sentence_and_respect_max_sentences() -> None:
    para = " ".join(f"Sentence number {n} is here." for n in range(1, 7))
    rules = PassageRules(max_sentences=3, max_words=120, overlap=1)
    windows = [para[p.start : p.end] for p in split_passages(para, rules)]
    s = sentences(para)
    assert windows == [" ".join(s[0:3]), " ".join(s[2:5]), " ".join(s[4:6])]


def test_a_sentence_longer_than_max_words_is_a_passage_alone() -> None:
    long = " ".join(["word"] * 30) + "."
    text = f"Short one. {long} Another short one."
    rules = PassageRules(max_sentences=3, max_words=10, overlap=1)
    assert [text[p.start : p.end] for p in split_passages(text, rules)] == [
        "Short one.",
        long,
        "Another short one.",
    ]


# --- properties over generated articles ----------------------------------------------------

# Words end with a letter or a contraction; sentences end with their own punctuation.
WORD = st.builds(
    lambda w, suffix: w + suffix,
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzé", min_size=1, max_size=8),
    st.sampled_from(["", "", "", "’s", "’t"]),
)
SENTENCE = st.builds(
    lambda first, rest, end: " ".join([first.capitalize(), *rest]) + end,
    WORD,
    st.lists(WORD, max_size=12),
    st.sampled_from([".", "!", "?", ".”", "?”", "…"]),
)
GAP = st.sampled_from([" ", "  ", "\n", " \n "])
PROSE = st.builds(
    lambda parts, gaps: "".join(s + g for s, g in zip(parts, gaps, strict=False)).rstrip(),
    st.lists(SENTENCE, min_size=1, max_size=7),
    st.lists(GAP, min_size=7, max_size=7),
)
HEADING = st.lists(WORD, min_size=1, max_size=6).map(lambda ws: " ".join(ws).capitalize())
PARAGRAPHS = st.lists(
    st.one_of(PROSE, PROSE, PROSE, HEADING.map(lambda h: ("H", h))), min_size=1, max_size=6
)
BREAK = st.sampled_from(["\n\n", "\n\n\n", "\n \n", "\n\t\n  "])
RULES = st.builds(
    PassageRules,
    max_sentences=st.integers(1, 4),
    max_words=st.integers(3, 40),
    overlap=st.integers(0, 2),
)


@st.composite
def articles(draw: st.DrawFn) -> tuple[str, list[tuple[str, bool]]]:
    """Article text and its paragraphs in order as (text, is_heading)."""
    paragraphs = [(p[1], True) if isinstance(p, tuple) else (p, False) for p in draw(PARAGRAPHS)]
    breaks = draw(st.lists(BREAK, min_size=len(paragraphs), max_size=len(paragraphs)))
    lead = draw(st.sampled_from(["", "\n", "  "]))
    text = lead + "".join(p + b for (p, _), b in zip(paragraphs, breaks, strict=False))
    return text, paragraphs


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(articles(), RULES)
def test_passages_point_back_into_their_paragraphs(article, rules: PassageRules) -> None:
    text, paragraphs = article
    spans = list(paragraph_spans(text))
    assert [text[a:b] for a, b in spans] == [p for p, _ in paragraphs]
    passages = split_passages(text, rules)
    for p in passages:
        assert 1 <= p.paragraph <= len(paragraphs)
        p_start, p_end = spans[p.paragraph - 1]
        assert p_start <= p.start < p.end <= p_end
        chunk = text[p.start : p.end]
        assert chunk in text[p_start:p_end]
        assert not chunk[0].isspace() and not chunk[-1].isspace()
    # Paragraph order, then text order.
    assert [(p.paragraph, p.start) for p in passages] == sorted(
        (p.paragraph, p.start) for p in passages
    )
    assert len({(p.start, p.end) for p in passages}) == len(passages)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(articles(), RULES)
def test_no_text_of_a_prose_paragraph_is_lost_and_headings_are_not_passages(article, rules) -> None:
    text, paragraphs = article
    spans = list(paragraph_spans(text))
    passages = split_passages(text, rules)
    only_headings = all(heading for _, heading in paragraphs)
    for number, ((p_start, p_end), (_, heading)) in enumerate(
        zip(spans, paragraphs, strict=True), start=1
    ):
        mine = [p for p in passages if p.paragraph == number]
        if heading and not only_headings:
            assert mine == []
            continue
        assert mine, "a prose paragraph must have passages"
        for word in re.finditer(r"\S+", text[p_start:p_end]):
            a, b = p_start + word.start(), p_start + word.end()
            assert any(p.start <= a and b <= p.end for p in mine), text[a:b]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(articles(), RULES)
def test_windows_respect_max_sentences_and_max_words(article, rules: PassageRules) -> None:
    text, _ = article
    spans = list(paragraph_spans(text))
    for p in split_passages(text, rules):
        p_start, p_end = spans[p.paragraph - 1]
        inside = [
            (p_start + a, p_start + b)
            for a, b in sentence_spans(text[p_start:p_end])
            if p.start <= p_start + a and p_start + b <= p.end
        ]
        assert 1 <= len(inside) <= rules.max_sentences
        # The window is exactly whole sentences: it starts at the first and ends at the last.
        assert inside[0][0] == p.start and inside[-1][1] == p.end
        if len(inside) > 1:
            assert len(text[p.start : p.end].split()) <= rules.max_words


def test_a_text_of_headings_only_still_has_its_paragraphs_as_passages() -> None:
    # A one-line record must stay findable and quotable, though it reads as a heading.
    text = "Storm closes port\n\nPort closed by storm"
    passages = split_passages(text)
    assert [(p.paragraph, text[p.start : p.end]) for p in passages] == [
        (1, "Storm closes port"),
        (2, "Port closed by storm"),
    ]
