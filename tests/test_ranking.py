"""Re-ranking with article context, quote cutting and follow-up questions, on small hand-made
articles: each test shows a feature deciding (it flips the outcome when switched off)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bot.answers import AnswerEngine, AnswerSettings, AnswerStatus, AskContext
from bot.answers.engine import _shorten
from bot.answers.model import Citation, Quote
from bot.answers.question_kind import QuestionKind, question_kind
from bot.answers.quotes import QuoteRules, sentence_scores
from bot.answers.ranking import QuestionTerms, RankingWeights
from bot.answers.render_text import reply_length
from bot.articles import Article
from bot.i18n import texts_for
from bot.search.index import SearchIndex
from bot.search.lifecycle import build_index
from bot.telegram_app.render import answer_page, visible_len
from bot.text.analysis import Analyzer

ANALYZER = Analyzer()
FILLER = (
    "Officials gave a long briefing to reporters in the town hall.\n\n"
    "Several residents asked questions about schools and roads.\n\n"
    "The session ended after lunch, and reporters filed their stories.\n\n"
    "A spokesperson promised a written statement later in the week."
)


# Unrelated articles, so that the tested articles' words are rare in the archive, as words
# that answer questions are (a word in most passages has no weight).
BACKGROUND = [
    Article(
        id=f"background-{n}",
        title=f"Weather report {n}",
        text="\n\n".join(
            f"Forecasters expect {w} clouds and {v} showers across the {u} valleys."
            for w, v, u in [("grey", "light", "northern"), ("low", "heavy", "southern")] * 3
        ),
    )
    for n in range(4)
]


def archive(articles: list[Article]) -> SearchIndex:
    return build_index([*articles, *BACKGROUND], ANALYZER)


def engine(articles: list[Article], **ranking: object) -> AnswerEngine:
    index = archive(articles)
    settings = AnswerSettings(ranking=replace(RankingWeights(), **ranking))
    return AnswerEngine(lambda: index, ANALYZER, settings)


def first_quote(engine: AnswerEngine, question: str, context: AskContext | None = None):
    answer = engine.ask(question, context)
    assert answer.answered, answer.status
    return answer.quotes[0]


# -- the index's stored tokens ------------------------------------------------------------


def test_article_tokens_are_what_detail_stores() -> None:
    index: SearchIndex = build_index(
        [
            Article(id="a", title="Harbour plan", text="One two three. Four five.\n\n" + FILLER),
            Article(id="b", title="Other news", text="Six seven eight nine.\n\n" + FILLER),
        ],
        ANALYZER,
    )
    for ref in index.passages():
        title, body, start, end = index.article_tokens(ref)
        detail = index.detail(ref)
        lo, hi = detail.sentence_tokens[detail.first], detail.sentence_tokens[detail.last]
        assert np.array_equal(title, detail.title_keys)
        assert np.array_equal(body[start:end], detail.token_keys[lo:hi])
        whole = np.concatenate(
            [t[len(title) :] for t in index.article_terms(index.article_id(ref))]
        )
        assert set(whole.tolist()) == set(body.tolist())  # every token of the article


# -- re-ranking ------------------------------------------------------------------------------

ARTICLE_CONTEXT = [
    Article(
        id="ferry",
        title="Dockers stop work at the port",
        text=(
            "Dockers stopped work at the port on Monday over pay.\n\n"
            "The ferry strike left travellers stranded overnight at the terminal.\n\n"
            "Unions said the ferry strike would go on until the port paid the dockers; the "
            "ferry company said the ferry strike had cancelled every crossing, and a second "
            "ferry strike was planned for next month."
        ),
    ),
    Article(id="quiz", title="Pub quiz results", text="Ferry strike, ferry strike!\n\n" + FILLER),
]


def test_a_passage_of_an_article_about_the_question_beats_a_lone_match() -> None:
    question = "What happened in the ferry strike?"
    by_article = engine(ARTICLE_CONTEXT, lead=0.0, proximity=0.0)
    assert by_article.rank(question).candidates[0].article_id == "ferry"
    alone = engine(ARTICLE_CONTEXT, lead=0.0, proximity=0.0, article=0.0)
    assert alone.rank(question).candidates[0].article_id == "quiz"
    assert first_quote(engine(ARTICLE_CONTEXT), question).citation.article_id == "ferry"


PROXIMITY = [
    Article(
        id="city",
        title="City hall",
        text=(
            "Big news came today: the city said its data office would monitor roads.\n\n"
            + FILLER
            + "\n\nBig data will monitor traffic lights across the whole region, the city said."
        ),
    )
]


def test_question_words_standing_together_in_its_order_win() -> None:
    question = "What does big data monitor?"
    assert first_quote(engine(PROXIMITY), question).text.startswith("Big data will monitor")
    assert first_quote(engine(PROXIMITY, proximity=0.0), question).text.startswith("Big news")


LEAD = [
    Article(
        id="bridge",
        title="Town news",
        text="The mayor opened the bridge over the river.\n\n"
        + "\n\n".join([FILLER] * 3)
        + "\n\nThe mayor opened a bridge.",
    )
]


def test_news_puts_the_answer_first() -> None:
    question = "Who opened the bridge?"
    # (a short paragraph's quote goes on with the next one's first sentence: see below)
    lead = first_quote(engine(LEAD), question).text
    assert lead.startswith("The mayor opened the bridge over the river.")
    assert first_quote(engine(LEAD, lead=0.0), question).text.startswith(
        "The mayor opened a bridge."
    )


NUMBER = [
    Article(
        id="stadium",
        title="Stadium plans",
        text=(
            "Fans cheered the plan: the new stadium will hold fans of both clubs.\n\n"
            "The stadium will hold 40,000 fans when it opens next year."
        ),
    )
]


def test_a_question_asking_for_a_number_prefers_a_passage_with_one() -> None:
    question = "How many fans will the stadium hold?"
    assert first_quote(engine(NUMBER), question).text.startswith("The stadium will hold 40,000")
    assert first_quote(engine(NUMBER, kind=0.0), question).text.startswith("Fans cheered")


@pytest.mark.parametrize(
    "text, kind",
    [
        ("How many people died?", QuestionKind.NUMBER),
        ("what percentage of voters", QuestionKind.NUMBER),
        ("Number of Indians killed by FARC?", QuestionKind.NUMBER),
        ("When did the strike start?", QuestionKind.DATE),
        ("In what year was it built", QuestionKind.DATE),
        ("Who is Jin Chun?", QuestionKind.QUESTION),
        ("Did Pompeo accuse TikTok", QuestionKind.QUESTION),
        ("TikTok ban in China", QuestionKind.TOPIC),
        ("Ethanol stress reduces SRL expression in bacteria.", QuestionKind.TOPIC),
    ],
)
def test_question_kind(text: str, kind: QuestionKind) -> None:
    assert question_kind(text) is kind


# -- quotes ------------------------------------------------------------------------------------


def quote_of(text: str, question: str, **rules: object):
    index = archive([Article(id="x", title="Report", text=text)])
    settings = AnswerSettings(quotes=replace(AnswerSettings().quotes, **rules))
    return first_quote(AnswerEngine(lambda: index, ANALYZER, settings), question)


def test_the_answering_sentence_scores_best_where_the_words_stand_together() -> None:
    text = (
        "Monitoring tools watch data, and big firms hoard data. Big data will usually "
        "monitor your clipboard, she said. Her former employer declined to comment."
    )
    index = archive([Article(id="x", title="Report", text=text)])
    (ref,) = index.article_passages("x")
    terms = QuestionTerms.of(index.query(ANALYZER.question_terms("What does big data monitor?")))
    rules = QuoteRules()
    scores = sentence_scores(index.detail(ref), terms, rules)
    assert int(np.argmax(scores)) == 1  # "Big data will usually monitor your clipboard"
    assert scores[2] == 0.0
    scores = sentence_scores(index.detail(ref), terms, replace(rules, proximity=0.0))
    assert int(np.argmax(scores)) == 0  # by BM25 alone, the one saying "data" twice
    assert "clipboard" in quote_of(text, "What does big data monitor?").text


# "code" is common in this archive, the village's name in one article only: by idf alone the
# sentence naming the village would be quoted.
CODES = [
    Article(id=f"codes-{n}", title=f"Code list {n}", text=f"The code {n} is kept by the office.")
    for n in range(3)
]
VILLAGE = (
    "Millbrook is a small village in the western hills. It lies far from the market town. "
    "The code of the village is 40817. Its farmers grow barley and apples."
)


def village_quote(title: str, **rules: object) -> str:
    index = archive([Article(id="x", title=title, text=VILLAGE), *CODES])
    quote_rules = replace(QuoteRules(), after=0.0, join=1.01, min_chars=0, **rules)
    engine = AnswerEngine(lambda: index, ANALYZER, AnswerSettings(quotes=quote_rules))
    return first_quote(engine, "What is the code of the village Millbrook?").text


def test_a_question_about_the_articles_subject_quotes_by_its_other_words() -> None:
    # The title names the subject every sentence is about: the sentence holding the rest
    # of the question is quoted, not the one repeating the name.
    assert village_quote("Millbrook") == "The code of the village is 40817."
    assert village_quote("Millbrook", subject=2.0) == (  # the rule off
        "Millbrook is a small village in the western hills."
    )
    # A headline the question shares one word of is not the subject: its words still count.
    headline = "Millbrook farmers fear dry summer as wells run low"
    assert village_quote(headline) == "Millbrook is a small village in the western hills."


def test_a_neighbour_joins_when_it_scores_near_the_best() -> None:
    text = (
        "The council voted on the harbour plan on Tuesday. The harbour plan passed by one "
        "vote after the council debated it. Lunch followed. Then came the weather report."
    )
    question = "How did the council vote on the harbour plan?"
    together = quote_of(text, question, after=0.0, min_chars=0)
    assert together.text.count(".") == 2 and "Lunch" not in together.text
    alone = quote_of(text, question, join=1.01, after=0.0, min_chars=0)
    assert alone.text.count(".") == 1
    following = quote_of(text, question, join=1.01, min_chars=0)  # the sentence after joins
    assert following.text.count(".") == 2


def test_a_short_quote_takes_its_best_neighbour() -> None:
    text = (
        "The harbour plan passed. Nobody expected it. Lunch followed at noon, and it was long, "
        "with speeches by everyone who had voted and by many who had not, until late. "
        "Then came the weather report for the coast, and the tide tables for the week."
    )
    question = "Did the harbour plan pass?"
    bare = quote_of(text, question, join=1.01, after=0.0, min_chars=0)
    assert bare.text == "The harbour plan passed."
    short = quote_of(text, question, join=1.01, after=0.0, min_chars=40)
    assert short.text == "The harbour plan passed. Nobody expected it."


def test_a_short_paragraph_takes_the_next_paragraphs_first_sentence() -> None:
    text = (
        "The mayor spoke about the harbour plan on Tuesday.\n\n"
        "“We will build the new quay by spring,” she said. Work starts in March.\n\n"
        "The council meets again next week."
    )
    question = "What did the mayor say about the harbour plan?"
    quote = quote_of(text, question)
    assert quote.text == (
        "The mayor spoke about the harbour plan on Tuesday.\n\n"
        "“We will build the new quay by spring,” she said."
    )
    assert quote.cut_after  # the second paragraph goes on
    marked = {quote.text[a:b].casefold() for a, b in quote.highlights}
    assert {"mayor", "harbour", "plan"} <= marked
    alone = quote_of(text, question, min_chars=0)
    assert alone.text == "The mayor spoke about the harbour plan on Tuesday."
    last = quote_of(text, "When does the council meet?")  # the last paragraph: nothing after
    assert last.text == "The council meets again next week." and not last.cut_after


def test_a_short_quote_never_spills_past_a_heading() -> None:
    text = (
        "The mayor spoke about the harbour plan on Tuesday.\n\n"
        "Reaction from the council\n\n"  # a heading: no sentence of its own
        "Councillors said they would vote against the plan next week."
    )
    quote = quote_of(text, "What did the mayor say about the harbour plan?")
    assert quote.text == "The mayor spoke about the harbour plan on Tuesday."


def test_a_paragraph_without_sentence_marks_is_quoted_by_a_window() -> None:
    filler = "ฝนตกหนักในเมืองเมื่อวานนี้ " * 20  # Thai: no sentence marks, spaces between phrases
    text = f"{filler}สะพานใหม่เปิดใช้งานแล้ว {filler}"
    index = archive([Article(id="th", title="ข่าว", text=text, language="th")])
    quote = first_quote(AnswerEngine(lambda: index, ANALYZER), "สะพานใหม่")
    assert len(quote.text) <= QuoteRules().window_chars < len(text)
    assert "สะพานใหม่" in quote.text and quote.cut_before and quote.cut_after


def test_quotes_keep_to_three_sentences_and_480_characters() -> None:
    sentence = "The harbour plan was debated again by the council today."
    quote = quote_of(" ".join([sentence] * 8), "harbour plan council")
    assert quote.text.count(".") <= 3 and len(quote.text) <= 480
    long = "A " + "very " * 150 + "long sentence finally names the harbour plan at the end."
    quote = quote_of(long, "harbour plan")
    assert len(quote.text) <= 480 and "harbour plan" in quote.text and quote.cut_before


def test_shortening_a_quote_cuts_after_a_sentence_in_any_script() -> None:
    def shortened(text: str, keep: int) -> str:
        citation = Citation("x", "Title", "", None, "", 1)
        return _shorten(Quote(text, (), 1.0, citation, 0, len(text), False, False), keep).text

    chinese = "成都3月2日电 " + "新华社记者今天报道了港口的新计划。" * 6 + "第二天继续讨论。" * 6
    cut = shortened(chinese, 150)
    assert 80 <= len(cut) <= 150 and cut.endswith("。")  # not at the dateline's space
    french = "Le président a dit: " + "x" * 400
    assert len(shortened(french, 150)) == 150  # no sentence end, no late space: at the limit
    english = "The council met. " + "It debated the harbour plan for hours and hours. " * 5
    assert shortened(english, 150).endswith("hours.")


def test_the_first_reply_fits_1500_characters_with_its_citations() -> None:
    title = "A very long headline about the harbour plan " * 6
    towns = {
        "Leeds": "rain bus market wool canal mill",
        "York": "walls minster rail chocolate river ghost",
        "Hull": "docks fish bridge ferry tide trawler",
        "Bath": "spa roman abbey crescent stone hill",
    }
    articles = [
        Article(
            id=town,
            title=f"{title}{town}",
            text=" ".join(
                f"The harbour plan was debated by the council of {town} again today, near "
                f"the {word}, for hours, while residents waited outside in the cold to "
                "hear what the council would decide about the harbour plan."
                for word in words.split()
            ),
            source="Daily",
        )
        for town, words in towns.items()
    ]
    answer = engine(articles).ask("harbour plan council debated")
    assert len(answer.quotes) >= 3
    unfitted = engine(articles).rank("harbour plan council debated")  # quotes as cut...
    wide = AnswerEngine(lambda: unfitted.index, ANALYZER, AnswerSettings(reply_chars=10**6))
    assert reply_length(wide.answer(unfitted).quotes[:3]) > 1500  # ...would not fit
    assert reply_length(answer.quotes[:3]) <= 1500
    page, shown = answer_page(answer, 0, texts_for("en"), 3)
    assert shown == 3 and visible_len(page) <= 1500


# -- follow-ups ----------------------------------------------------------------------------------

FOLLOW_UPS = [
    Article(
        id="harbour",
        title="Harbour dredging plan approved",
        text=(
            "The council approved the harbour dredging plan on Tuesday.\n\n"
            "Fishermen opposed the dredging, saying it would harm the harbour's fish stocks."
        ),
    ),
    Article(
        id="stadium",
        title="Stadium vote",
        text="Residents opposed the stadium because of the noise it would bring.",
    ),
]


def test_a_follow_up_is_asked_in_the_context_of_the_earlier_question() -> None:
    follow = engine(FOLLOW_UPS)
    assert first_quote(follow, "Who opposed it?").citation.article_id == "stadium"
    context = AskContext(previous_question="Did the council approve the harbour dredging plan?")
    quote = first_quote(follow, "Who opposed it?", context)
    assert quote.citation.article_id == "harbour" and "Fishermen" in quote.text


def test_the_new_question_outweighs_the_earlier_one() -> None:
    context = AskContext(previous_question="Did the council approve the harbour dredging plan?")
    quote = first_quote(engine(FOLLOW_UPS), "Why did residents oppose the stadium?", context)
    assert quote.citation.article_id == "stadium"


def test_a_follow_up_without_searchable_words_uses_the_earlier_question() -> None:
    follow = engine(FOLLOW_UPS)
    assert follow.ask("And when?").status is AnswerStatus.NO_TERMS
    context = AskContext(previous_question="Did the council approve the harbour dredging plan?")
    assert "Tuesday" in first_quote(follow, "And when?", context).text


def test_a_question_about_one_article_quotes_only_it() -> None:
    text = "\n\n".join(f"Paragraph {n} says the harbour plan changed again." for n in range(6))
    articles = [
        Article(id="one", title="Harbour plan", text=text),
        Article(id="two", title="Harbour plan, again", text=text.replace("changed", "moved")),
    ]
    follow = engine(articles)
    assert {q.citation.article_id for q in follow.ask("harbour plan").quotes} == {"one", "two"}
    answer = follow.ask("harbour plan", AskContext(article_id="two"))
    assert len(answer.quotes) > 2  # the two-quotes-per-article rule does not apply
    assert {q.citation.article_id for q in answer.quotes} == {"two"}
    assert follow.ask("stadium noise", AskContext(article_id="two")).status is AnswerStatus.NO_MATCH
    assert follow.ask("harbour plan", AskContext(article_id="gone")).status is AnswerStatus.NO_MATCH
