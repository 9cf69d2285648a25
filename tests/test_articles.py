"""Reading corpus files of every supported format into articles, and skipping bad ones."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from bot.articles import Article, SkippedFile, read_article_file, read_corpus
from bot.articles.dates import parse_date
from bot.articles.normalise import normalise_body

SEED = Path(__file__).parent.parent / "seeds" / "000_de0f464e244af8da.txt"


def read_one(path: Path) -> Article:
    articles, skipped = read_article_file(path, path.parent)
    assert skipped == []
    assert len(articles) == 1
    return articles[0]


def skip_reason(path: Path) -> str:
    articles, skipped = read_article_file(path, path.parent)
    assert articles == []
    assert len(skipped) == 1
    assert skipped[0].path == path.name
    return skipped[0].reason


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- plain text -------------------------------------------------------------------------


@pytest.fixture
def seed_article(tmp_path: Path) -> Article:
    return read_one(Path(shutil.copy(SEED, tmp_path / SEED.name)))


def test_seed_metadata(seed_article: Article) -> None:
    assert seed_article.title == (
        "Talk of banning TikTok sparks calls for a more open internet in China"
    )
    assert seed_article.date == dt.date(2020, 8, 16)
    assert seed_article.source == "AMN (originally Radio Free Asia)"
    assert seed_article.path == SEED.name


def test_seed_body_is_the_article_only(seed_article: Article) -> None:
    text = seed_article.text
    assert text.startswith("Ongoing negotiations between Microsoft and Beijing-based software")
    assert text.endswith("image internationally and win Beijing more allies.")
    promo, caption, date, reprint = "Telegram", "Pexels", "August 16, 2020", "with permission"
    for chrome in (promo, caption, date, reprint):
        assert chrome not in text
    assert seed_article.title not in text
    # Subheadings are content: kept as a paragraph of their own.
    assert "‘Diplomatic warfare’" in seed_article.paragraphs
    assert all(p and p == " ".join(p.split()) for p in seed_article.paragraphs)
    assert "\u00a0" not in text


OTHER_PAGE = """\
Home | World | Business

Follow The Daily Planet on Facebook for breaking news

Wind farm plans divide a small Scottish island
By Jane Doe and John Roe
Tuesday, 3 March 2021

Turbines seen from the harbour at dawn (Reuters/Jane Doe)

Residents of the island are split over plans for a 40-turbine wind farm that would double \
the local council's income but, opponents say, spoil views that draw thousands of visitors.

Advertisement

"We need the jobs," said one fisherman.

First published in The Highland Courier.
© 2021 The Daily Planet. All rights reserved.
"""


def test_scraped_page_rules_are_general(tmp_path: Path) -> None:
    article = read_one(write(tmp_path / "wind_farm.txt", OTHER_PAGE))
    assert article.title == "Wind farm plans divide a small Scottish island"
    assert article.author == "Jane Doe and John Roe"
    assert article.date == dt.date(2021, 3, 3)
    assert article.source == "The Daily Planet (originally The Highland Courier)"
    assert article.paragraphs == [
        "Residents of the island are split over plans for a 40-turbine wind farm that would "
        "double the local council's income but, opponents say, spoil views that draw "
        "thousands of visitors.",
        '"We need the jobs," said one fisherman.',
    ]


def test_text_header_block_and_agency_dateline(tmp_path: Path) -> None:
    text = (
        "Title: Oil prices rise\nDate: 26-FEB-1987 15:01:11.79\nURL: https://example.com/x\n"
        "Tags: oil, markets\n\n"
        "    NEW YORK (Reuters) - Oil prices rose sharply on Thursday as traders\n"
        "reacted to the cut in output announced by producers.\n"
        "    Analysts said the rise could last.\n"
    )
    article = read_one(write(tmp_path / "oil.txt", text))
    assert (article.title, article.date, article.url) == (
        "Oil prices rise",
        dt.date(1987, 2, 26),
        "https://example.com/x",
    )
    assert article.topics == ("oil", "markets")
    assert article.source == "Reuters"
    assert article.paragraphs == [
        "Oil prices rose sharply on Thursday as traders reacted to the cut in output "
        "announced by producers.",
        "Analysts said the rise could last.",
    ]


REUTERS_21578 = """\
26-FEB-1987 15:01:11.79
BAHIA COCOA REVIEW
    Showers continued throughout the week in the Bahia cocoa zone,
alleviating the drought since early January and improving
prospects for the coming temporao, although normal humidity
levels have not been restored, Comissaria Smith said in its
weekly review.
    The dry period means the temporao will be late this year.
"""


def test_hard_wrapped_reuters_text(tmp_path: Path) -> None:
    article = read_one(write(tmp_path / "reut2-000.txt", REUTERS_21578))
    assert (article.title, article.date) == ("BAHIA COCOA REVIEW", dt.date(1987, 2, 26))
    assert article.paragraphs == [
        "Showers continued throughout the week in the Bahia cocoa zone, alleviating the "
        "drought since early January and improving prospects for the coming temporao, "
        "although normal humidity levels have not been restored, Comissaria Smith said in "
        "its weekly review.",
        "The dry period means the temporao will be late this year.",
    ]


def test_sentences_that_resemble_boilerplate_stay(tmp_path: Path) -> None:
    text = (
        "Follow-up talks are planned, with updates expected on Friday, officials said.\n\n"
        "First published in 1990, the book sold a million copies.\n"
    )
    article = read_one(write(tmp_path / "talks.txt", text))
    assert article.title == "talks"
    assert article.text == normalise_body(text)


def test_text_without_title_falls_back_to_file_name(tmp_path: Path) -> None:
    body = "A single paragraph of body text, which is far too long to be a headline. " * 2
    article = read_one(write(tmp_path / "council_budget_vote.txt", body))
    assert article.title == "council budget vote"
    assert article.text == body.strip()


def test_text_of_boilerplate_only_is_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "promo.txt", "Subscribe to our newsletter\nAdvertisement\n")
    assert "no body text" in skip_reason(path)


@pytest.mark.parametrize(
    ("raw", "paragraphs"),
    [
        ("a\r\nb\r\n\r\nc", ["a", "b", "c"]),  # short lines that are not wraps stay apart
        (
            "This line was wrapped by an editor at a narrow\nwidth, so the two halves"
            " belong together.\n\n\n  Next   paragraph. ",
            [
                "This line was wrapped by an editor at a narrow width, so the two halves "
                "belong together.",
                "Next paragraph.",
            ],
        ),
        ("Cafe\u0301 \u200bcrème", ["Café crème"]),
    ],
)
def test_normalise_body(raw: str, paragraphs: list[str]) -> None:
    assert normalise_body(raw).split("\n\n") == paragraphs


@pytest.mark.parametrize(
    "text",
    [
        "2020-08-16",
        "2020-08-16T10:00:00Z",
        "August 16, 2020",
        "Aug 16, 2020",
        "16 August 2020",
        "16 Aug 2020",
        "Sunday, 16 August 2020",
        "Published: Aug. 16, 2020 10:00 AM EST",
        dt.date(2020, 8, 16),
        dt.datetime(2020, 8, 16, 23, 59),
    ],
)
def test_parse_date_formats(text: object) -> None:
    assert parse_date(text) == dt.date(2020, 8, 16)


@pytest.mark.parametrize(
    "text", ["2020-02-30", "Augtober 16, 2020", "On August 16, 2020 we", "", None, 7]
)
def test_parse_date_rejects_non_dates(text: object) -> None:
    assert parse_date(text) is None


# --- markdown ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "date_line", ["date: 2021-05-04", "date: '2021-05-04'", 'date: "May 4, 2021"']
)
def test_markdown_front_matter(tmp_path: Path, date_line: str) -> None:
    text = (
        f"---\ntitle: Budget passes\n{date_line}\nsource: City Desk\nlink: https://e.x/b\n"
        "author: Ann Lee\ntags: [budget, council]\n---\n\n"
        "The council **passed** the budget on a [narrow vote](https://e.x/v) of *five* to four.\n\n"
        "![chart](chart.png)\n\n## What changes\n\n- Bus fares fall\n- Parks get `more` money\n"
    )
    article = read_one(write(tmp_path / "budget.md", text))
    assert (article.title, article.date, article.source) == (
        "Budget passes",
        dt.date(2021, 5, 4),
        "City Desk",
    )
    assert (article.url, article.author) == ("https://e.x/b", "Ann Lee")
    assert article.topics == ("budget", "council")
    assert article.paragraphs == [
        "The council passed the budget on a narrow vote of five to four.",
        "What changes",
        "Bus fares fall",
        "Parks get more money",
    ]


def test_markdown_title_from_heading_and_comma_topics(tmp_path: Path) -> None:
    text = "---\ntopics: politics, local\n---\n# Mayor resigns\n\nThe mayor resigned today.\n"
    article = read_one(write(tmp_path / "mayor.markdown", text))
    assert (article.title, article.text, article.topics) == (
        "Mayor resigns",
        "The mayor resigned today.",
        ("politics", "local"),
    )


def test_markdown_without_front_matter_or_heading(tmp_path: Path) -> None:
    article = read_one(write(tmp_path / "late_news.md", "Just a paragraph.\n"))
    assert (article.title, article.text, article.date) == ("late news", "Just a paragraph.", None)


def test_markdown_with_broken_front_matter_is_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.md", "---\ntitle: [unclosed\n---\nBody.\n")
    assert skip_reason(path).startswith("invalid front matter: ")


# --- html -------------------------------------------------------------------------------

HTML_PAGE = """\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Harbour bridge reopens after repairs | The Coastal Herald</title>
<meta property="og:title" content="Harbour bridge reopens after repairs">
<meta property="og:site_name" content="The Coastal Herald">
<meta property="og:url" content="https://herald.example/news/bridge-reopens">
<meta property="article:published_time" content="2021-03-02T08:30:00Z">
<meta name="author" content="Maria Lopez">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/sport">Sport section</a></li></ul></nav>
<article>
<h1>Harbour bridge reopens after repairs</h1>
<p>The harbour bridge reopened to traffic on Monday morning after eleven months of
structural repairs that cost the city more than 40 million dollars.</p>
<p>Engineers replaced corroded steel cables and resurfaced the entire deck, the council
said in a statement, adding that the work finished two weeks ahead of schedule.</p>
<p>Commuters welcomed the reopening. "It used to take me an hour to get around the bay,"
said Tom Reed, a nurse who drives to the hospital every day.</p>
</article>
<footer><p>Copyright 2021 The Coastal Herald. Contact us for advertising enquiries.</p></footer>
</body></html>
"""


def test_html_page(tmp_path: Path) -> None:
    article = read_one(write(tmp_path / "bridge.html", HTML_PAGE))
    assert article.title == "Harbour bridge reopens after repairs"
    assert article.date == dt.date(2021, 3, 2)
    assert (article.source, article.author) == ("The Coastal Herald", "Maria Lopez")
    assert article.url == "https://herald.example/news/bridge-reopens"
    assert len(article.paragraphs) == 3
    assert article.text.startswith("The harbour bridge reopened to traffic on Monday morning")
    for chrome in ("Sport section", "Copyright", "advertising", article.title):
        assert chrome not in article.text


def test_html_is_skipped_with_the_reason_whentrafilatura_module_cannot_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.articles import html

    monkeypatch.setitem(sys.modules, "trafilatura", None)  # makes `import trafilatura` fail
    html.trafilatura_module.cache_clear()
    try:
        write(tmp_path / "bridge.html", HTML_PAGE)
        write(tmp_path / "note.txt", "A note\n\nThe harbour bridge reopened on Monday.")
        scan = read_corpus(tmp_path)
    finally:
        html.trafilatura_module.cache_clear()
    assert [a.path for a in scan.articles] == ["note.txt"]
    [skipped] = scan.skipped
    assert skipped.path == "bridge.html"
    assert skipped.reason.startswith("HTML extractor (trafilatura) unavailable: ModuleNotFound")


def test_html_without_content_is_skipped(tmp_path: Path) -> None:
    page = "<html><head><title>Hi</title></head><body><script>go()</script></body></html>"
    path = write(tmp_path / "empty.htm", page)
    assert "no main text" in skip_reason(path)


# --- records ----------------------------------------------------------------------------


WRAPPED = "A paragraph that an editor wrapped by hand at\nforty-odd columns.\n\nSecond para."


def test_json_list_of_records(tmp_path: Path) -> None:
    records = [
        {"_id": "a-1", "title": "First", "body": WRAPPED,
         "date": "2005-01-02", "category": "tech", "tags": ["ai", "tech"], "url": "https://e.x/1"},
        {"title": "Second", "content": "Only text.", "link": "https://e.x/2", "author": ["A", "B"]},
    ]  # fmt: skip
    path = write(tmp_path / "feed.json", json.dumps(records))
    articles, skipped = read_article_file(path, tmp_path)
    assert skipped == []
    first, second = articles
    assert (first.path, first.title, first.date, first.topics) == (
        "feed.json#a-1",
        "First",
        dt.date(2005, 1, 2),
        ("ai", "tech"),
    )
    assert first.paragraphs == [
        "A paragraph that an editor wrapped by hand at forty-odd columns.",
        "Second para.",
    ]
    # Without an id, the url names the record (never its position in the file).
    assert (second.path, second.url, second.author) == (
        "feed.json#https://e.x/2",
        "https://e.x/2",
        "A, B",
    )


def test_records_without_ids_keep_their_ids_when_the_feed_grows(tmp_path: Path) -> None:
    old = [{"title": "Budget passed", "text": "The budget passed.", "date": "2024-03-01"},
           {"text": "An untitled note about the harbour."}]  # fmt: skip
    new = [{"title": "Ferry strike", "text": "Ferries stopped.", "date": "2024-03-02"}, *old]
    before, _ = read_article_file(write(tmp_path / "feed.json", json.dumps(old)), tmp_path)
    after, _ = read_article_file(write(tmp_path / "feed.json", json.dumps(new)), tmp_path)
    assert [a.id for a in after[1:]] == [a.id for a in before]
    assert after[0].id not in {a.id for a in before}


def test_json_single_object_and_invalid_json(tmp_path: Path) -> None:
    article = read_one(write(tmp_path / "one.json", '{"text": "Hello there."}'))
    assert article.path.startswith("one.json#") and article.title == "one 1"
    reason = skip_reason(write(tmp_path / "bad.json", '{\n  "text": "x",\n  oops\n}'))
    assert reason.startswith("invalid JSON at line 3")


REUTERS_STYLE = "  Reuters-style paragraph, indented, then\nwrapped.\n  Paragraph two."


def test_jsonl_bad_lines_skip_only_their_record(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "k1", "title": "Ok", "text": "Fine."}),
        "",
        '{"title": "broken", "text": ',
        json.dumps({"title": "No text"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"_id": "k1", "text": "Same id again."}),
        json.dumps({"text": REUTERS_STYLE}),
    ]
    path = write(tmp_path / "feed.jsonl", "\n".join(lines))
    articles, skipped = read_article_file(path, tmp_path)
    assert articles[0].path == "feed.jsonl#k1"
    assert articles[1].path.startswith("feed.jsonl#") and articles[1].path != "feed.jsonl#7"
    assert articles[1].paragraphs == [
        "Reuters-style paragraph, indented, then wrapped.",
        "Paragraph two.",
    ]
    reasons = [s.reason for s in skipped]
    assert [r.split(":")[:2] for r in reasons] == [["feed.jsonl", str(n)] for n in (3, 4, 5, 6)]
    assert "invalid JSON" in reasons[0]
    assert "no text" in reasons[1]
    assert "duplicate" in reasons[3]
    assert all(s.path == "feed.jsonl" for s in skipped)


# --- bad files and the corpus walk ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b" \n\t\r\n ", "whitespace only"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (contains NUL bytes)"),
        ("controls.txt", bytes(range(1, 32)) * 4, "binary file (mostly control characters)"),
        ("latin1.txt", "Café au lait".encode("latin-1"), "not UTF-8 text (byte 0xe9 at offset 3)"),
        ("report.pdf", b"%PDF-1.4", "unsupported file type .pdf"),
        ("Makefile", b"all:", "unsupported file type (no extension)"),
        ("README.md", b"# About this corpus", "README file, not an article"),
        ("empty.json", b"[]", "no records"),
    ],
)
def test_bad_files_are_skipped_with_a_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert skip_reason(path) == reason


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffCafé owners protest new rules in the old town\n\nBody.".encode())
    article = read_one(path)
    assert article.title == "Café owners protest new rules in the old town"


def test_too_large_file_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.articles.scan.MAX_FILE_BYTES", 10)
    assert skip_reason(write(tmp_path / "big.txt", "x" * 11)).startswith("too large")


@pytest.mark.parametrize("name", ["secret.txt", "secret.jsonl"])
def test_unreadable_file_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path = write(tmp_path / name, '{"text": "Hidden text."}')
    real_open = os.open

    def refuse(file: object, flags: int, *args: object) -> int:
        if file == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, flags, *args)

    monkeypatch.setattr(os, "open", refuse)  # chmod would not stop root
    assert skip_reason(path) == "unreadable: Permission denied"


def test_read_corpus_is_sorted_recursive_and_ignores_hidden(tmp_path: Path) -> None:
    write(tmp_path / "b.md", "# Beta story\n\nBody b.")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "a.txt", "Alpha story headline here\n\nBody a.")
    write(tmp_path / ".draft.md", "# Hidden\n\nNo.")
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".git" / "x.txt", "Not an article at all\n\nNo.")
    write(tmp_path / "notes.docx", "x")

    first, second = read_corpus(tmp_path), read_corpus(tmp_path)
    assert [a.path for a in first.articles] == ["b.md", "sub/a.txt"]
    assert first.skipped == [SkippedFile("notes.docx", "unsupported file type .docx")]
    assert first.articles == second.articles
    ids = [a.id for a in first.articles]
    assert len(set(ids)) == 2
    assert all(len(i) == 16 for i in ids)


def test_read_corpus_never_raises_on_bad_files(tmp_path: Path) -> None:
    for index, content in enumerate(
        [b"", b"\x00\xff" * 9, b"\xff\xfe", b"{", b"[1, 2]", b"---\n: : :\n---\n", b"<html>", b"\n"]
    ):
        for suffix in (".txt", ".md", ".html", ".json", ".jsonl"):
            (tmp_path / f"f{index}{suffix}").write_bytes(content)
    scan = read_corpus(tmp_path)  # some of these are (odd) text articles, most are skipped
    read = {a.path.partition("#")[0] for a in scan.articles} | {s.path for s in scan.skipped}
    assert read == {p.name for p in tmp_path.iterdir()}
    assert len(scan.skipped) >= 30
    assert all(s.reason for s in scan.skipped)


def test_read_corpus_on_missing_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        read_corpus(tmp_path / "missing")


def test_wrapped_newswire_text_keeps_its_paragraphs() -> None:
    # Newswire layout: a short first line (a dateline was cut), paragraphs opened by indented
    # lines, one of them a single line followed directly by another indented paragraph.
    raw = (
        "Rain fell all week over the\n"
        "northern wheat belt, easing the drought that began early in January and lifting\n"
        "hopes for the harvest, the ministry said in its weekly report.\n"
        "    Planting will be late this season, traders said in the capital.\n"
        "    Shipments for the week ended March 3 were 120,000 tonnes against 95,000\n"
        "tonnes a year earlier, the port authority said.\n"
    )
    paragraphs = normalise_body(raw).split("\n\n")
    assert paragraphs == [
        "Rain fell all week over the northern wheat belt, easing the drought that began early "
        "in January and lifting hopes for the harvest, the ministry said in its weekly report.",
        "Planting will be late this season, traders said in the capital.",
        "Shipments for the week ended March 3 were 120,000 tonnes against 95,000 tonnes a year "
        "earlier, the port authority said.",
    ]


# --- language from metadata ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "language"),
    [
        ("a.md", "---\nlang: ru-RU\n---\nТекст статьи.\n", "ru"),
        ("b.md", "---\nlanguage: Persian\n---\nBody.\n", ""),
        ("c.md", "---\ntitle: No language\n---\nBody.\n", ""),
        ("d.json", '{"text": "Texto.", "language": "pt_BR"}', "pt"),
        ("e.jsonl", '{"text": "文本。", "lang": "zh-Hans"}\n', "zh"),
        ("f.txt", "Title: Oil prices rise\nLanguage: en-GB\n\nOil prices rose.\n", "en"),
        ("g.html", HTML_PAGE, "en"),
        ("h.html", HTML_PAGE.replace('<html lang="en">', "<html>"), ""),
        (
            "i.html",
            HTML_PAGE.replace('<html lang="en">', "<html>").replace(
                '<meta charset="utf-8">', '<meta property="og:locale" content="es_ES">'
            ),
            "es",
        ),
    ],
)
def test_language_comes_from_metadata(
    tmp_path: Path, name: str, content: str, language: str
) -> None:
    assert read_one(write(tmp_path / name, content)).language == language
