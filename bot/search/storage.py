"""Index persistence in the data directory, with atomic replacement.

Layout: ``<data>/index/CURRENT`` names the live version directory (``v-…``). A build writes a
new version beside it and then replaces CURRENT in one ``os.replace``, so a build that fails
half-way leaves the previous index in service and a reader never sees a half-written one.
Arrays are plain ``.npy`` files loaded memory-mapped: start-up does not re-read or re-tokenise.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict
from pathlib import Path

import numpy as np

from bot.articles.model import Article, SkippedFile
from bot.search.bm25 import BM25Params, Postings
from bot.search.index import PassageTable, SearchIndex
from bot.text.passages import PassageRules

FORMAT_VERSION = 1
_ARRAYS = {
    "passages": ("article", "paragraph", "start", "end", "length", "token_offsets", "tokens"),
    "postings": ("indptr", "indices", "weights", "idf"),
}


class IndexNotFound(Exception):
    """No usable index in the data directory (never built, or another format version)."""


def _article_record(article: Article) -> dict:
    record = asdict(article)
    record["date"] = article.date.isoformat() if article.date else None
    record["topics"] = list(article.topics)
    return record


def _article_from(record: dict) -> Article:
    date = dt.date.fromisoformat(record["date"]) if record["date"] else None
    return Article(**{**record, "date": date, "topics": tuple(record["topics"])})


def save_index(index: SearchIndex, root: Path, manifest: dict[str, list[int]]) -> Path:
    """Write ``index`` as a new version under ``root`` and make it current; returns its dir."""
    root.mkdir(parents=True, exist_ok=True)
    name = f"v-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    staging = root / f".tmp-{name}"
    staging.mkdir()
    try:
        for group, columns in _ARRAYS.items():
            source = index.passages if group == "passages" else index.postings
            for column in columns:
                np.save(staging / f"{group}.{column}.npy", getattr(source, column))
        meta = {
            "format": FORMAT_VERSION,
            "built_at": index.built_at,
            "params": asdict(index.params),
            "rules": asdict(index.rules),
            "manifest": manifest,
            "skipped": [asdict(s) for s in index.skipped],
            "fingerprints": index.fingerprints,
        }
        _write_json(staging / "articles.json", [_article_record(a) for a in index.articles])
        _write_json(staging / "vocabulary.json", index.vocabulary)
        _write_json(staging / "meta.json", meta)  # written last: its presence marks completeness
        final = root / name
        # Another process (the bot, ``bot.py index``) may be publishing too: one at a time.
        with (root / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            os.replace(staging, final)
            pointer = root / ".CURRENT.tmp"
            pointer.write_text(name, encoding="utf-8")
            os.replace(pointer, root / "CURRENT")
            _remove_old_versions(root, keep=name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def _write_json(path: Path, value: object) -> None:
    with path.open("w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())


def _remove_old_versions(root: Path, keep: str) -> None:
    """Drop superseded versions. Another process (``bot.py index`` beside the running bot)
    may be writing a staging directory right now: only abandoned ones (a day old) go."""
    abandoned = time.time() - 86400
    for entry in root.iterdir():
        if not entry.is_dir() or entry.name == keep:
            continue
        if entry.name.startswith("v-") or (
            entry.name.startswith(".tmp-") and entry.stat().st_mtime < abandoned
        ):
            shutil.rmtree(entry, ignore_errors=True)


def current_version(root: Path) -> Path:
    try:
        name = (root / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotFound(f"no index in {root}") from None
    return root / name


def load_manifest(root: Path) -> dict[str, list[int]] | None:
    """The corpus manifest the current index was built from, or None if there is no index."""
    try:
        meta = json.loads((current_version(root) / "meta.json").read_text(encoding="utf-8"))
    except (IndexNotFound, FileNotFoundError, json.JSONDecodeError):
        return None
    return meta["manifest"] if meta.get("format") == FORMAT_VERSION else None


def load_index(root: Path) -> SearchIndex:
    """Load the current index; large arrays are memory-mapped, not read."""
    version = current_version(root)
    try:
        meta = json.loads((version / "meta.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        raise IndexNotFound(f"index at {version} is unreadable: {exc}") from exc
    if meta.get("format") != FORMAT_VERSION:
        raise IndexNotFound(f"index at {version} has format {meta.get('format')}")

    def arrays(group: str) -> dict[str, np.ndarray]:
        return {c: np.load(version / f"{group}.{c}.npy", mmap_mode="r") for c in _ARRAYS[group]}

    articles = json.loads((version / "articles.json").read_text(encoding="utf-8"))
    vocabulary = json.loads((version / "vocabulary.json").read_text(encoding="utf-8"))
    return SearchIndex(
        [_article_from(a) for a in articles],
        meta["fingerprints"],
        PassageTable(**arrays("passages")),
        vocabulary,
        Postings(**arrays("postings")),
        BM25Params(**meta["params"]),
        PassageRules(**meta["rules"]),
        built_at=meta["built_at"],
        skipped=[SkippedFile(**s) for s in meta["skipped"]],
    )


def corpus_manifest(corpus_dir: Path) -> dict[str, list[int]]:
    """``relative path → [size, mtime_ns]`` of every visible file: cheap change detection."""
    manifest = {}
    for dirpath, dirnames, filenames in os.walk(corpus_dir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            if filename.startswith("."):
                continue
            path = Path(dirpath, filename)
            try:
                stat = path.stat()
            except OSError:
                continue
            manifest[path.relative_to(corpus_dir).as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return manifest
