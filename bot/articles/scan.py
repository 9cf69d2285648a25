"""Walking a corpus directory: every file becomes articles or a reason it did not.

Nothing here raises for a bad file: a newsroom corpus always has a stray PDF, an empty
export or a half-written JSONL, and one of those must not keep the bot from starting.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

from .html import read_html
from .markdown import read_markdown
from .model import Article, ArticleError, CorpusScan, SkippedFile
from .plaintext import read_plain_text
from .records import read_json, read_jsonl

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024
# Share of control characters above which decoded "text" is really binary data.
_MAX_CONTROL_SHARE = 0.05

_Reader = Callable[[str, str], tuple[list[Article], list[SkippedFile]]]


def _single(read: Callable[[str, str], Article]) -> _Reader:
    return lambda text, relpath: ([read(text, relpath)], [])


_READERS: dict[str, _Reader] = {
    ".txt": _single(read_plain_text),
    ".md": _single(read_markdown),
    ".markdown": _single(read_markdown),
    ".html": _single(read_html),
    ".htm": _single(read_html),
    ".json": read_json,
    ".jsonl": read_jsonl,
}


def read_corpus(directory: Path) -> CorpusScan:
    """All articles under ``directory`` (recursively, hidden files and folders ignored),
    in relative-path order so that two reads of the same corpus give the same list.

    Raises NotADirectoryError only when ``directory`` itself is missing: that is a
    configuration mistake, not a bad file.
    """
    if not directory.is_dir():
        raise NotADirectoryError(f"corpus directory not found: {directory}")
    scan = CorpusScan()
    for path in _corpus_files(directory, scan.skipped):
        articles, skipped = read_article_file(path, directory)
        scan.articles += articles
        scan.skipped += skipped
    scan.skipped.sort(key=lambda s: s.path)
    return scan


def _corpus_files(directory: Path, skipped: list[SkippedFile]) -> list[Path]:
    def unreadable(error: OSError) -> None:
        where = Path(error.filename or directory).relative_to(directory).as_posix()
        skipped.append(SkippedFile(where, f"unreadable directory: {error.strerror or error}"))

    files: list[Path] = []
    for folder, subfolders, names in os.walk(directory, onerror=unreadable):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        files += [Path(folder, name) for name in names if not name.startswith(".")]
    return sorted(files, key=lambda path: path.relative_to(directory).as_posix())


def read_article_file(path: Path, root: Path) -> tuple[list[Article], list[SkippedFile]]:
    """The articles in one file (several for JSON/JSONL records), and what was skipped."""
    relpath = path.relative_to(root).as_posix()
    reader = _READERS.get(path.suffix.lower())
    try:
        if path.name.upper().startswith("README"):
            raise ArticleError("README file, not an article")
        if reader is None:
            raise ArticleError(f"unsupported file type {path.suffix.lower() or '(no extension)'}")
        return reader(_load_text(path), relpath)
    except ArticleError as error:
        return [], [SkippedFile(relpath, str(error))]
    except Exception as error:
        logger.warning("failed to read %s", relpath, exc_info=True)
        return [], [SkippedFile(relpath, f"could not be read: {type(error).__name__}: {error}")]


def _load_text(path: Path) -> str:
    """The file's text, or an ArticleError saying why it is not usable text."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ArticleError("not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise ArticleError(
                f"too large ({info.st_size / 2**20:.1f} MB, limit {MAX_FILE_BYTES // 2**20} MB)"
            )
        data = path.read_bytes()
    except OSError as error:
        raise ArticleError(f"unreadable: {error.strerror or error}") from None
    return decode_text(data)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) text, refusing empty, binary and other encodings.

    No guessing at latin-1/cp1252: a wrong guess silently corrupts quotes shown to readers,
    while a skip reason tells the editor to re-export the file.
    """
    if not data:
        raise ArticleError("empty file")
    if b"\x00" in data:
        raise ArticleError("binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        offset = error.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        raise ArticleError(
            f"not UTF-8 text (byte 0x{data[offset]:02x} at offset {offset})"
        ) from None
    if not text.strip():
        raise ArticleError("whitespace only")
    controls = sum(1 for char in text if char < " " and char not in "\t\n\r\f\v")
    if controls > _MAX_CONTROL_SHARE * len(text):
        raise ArticleError("binary file (mostly control characters)")
    return text


# --- interim API (replaced by the articles branch) --------------------------------------------
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402


@dataclass(frozen=True, slots=True)
class CorpusFile:
    path: Path
    relpath: str
    size: int
    mtime_ns: int


def list_corpus(directory: Path) -> tuple[list[CorpusFile], list[SkippedFile]]:
    if not directory.is_dir():
        raise NotADirectoryError(f"corpus directory not found: {directory}")
    skipped: list[SkippedFile] = []
    files = []
    for path in _corpus_files(directory, skipped):
        try:
            info = path.stat()
        except OSError as error:
            skipped.append(SkippedFile(path.relative_to(directory).as_posix(), str(error)))
            continue
        files.append(CorpusFile(path, path.relative_to(directory).as_posix(), info.st_size, info.st_mtime_ns))
    return files, skipped


def iter_article_file(file: CorpusFile) -> Iterator[Article | SkippedFile]:
    root = file.path
    for _ in file.relpath.split("/"):
        root = root.parent
    articles, skipped = read_article_file(file.path, root)
    yield from articles
    yield from skipped
