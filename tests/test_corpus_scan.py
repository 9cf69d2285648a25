"""Listing a corpus (stats only) and reading its files one at a time, streamed."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

import pytest

from bot.articles import (
    Article,
    CorpusFile,
    SkippedFile,
    iter_article_file,
    list_corpus,
    read_article_file,
    read_corpus,
)
from bot.articles.records import MAX_RECORD_BYTES

STORY = "Harbour bridge reopens\n\nThe bridge reopened on Monday after repairs.\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(*records: object) -> str:
    return "".join(f"{json.dumps(r)}\n" for r in records)


def read_all(file: CorpusFile) -> tuple[list[Article], list[SkippedFile]]:
    items = list(iter_article_file(file))
    assert items, "every file yields an article or a reason"
    articles = [i for i in items if isinstance(i, Article)]
    return articles, [i for i in items if isinstance(i, SkippedFile)]


def only_file(directory: Path) -> CorpusFile:
    [file], skipped = list_corpus(directory)
    assert skipped == []
    return file


# --- listing ----------------------------------------------------------------------------


def test_list_corpus_gives_sorted_files_with_their_stat(tmp_path: Path) -> None:
    write(tmp_path / "b.txt", STORY)
    write(tmp_path / "a" / "z.md", "# Z\n\nBody.")
    write(tmp_path / "a" / ".draft.md", "hidden")
    write(tmp_path / ".git" / "config.txt", "hidden")
    write(tmp_path / "notes.docx", "listed: the reader gives the reason")
    files, skipped = list_corpus(tmp_path)
    assert [f.relpath for f in files] == ["a/z.md", "b.txt", "notes.docx"]
    assert skipped == []
    for file in files:
        info = os.stat(tmp_path / file.relpath)
        assert file.path == tmp_path.resolve() / file.relpath
        assert (file.size, file.mtime_ns) == (info.st_size, info.st_mtime_ns)


def test_list_corpus_on_a_missing_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        list_corpus(tmp_path / "missing")


def test_a_fifo_is_reported_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")  # opening it for reading would block the scan
    write(tmp_path / "story.txt", STORY)
    assert list_corpus(tmp_path)[1] == [SkippedFile("pipe.txt", "not a regular file")]
    scan = read_corpus(tmp_path)
    assert [a.path for a in scan.articles] == ["story.txt"]


def test_a_file_replaced_by_a_fifo_after_listing_is_not_read(tmp_path: Path) -> None:
    file = only_file(write(tmp_path / "story.txt", STORY).parent)
    (tmp_path / "story.txt").unlink()
    os.mkfifo(tmp_path / "story.txt")
    assert read_all(file) == ([], [SkippedFile("story.txt", "not a regular file")])


def test_a_file_removed_after_listing_is_reported(tmp_path: Path) -> None:
    file = only_file(write(tmp_path / "story.txt", STORY).parent)
    (tmp_path / "story.txt").unlink()
    assert read_all(file) == (
        [],
        [SkippedFile("story.txt", "unreadable: No such file or directory")],
    )


# --- names that are not UTF-8 -------------------------------------------------------------


def test_a_file_name_that_is_not_utf8_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    root = os.fsencode(tmp_path)
    with open(root + b"/caf\xe9.txt", "wb") as bad:
        bad.write(STORY.encode())
    os.mkdir(root + b"/r\xe9sum\xe9s")
    with open(root + b"/r\xe9sum\xe9s/story.txt", "wb") as inside:
        inside.write(STORY.encode())
    write(tmp_path / "good.txt", STORY)

    scan = read_corpus(tmp_path)
    assert [a.path for a in scan.articles] == ["good.txt"]
    assert scan.skipped == [
        SkippedFile("caf\\xe9.txt", "file name is not valid UTF-8: rename the file"),
        SkippedFile("r\\xe9sum\\xe9s", "folder name is not valid UTF-8: rename the folder"),
    ]
    # Reports and the index store these as UTF-8 text (JSON, SQLite).
    json.dumps([s.path for s in scan.skipped], ensure_ascii=False).encode("utf-8")
    bad_path = Path(os.fsdecode(root + b"/caf\xe9.txt"))
    assert read_article_file(bad_path, tmp_path)[1][0].path == "caf\\xe9.txt"


def test_record_ids_and_fields_with_lone_surrogates_become_valid_text(tmp_path: Path) -> None:
    record = '{"id": "k\\ud800", "title": "Caf\\udce9", "text": "Body \\udfff."}\n'
    [article], _ = read_all(only_file(write(tmp_path / "feed.jsonl", record).parent))
    for value in (article.id, article.path, article.title, article.text):
        value.encode("utf-8")
    assert (article.path, article.title) == ("feed.jsonl#k\ufffd", "Caf\ufffd")


# --- links ------------------------------------------------------------------------------


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    write(root / "2024" / "story.txt", STORY)
    write(root / ".drafts" / "secret.txt", "Draft headline here\n\nNot yet public.")
    write(tmp_path / "outside.txt", "Root password\n\nThe password is hunter2.")
    write(tmp_path / ".env", "BOT_TOKEN=123:abc")
    return root


def test_links_inside_the_corpus_are_followed_and_none_leads_out(corpus: Path) -> None:
    (corpus / "latest.txt").symlink_to("2024/story.txt")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "env.txt").symlink_to("../.env")
    (corpus / "outside.txt").symlink_to(corpus.parent / "outside.txt")
    (corpus / "draft.txt").symlink_to(".drafts/secret.txt")
    (corpus / "archive").symlink_to("2024")
    (corpus / "gone.txt").symlink_to("2024/missing.txt")
    (corpus / "loop.txt").symlink_to("loop.txt")

    scan = read_corpus(corpus)
    assert [a.path for a in scan.articles] == ["2024/story.txt", "latest.txt"]
    assert scan.articles[0].text == scan.articles[1].text
    assert scan.skipped == [
        SkippedFile("archive", "link to a folder (links are followed to files only)"),
        SkippedFile("draft.txt", "link leads to a hidden file"),
        SkippedFile("env.txt", "link leads outside the corpus folder"),
        SkippedFile("gone.txt", "broken link (nothing at its target)"),
        SkippedFile("loop.txt", "unreadable link: Too many levels of symbolic links"),
        SkippedFile("outside.txt", "link leads outside the corpus folder"),
        SkippedFile("passwd.txt", "link leads outside the corpus folder"),
    ]
    (corpus / "elsewhere").symlink_to(corpus.parent)
    for path in (corpus / "passwd.txt", corpus / "elsewhere" / "outside.txt"):
        relpath = path.relative_to(corpus).as_posix()
        assert read_article_file(path, corpus) == (
            [],
            [SkippedFile(relpath, "link leads outside the corpus folder")],
        )


def test_a_corpus_folder_reached_through_a_link_is_read(corpus: Path) -> None:
    (corpus.parent / "current").symlink_to(corpus.name)
    scan = read_corpus(corpus.parent / "current")
    assert ([a.path for a in scan.articles], scan.skipped) == (["2024/story.txt"], [])


# --- JSONL, streamed ----------------------------------------------------------------------


def test_jsonl_larger_than_the_file_cap_is_read_record_by_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.articles.scan.MAX_FILE_BYTES", 100)
    records = [{"id": str(n), "text": f"Story number {n}."} for n in range(50)]
    [articles, skipped] = read_all(
        only_file(write(tmp_path / "feed.jsonl", jsonl(*records)).parent)
    )
    assert skipped == []
    assert [a.path for a in articles] == [f"feed.jsonl#{n}" for n in range(50)]


def test_a_record_over_the_record_cap_is_skipped_without_being_held(tmp_path: Path) -> None:
    huge = {"id": "huge", "text": "x" * (5 * MAX_RECORD_BYTES)}
    text = jsonl({"id": "a", "text": "First."}, huge, {"id": "b", "text": "Last."})
    file = only_file(write(tmp_path / "feed.jsonl", text).parent)
    tracemalloc.start()
    try:
        articles, skipped = read_all(file)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [a.path for a in articles] == ["feed.jsonl#a", "feed.jsonl#b"]
    limit = MAX_RECORD_BYTES // 2**20
    assert skipped == [
        SkippedFile("feed.jsonl", f"feed.jsonl:2: record too large (20.0 MB, limit {limit} MB)")
    ]
    assert peak < 3 * MAX_RECORD_BYTES  # the 20 MB line was never held whole


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"text": "x", "n": ' + b"9" * 5000 + b"}", "invalid JSON: Exceeds the limit (4300"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid JSON: nested too deeply"),
        (b'{"text": "caf\xe9"}', "not UTF-8 text (byte 0xe9 at column 14)"),
        (b'{"text": ', "invalid JSON at column 10: Expecting value"),
        (b'{"text": "ok", "date": {"$date": [[[[[]]]]]}, "title": [1, [2, [3]]]}', None),
    ],
)
def test_one_bad_jsonl_line_skips_only_its_record(
    tmp_path: Path, line: bytes, reason: str | None
) -> None:
    good = [json.dumps({"id": str(n), "text": f"Story {n}."}).encode() for n in (1, 3)]
    (tmp_path / "feed.jsonl").write_bytes(b"\n".join([good[0], line, good[1]]) + b"\n")
    articles, skipped = read_all(only_file(tmp_path))
    assert {"feed.jsonl#1", "feed.jsonl#3"} <= {a.path for a in articles}
    if reason is None:
        assert skipped == [] and len(articles) == 3
    else:
        [skip] = skipped
        assert skip.path == "feed.jsonl" and skip.reason.startswith(f"feed.jsonl:2: {reason}")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"\n  \n\r\n", "whitespace only"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\n{}", "binary file (contains NUL bytes)"),
        ('{"text": "x"}'.encode("utf-16"), "binary file (contains NUL bytes)"),
    ],
)
def test_a_jsonl_file_with_nothing_to_read_is_one_skip(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    (tmp_path / "feed.jsonl").write_bytes(content)
    assert read_all(only_file(tmp_path)) == ([], [SkippedFile("feed.jsonl", reason)])


def test_jsonl_with_a_bom_and_crlf_lines(tmp_path: Path) -> None:
    content = (
        b"\xef\xbb\xbf" + jsonl({"id": "a", "text": "One."}, {"id": "b", "text": "Two."}).encode()
    )
    (tmp_path / "feed.jsonl").write_bytes(content.replace(b"\n", b"\r\n"))
    articles, skipped = read_all(only_file(tmp_path))
    assert ([a.path for a in articles], skipped) == (["feed.jsonl#a", "feed.jsonl#b"], [])


def test_reading_stops_cleanly_when_the_caller_stops(tmp_path: Path) -> None:
    text = jsonl(*({"id": str(n), "text": f"Story {n}."} for n in range(10)))
    items = iter_article_file(only_file(write(tmp_path / "feed.jsonl", text).parent))
    first = next(items)
    items.close()  # closes the file; nothing raised
    assert isinstance(first, Article) and first.path == "feed.jsonl#0"
