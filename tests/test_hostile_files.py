"""Corpus files built to hurt (or just badly exported): each costs only itself."""

from __future__ import annotations

import json
from pathlib import Path

from bot.articles import read_article_file
from bot.articles.model import MAX_TITLE_CHARS


def test_a_record_with_a_300000_word_title_gets_a_capped_title(tmp_path: Path) -> None:
    record = {
        "id": "huge",
        "title": " ".join(["headline"] * 300_000),
        "text": "\n\n".join(f"Paragraph {i} of the story." for i in range(1000)),
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    [article], skipped = read_article_file(path, tmp_path)
    assert skipped == []
    assert len(article.title) <= MAX_TITLE_CHARS and article.title.endswith("headline…")
    assert len(article.paragraphs) == 1000
