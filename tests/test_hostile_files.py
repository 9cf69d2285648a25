"""Corpus files built to hurt (or just badly exported): each costs only itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.articles import SkippedFile, read_article_file
from bot.articles.fields import MAX_FIELD_CHARS, text_value
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


def alias_bomb(levels: int) -> str:
    """Front matter whose title nests ``levels`` lists of nine aliases ("billion laughs")."""
    lines = ["---", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, levels)]
    lines += [
        f"title: *a{levels - 1}",
        "---",
        "The council passed the budget on Tuesday after a long debate about bus fares.",
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [4, 9])
def test_yaml_alias_bomb_is_refused_not_expanded(tmp_path: Path, levels: int) -> None:
    if levels == 9:
        assert len(alias_bomb(levels).encode()) == 601  # the probe's file: 24 GB if expanded
    path = tmp_path / "bomb.md"
    path.write_text(alias_bomb(levels), encoding="utf-8")
    assert read_article_file(path, tmp_path) == (
        [],
        [
            SkippedFile(
                "bomb.md",
                "invalid front matter: YAML anchors and aliases (&name, *name) are not "
                "allowed (line 2)",
            )
        ],
    )


@pytest.mark.parametrize(
    ("front_matter", "reason"),
    [
        ("title: Budget\ndate: 2021-02-30", "invalid front matter: day is out of range for month"),
        (
            f"title: {'9' * 5000}",
            "invalid front matter: Exceeds the limit (4300 digits) for integer string conversion:"
            " value has 5000 digits",
        ),
        (f"tags: {'[' * 100_000}{']' * 100_000}", "invalid front matter: nested too deeply"),
    ],
)
def test_front_matter_values_yaml_cannot_build_skip_the_file(
    tmp_path: Path, front_matter: str, reason: str
) -> None:
    path = tmp_path / "odd.md"
    path.write_text(f"---\n{front_matter}\n---\nBody text.\n", encoding="utf-8")
    assert read_article_file(path, tmp_path) == ([], [SkippedFile("odd.md", reason)])


def test_a_list_field_is_converted_only_as_far_as_it_can_be_shown() -> None:
    nested: list[object] = ["lol"] * 9
    for _ in range(5):
        nested = [nested] * 9  # shared, as a YAML loader shares an alias: 9**6 strings
    assert len(text_value(nested)) < 2 * MAX_FIELD_CHARS


def test_a_huge_record_id_is_hashed_in_the_article_path(tmp_path: Path) -> None:
    records = [{"id": "k" * 100_000, "text": "One."}, {"id": "k" * 100_001, "text": "Two."}]
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    first, second = read_article_file(path, tmp_path)[0]
    assert len(first.path) < 40 and first.path.startswith("feed.json#")
    assert first.id != second.id
    assert read_article_file(path, tmp_path)[0][0].id == first.id  # stable
