"""Analysis per language: stemming, letters, detection, questions asked of mixed archives."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.answers.engine import AnswerEngine
from bot.articles.model import Article
from bot.search.builder import ArticleAnalyser, analyse_article
from bot.search.lifecycle import build_index
from bot.text.analysis import Analyzer
from bot.text.detection import detect_language
from bot.text.languages import QUESTION_WORDS
from bot.text.passages import PassageRules
from bot.text.sentences import sentence_spans

ROOT = Path(__file__).resolve().parent.parent
ANALYZER = Analyzer()


@pytest.mark.parametrize(
    "language, forms",
    [
        ("ru", "выборы выборов выборами"),
        ("es", "elecciones elección"),
        ("id", "pemilihan memilih"),
        ("ru", "госуда́рство государство"),  # stress marks of Wikipedia and dictionaries
        ("ar", "كتاب كـتـاب كِتَاب کتاب"),  # tatweel, harakat, Persian kaf
        ("fa", "کتاب كتاب"),  # Arabic kaf in a Persian text
        ("fa", "ایران ايران"),  # Arabic yeh
        ("te", "నగరం నగరాలు నగరంలో"),  # city, cities, in the city: no stemmer, first letters
        ("bn", "শহর শহরে শহরের"),
    ],
)
def test_forms_of_a_word_are_one_term(language: str, forms: str) -> None:
    terms = ANALYZER.terms(forms, language)
    assert len(set(terms)) == 1 and len(terms) == len(forms.split())


def test_languages_without_a_snowball_stemmer_keep_a_words_first_letters() -> None:
    assert ANALYZER.terms("kitabu vitabu 2019", "sw") == ["kit", "vit", "2019"]
    # the vowel signs of the first two letters are kept, the third's are not; shorter words
    # are kept whole (children, to the children, villages, pen)
    assert ANALYZER.terms("పిల్లలు పిల్లలకు పల్లెలు కలం", "te") == ["పిల్ల", "పిల్ల", "పల్ల", "కలం"]
    # bigrammed scripts keep their characters' marks: ทำ "do" and ทา "paint" share only ท
    assert set(ANALYZER.terms("ทำ", "th")) & set(ANALYZER.terms("ทา", "th")) == {"ท"}


def test_telugu_question_words_are_stopwords_only_as_whole_words() -> None:
    assert ANALYZER.terms(QUESTION_WORDS["te"], "te") == []
    # "when are the elections?": ఎన్నికలు (elections) stays, though it starts as ఎన్ని (how many)
    assert ANALYZER.terms("ఎన్నికలు ఎప్పుడు?", "te") == ANALYZER.terms("ఎన్నికలు", "te") != []


def test_a_telugu_question_word_is_not_missing_from_the_answer() -> None:
    articles = [
        Article(
            id="lake",
            title="చెరువు",
            text="గ్రామంలో పెద్ద చెరువు ఉంది. వర్షాకాలంలో చెరువు నిండుతుంది.",
            language="te",
        ),
        Article(
            id="school",
            title="బడి",
            text="గ్రామంలో కొత్త బడి ఉంది. బడిలో వంద మంది పిల్లలు చదువుతారు.",
            language="te",
        ),
        Article(id="train", title="రైలు", text="పట్టణానికి రోజూ రెండు రైళ్లు వస్తాయి.", language="te"),
    ]
    index = build_index(articles, ANALYZER)
    engine = AnswerEngine(lambda: index, ANALYZER)
    # "when does the lake fill?": ఎప్పుడు (when) is in no passage, and need not be
    best = engine.rank("చెరువు ఎప్పుడు నిండుతుంది?").candidates[0]
    assert best.article_id == "lake" and best.coverage == pytest.approx(1.0)


def test_signature_follows_the_configuration() -> None:
    assert Analyzer("en").signature != Analyzer("ru").signature
    assert "PyStemmer-" in ANALYZER.signature


@dataclass
class FakeArchive:
    """What question analysis reads from a SearchIndex: its languages and term idf."""

    languages: frozenset[str]
    idf_of: dict[str, float] = field(default_factory=dict)

    def idf(self, term: str) -> float | None:
        return self.idf_of.get(term)


def test_one_language_archive_gets_that_languages_analysis() -> None:
    question = "What did Pompeo accuse TikTok of?"
    english = FakeArchive(frozenset({"en"}))
    assert ANALYZER.question_terms(question, english) == ANALYZER.question_terms(question)
    assert ANALYZER.question_terms(question) == ["pompeo", "accus", "tiktok"]


def test_words_are_analysed_with_the_languages_writing_their_script() -> None:
    archive = FakeArchive(frozenset({"en", "ru"}))
    assert ANALYZER.question_terms("Что такое выборы в TikTok?", archive) == ["выбор", "tiktok"]


def test_the_questions_stopwords_pick_its_language_among_one_script() -> None:
    archive = FakeArchive(frozenset({"en", "es"}))
    # "son" is a Spanish stopword ("they are") and an English word
    assert ANALYZER.question_terms("Who is the son of the king?", archive) == ["son", "king"]
    assert ANALYZER.question_terms("¿Quiénes son los reyes?", archive) == ["rey"]


def test_question_bigrams_the_archive_lacks_are_left_out() -> None:
    archive = FakeArchive(frozenset({"zh"}), {"抖音": 2.0, "抖": 1.5, "音": 1.5})
    # "是" and "什么" are stopwords; "音是" and "是什" straddle words and are not in the archive
    assert ANALYZER.question_terms("抖音是什么？", archive) == ["抖", "抖音", "音"]
    assert "音是" in ANALYZER.question_terms("抖音是什么？")  # no archive: nothing to check


@pytest.mark.parametrize(
    "text, language",
    [
        ("Власти города объявили, что новая линия метро откроется в следующем году.", "ru"),
        ("The city council said on Tuesday that the new metro line would open next year.", "en"),
        ("市政府周二表示，新的地铁线路将于明年开通，预计每天运送十万名乘客。", "zh"),
        ("شهرداری اعلام کرد که خط جدید مترو سال آینده افتتاح خواهد شد و مسافران زیادی دارد.", "fa"),
        (
            "El ayuntamiento anunció el martes que la nueva línea de metro abrirá el año próximo.",
            "es",
        ),
    ],
)
def test_detection_reads_a_news_sentence(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_detection_leaves_too_short_texts_unknown() -> None:
    assert detect_language("OK") == detect_language("2024-05-01") == ""


def test_an_article_without_language_keeps_the_detected_one() -> None:
    text = "Власти города объявили, что новая линия метро откроется в следующем году."
    article = Article(id="a", title="Метро", text=text)
    analysed = analyse_article(article, ANALYZER, PassageRules())
    assert analysed.article.language == "ru"
    assert analysed.terms[0] == "метр"  # analysed as Russian
    declared = Article(id="b", title="Метро", text=text, language="uk")
    assert analyse_article(declared, ANALYZER, PassageRules()).article.language == "uk"
    # a cache hit on another article of the same text keeps the detected language too
    cache: dict = {}
    analyser = ArticleAnalyser(ANALYZER, PassageRules(), cache=cache, workers=1)
    first = next(analyser.analyse([article]))
    copy = Article(id="c", title="Метро", text=text)
    second = next(analyser.analyse([copy]))
    assert first.article.language == second.article.language == "ru"
    assert second.article.id == "c"


def test_a_mixed_archive_answers_each_language_and_json_shows_it() -> None:
    articles = [
        Article(
            id="ru",
            title="Выборы мэра",
            text="Выборы мэра прошли в воскресенье. Победил кандидат от партии зелёных.",
        ),
        Article(
            id="en",
            title="Harbour ferry",
            text="The harbour ferry will run every hour from next week. Commuters welcomed it.",
        ),
        Article(id="zh", title="抖音", text="抖音是一款短视频应用。它在中国非常流行。"),
    ]
    index = build_index(articles, ANALYZER)
    assert index.languages == {"ru", "en", "zh"}
    engine = AnswerEngine(lambda: index, ANALYZER)
    answer = engine.ask("Кто победил на выборах мэра?")
    assert answer.quotes and answer.quotes[0].citation.article_id == "ru"
    assert engine.ask("How often does the ferry run?").quotes[0].citation.article_id == "en"
    chinese = engine.ask("抖音是什么？")
    assert chinese.quotes and chinese.quotes[0].citation.article_id == "zh"
    quote = chinese.to_dict()["quotes"][0]
    assert quote["language"] == "zh"
    # the bigrams and their characters make one highlight ("音是" is in the archive)
    assert quote["highlighted_terms"] == ["抖音是"]


# --- sentences per script ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, language, expected",
    [
        ("أين ولد كانط؟ ولد في كونيغسبرغ.", "ar", ["أين ولد كانط؟", "ولد في كونيغسبرغ."]),
        ("کجا است؟ اینجا۔ بعد", "ur", ["کجا است؟", "اینجا۔", "بعد"]),
        ("यह एक वाक्य है। यह दूसरा है ।", "hi", ["यह एक वाक्य है।", "यह दूसरा है ।"]),
        ("他来了。你呢？好！", "zh", ["他来了。", "你呢？", "好！"]),
        ("  สวัสดีครับ ประเทศไทย  ", "th", ["สวัสดีครับ ประเทศไทย"]),
        ("Он родился в 1799 г. в Москве. А. С. Пушкин — поэт.", "ru",
         ["Он родился в 1799 г. в Москве.", "А. С. Пушкин — поэт."]),
        ("Hän syntyi 5. toukokuuta 1900. Sitten hän muutti.", "fi",
         ["Hän syntyi 5. toukokuuta 1900.", "Sitten hän muutti."]),
        ("El Sr. García llegó. Luego habló.", "es", ["El Sr. García llegó.", "Luego habló."]),
    ],
)  # fmt: skip
def test_sentences_end_where_the_language_ends_them(
    text: str, language: str, expected: list[str]
) -> None:
    assert [text[a:b] for a, b in sentence_spans(text, language)] == expected


SCRIPTS = {
    "en": "abc xyz",
    "ru": "абвгд ежз",
    "ar": "ابتثج حخد\u064e",
    "fa": "پچژگ ی\u200cک",
    "hi": "कखग\u093f\u0947",
    "zh": "中国人民",
    "ja": "ひらがなカタ",
    "th": "กขค\u0e31\u0e48",
    "ko": "한국어",
}
MARKS = [".", "?", "!", "؟", "۔", "।", "॥", "。", "！", "？", "\n", "\n\n", '"', "«", "»", "(", ")"]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(SCRIPTS)), st.data())
def test_sentence_spans_are_exact_in_every_script(language: str, data: st.DataObject) -> None:
    pieces = st.one_of(st.text(alphabet=SCRIPTS[language], min_size=1, max_size=8),
                       st.sampled_from(MARKS))  # fmt: skip
    text = "".join(data.draw(st.lists(pieces, max_size=30)))
    spans = sentence_spans(text, language)
    covered = set()
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
        covered.update(range(start, end))
        previous_end = end
    # no character but whitespace is left out of every sentence
    assert all(text[i].isspace() for i in range(len(text)) if i not in covered)


def test_answering_from_a_built_index_does_not_import_nltk(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text(
        "---\ntitle: Ferry\n---\n\nThe harbour ferry runs every hour. Commuters like it.\n",
        encoding="utf-8",
    )
    env = {"BOT_CORPUS_DIR": str(corpus), "BOT_DATA_DIR": str(tmp_path / "data"), "PATH": ""}
    run = [sys.executable, "-c"]
    subprocess.run([*run, "from bot.cli import main; main(['index'])"], env=env, cwd=ROOT,
                   check=True, capture_output=True)  # fmt: skip
    probe = (
        "import sys; from bot.cli import main; main(['ask', 'How often does the ferry run?']);"
        "print('nltk' in sys.modules)"
    )
    out = subprocess.run([*run, probe], env=env, cwd=ROOT, check=True, capture_output=True)
    assert out.stdout.decode().strip().endswith("False")
