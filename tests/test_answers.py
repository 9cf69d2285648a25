"""Answering readers' questions from the shipped seed corpus: quotes, citations, statuses."""

from __future__ import annotations

import json
import shutil
from itertools import pairwise
from pathlib import Path

import pytest

from bot.answers import Answer, AnswerStatus
from bot.answers.render_text import citation_line, render_answer
from bot.articles import Article
from bot.commands import STATUS_MESSAGES
from bot.config import Config
from bot.services import Archive
from bot.text.analysis import Analyzer

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "000_de0f464e244af8da.txt"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    data = tmp_path_factory.mktemp("data")
    archive, report = Archive.open(Config(corpus_dir=ROOT / "corpus", data_dir=data))
    assert report.articles == 1
    return archive


@pytest.fixture(scope="module")
def article(archive: Archive) -> Article:
    (article,) = archive.manager.index.articles()
    return article


def ask(archive: Archive, question: str) -> Answer:
    return archive.engine.ask(question)


def paragraph_of(article: Article, sentence: str) -> int:
    """1-based number of the paragraph holding ``sentence``, found in the text itself."""
    (number,) = [n for n, p in enumerate(article.paragraphs, start=1) if sentence in p]
    return number


def check_quote_is_cut_from_the_article(answer: Answer, article: Article) -> None:
    """Each quote is article text from its cited paragraph on: that paragraph's, or (a short
    one's) with the first sentence of the next."""
    for quote in answer.quotes:
        assert quote.text == article.text[quote.start : quote.end]
        own, *following = quote.text.split("\n\n")
        n = quote.citation.paragraph
        assert own in article.paragraphs[n - 1]
        if following:
            (following,) = following
            assert article.paragraphs[n - 1].endswith(own) and len(own) < 150
            assert article.paragraphs[n].startswith(following)


@pytest.mark.parametrize(
    "question, expected, sentence",
    [
        (
            "What did Pompeo accuse TikTok of?",
            "feeding data directly to the Chinese Communist Party",
            "Secretary of State Mike Pompeo said on Aug. 3",
        ),
        ("Who is Jin Chun?", "former big data engineer", "Jin Chun, a former big data engineer"),
        ("who is jin chun", "former big data engineer", "Jin Chun, a former big data engineer"),
        (
            "When did Pompeo accuse TikTok?",
            "Aug. 3",
            "Secretary of State Mike Pompeo said on Aug. 3",
        ),
        (
            "Who is the founder of Ctrip?",
            "James Liang",
            "James Liang, founder of the online travel agency",
        ),
        (
            "What did Liang propose about Google?",
            "opening up China’s internet to overseas players like Google",
            "Liang proposed opening up China’s internet",
        ),
    ],
)
def test_question_is_answered_from_the_right_paragraph(
    archive: Archive, article: Article, question: str, expected: str, sentence: str
) -> None:
    answer = ask(archive, question)
    assert answer.status is AnswerStatus.ANSWERED
    first = answer.quotes[0]
    assert expected in first.text
    assert first.citation.paragraph == paragraph_of(article, sentence)
    assert first.citation.article_id == article.id
    check_quote_is_cut_from_the_article(answer, article)


def test_the_answering_sentence_comes_first(archive: Archive, article: Article) -> None:
    """The paragraph before names a "big data engineer" monitoring "data" twice; the answer
    is the next paragraph, where the question's words stand together in its order."""
    answer = ask(archive, "What does big data monitor?")
    first = answer.quotes[0]
    assert first.text.startswith("“Big data will usually monitor your clipboard")
    assert first.citation.paragraph == paragraph_of(article, "Big data will usually monitor")
    check_quote_is_cut_from_the_article(answer, article)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("When did Pompeo speak?", "Aug. 3"),
        ("When did Pompeo say Trump would act?", "Aug. 3"),
        ("Who founded Ctrip?", "James Liang"),
    ],
)
def test_questions_with_a_word_the_article_does_not_use(
    archive: Archive, article: Article, question: str, expected: str
) -> None:
    answer = ask(archive, question)
    assert answer.status is AnswerStatus.ANSWERED
    assert expected in answer.quotes[0].text


def test_highlights_mark_the_questions_words(archive: Archive) -> None:
    analyzer = Analyzer()
    question = "What did Pompeo ACCUSE TikTok of?"
    answer = ask(archive, question)
    quote = answer.quotes[0]
    question_terms = set(analyzer.terms(question))
    marked = [quote.text[s:e] for s, e in quote.highlights]
    # Every highlight is a word of the question (by stem, whatever the case)...
    assert marked and all(analyzer.terms(word)[0] in question_terms for word in marked)
    # ...and every question word present in the quote is highlighted.
    present = {t.term for t in analyzer.tokens(quote.text)} & question_terms
    assert present == {analyzer.terms(word)[0] for word in marked} == question_terms
    assert {w.casefold() for w in quote.highlighted_terms} == {"pompeo", "tiktok", "accusing"}
    assert all(0 <= s < e <= len(quote.text) for s, e in quote.highlights)


def test_question_the_archive_cannot_answer(archive: Archive) -> None:
    answer = ask(archive, "What is the capital of France?")
    assert answer.status is AnswerStatus.NO_MATCH
    assert answer.quotes == []
    assert render_answer(answer).startswith(STATUS_MESSAGES[AnswerStatus.NO_MATCH])


@pytest.mark.parametrize(
    "question, status",
    [
        ("", AnswerStatus.EMPTY),
        ("   \n\t  ", AnswerStatus.EMPTY),
        ("word " * 800, AnswerStatus.TOO_LONG),
        ("x" * 4000, AnswerStatus.TOO_LONG),
        ("the of and", AnswerStatus.NO_TERMS),
        ("What is it?", AnswerStatus.NO_TERMS),
        ("😀🙈🇨🇳", AnswerStatus.NO_TERMS),
        ("?!…", AnswerStatus.NO_TERMS),
    ],
)
def test_questions_that_cannot_be_searched(
    archive: Archive, question: str, status: AnswerStatus
) -> None:
    answer = ask(archive, question)
    assert answer.status is status
    assert answer.quotes == [] and not answer.answered
    assert render_answer(answer) == STATUS_MESSAGES[status]


def test_question_is_normalised_before_checks(archive: Archive) -> None:
    answer = ask(archive, "  Who   is\nJin\tChun?  ")
    assert answer.question == "Who is Jin Chun?"
    assert answer.answered


@pytest.mark.parametrize(
    "question",
    [
        "What did Pompeo accuse TikTok of? <script>",
        "Pompeo & TikTok: what did Pompeo accuse TikTok of?",
        "What did Pompeo accuse TikTok of? &amp;",
    ],
)
def test_markup_characters_in_questions_do_not_break_answers(
    archive: Archive, question: str
) -> None:
    answer = ask(archive, question)
    assert answer.answered
    assert "feeding data directly" in answer.quotes[0].text
    assert answer.question == question
    json.dumps(answer.to_dict())
    render_answer(answer, mark=("<b>", "</b>"))


@pytest.mark.parametrize(
    "question",
    ["<script>alert('x')</script>", "&&&", "中国的防火长城是什么？", "TikTok在中国被禁止了吗？"],
)
def test_odd_questions_do_not_crash(archive: Archive, question: str) -> None:
    answer = ask(archive, question)
    assert answer.status in (AnswerStatus.NO_MATCH, AnswerStatus.ANSWERED, AnswerStatus.NO_TERMS)
    json.loads(json.dumps(answer.to_dict(), ensure_ascii=False))
    assert render_answer(answer)


def test_at_most_three_quotes_per_article(archive: Archive, article: Article) -> None:
    for question in ["TikTok", "China internet", "Liang wrote", "Chinese Communist Party"]:
        answer = ask(archive, question)
        assert answer.answered, question
        assert len(answer.quotes) <= 3
        check_quote_is_cut_from_the_article(answer, article)
        spans = sorted((q.start, q.end) for q in answer.quotes)
        assert len(set(spans)) == len(spans)
        # quotes of one article never overlap
        assert all(b <= c for (_, b), (c, _) in pairwise(spans))


@pytest.fixture(scope="module")
def reprinted(tmp_path_factory: pytest.TempPathFactory, article: Article) -> Archive:
    """The seed plus a second file with the same text under another headline."""
    root = tmp_path_factory.mktemp("reprint")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "reprint.md").write_text(
        "---\ntitle: Chinese entrepreneur urges Beijing to tear down its Great Firewall\n"
        "source: Other Daily\ndate: 2020-08-20\n---\n\n" + article.text + "\n",
        encoding="utf-8",
    )
    archive, report = Archive.open(Config(corpus_dir=corpus, data_dir=root / "data"))
    assert report.articles == 2
    texts = [a.text for a in archive.manager.index.articles()]
    assert texts[0] == texts[1] == article.text  # a true reprint
    return archive


def test_reprint_with_the_same_headline_is_shown_once(tmp_path: Path, article: Article) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "copy.md").write_text(
        f"---\ntitle: {article.title}\nsource: Other Daily\n---\n\n{article.text}\n",
        encoding="utf-8",
    )
    archive, report = Archive.open(Config(corpus_dir=corpus, data_dir=tmp_path / "data"))
    assert report.articles == 2
    answer = ask(archive, "What did Pompeo accuse TikTok of?")
    assert len(answer.quotes) == 1


@pytest.mark.parametrize("question", ["What did Pompeo accuse TikTok of?", "Who is Jin Chun?"])
def test_reprint_under_another_headline_is_shown_once(reprinted: Archive, question: str) -> None:
    answer = ask(reprinted, question)
    assert answer.answered
    texts = [q.text for q in answer.quotes]
    assert len(texts) == len(set(texts)), texts


def test_answer_json_has_the_documented_keys(archive: Archive, article: Article) -> None:
    answer = ask(archive, "What did Pompeo accuse TikTok of?")
    data = json.loads(json.dumps(answer.to_dict(), ensure_ascii=False))
    assert data["question"] == "What did Pompeo accuse TikTok of?"
    assert data["status"] == "answered"
    (quote,) = data["quotes"]
    documented = {
        "text",
        "highlights",
        "score",
        "article_id",
        "title",
        "source",
        "date",
        "url",
        "paragraph",
        "start",
        "end",
    }
    assert documented <= set(quote)
    assert quote["text"] == article.text[quote["start"] : quote["end"]]
    assert quote["title"] == article.title
    assert quote["source"] == article.source
    assert quote["date"] == article.date.isoformat() == "2020-08-16"
    assert quote["article_id"] == article.id
    assert quote["paragraph"] == paragraph_of(article, "Mike Pompeo said on Aug. 3")
    assert isinstance(quote["score"], float) and quote["score"] > 0
    for h in quote["highlights"]:
        assert quote["text"][h["start"] : h["end"]] == h["text"]


def test_rendered_answer_has_the_citation_line(archive: Archive, article: Article) -> None:
    answer = ask(archive, "Who is Jin Chun?")
    text = render_answer(answer, mark=("*", "*"))
    number = paragraph_of(article, "Jin Chun, a former big data engineer")
    line = f"{article.title} · {article.source} · 16 Aug 2020 · ¶{number}"
    assert line in text
    assert citation_line(answer.quotes[0].citation) == line
    assert text.startswith("[1] “")
    assert "*Jin* *Chun*" in text
