"""Walking a corpus directory: every file becomes articles or a reason it did not.

Nothing here raises for a bad file: a newsroom corpus always has a stray PDF, an empty
export or a half-written JSONL, and one of those must not keep the bot from starting.

Listing (:func:`list_corpus`, stats only) and reading (:func:`iter_article_file`, one file
at a time, streamed) are apart, so that an incremental indexer reads only what changed.

What is read is only ever inside the corpus folder: a link is followed when it leads to a
file inside the folder, never to a folder, and never out of it (a link to ``/etc/passwd`` or
``../.env`` would otherwise have the bot quote it); devices and FIFOs are not read at all.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from bot.errors import ArticleError

from .html import read_html
from .markdown import read_markdown
from .model import Article, CorpusScan, SkippedFile
from .plaintext import read_plain_text
from .records import read_json, read_jsonl

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024  # every format but JSONL, which is capped per record
# Share of control characters above which decoded "text" is really binary data.
_MAX_CONTROL_SHARE = 0.05
# Opening a FIFO for reading would block until a writer comes, and a link put in place of a
# listed file must not be followed: both are refused at open, whatever the listing saw.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)

_Reader = Callable[[str, str], Iterator[Article | SkippedFile]]


def _single(read: Callable[[str, str], Article]) -> _Reader:
    return lambda text, relpath: iter([read(text, relpath)])


_READERS: dict[str, _Reader] = {
    ".txt": _single(read_plain_text),
    ".md": _single(read_markdown),
    ".markdown": _single(read_markdown),
    ".html": _single(read_html),
    ".htm": _single(read_html),
    ".json": read_json,
}
_STREAMED = ".jsonl"


@dataclass(frozen=True, slots=True)
class CorpusFile:
    """A file of the corpus as listed, before it is read."""

    path: Path  # absolute path to read (a link's target, inside the corpus)
    relpath: str  # POSIX path relative to the corpus root; always valid UTF-8
    size: int  # st_size
    mtime_ns: int  # st_mtime_ns


def read_corpus(directory: Path) -> CorpusScan:
    """All articles under ``directory`` (recursively, hidden files and folders ignored),
    in relative-path order so that two reads of the same corpus give the same list.

    Raises NotADirectoryError only when ``directory`` itself is missing: that is a
    configuration mistake, not a bad file.
    """
    files, skipped = list_corpus(directory)
    scan = CorpusScan(skipped=skipped)
    for file in files:
        for item in iter_article_file(file):
            (scan.articles if isinstance(item, Article) else scan.skipped).append(item)
    scan.skipped.sort(key=lambda s: s.path)
    return scan


def list_corpus(directory: Path) -> tuple[list[CorpusFile], list[SkippedFile]]:
    """Every candidate file under ``directory``, sorted by relpath, with its stat; hidden
    files and folders ignored silently; non-UTF-8 names, links leading outside, non-regular
    files and unreadable folders reported as SkippedFile. Cheap: stats only, reads nothing.

    Raises NotADirectoryError only when ``directory`` itself is missing.
    """
    if not directory.is_dir():
        raise NotADirectoryError(f"corpus directory not found: {directory}")
    root = Path(os.path.realpath(directory))
    files: list[CorpusFile] = []
    skipped: list[SkippedFile] = []
    folders = [""]  # relpaths still to list; "" is the root
    while folders:
        folder = folders.pop()
        try:
            names = os.listdir(root / folder)
        except OSError as error:
            reason = f"unreadable directory: {error.strerror or error}"
            skipped.append(SkippedFile(folder or ".", reason))
            continue
        for name in names:
            if name.startswith("."):
                continue
            relpath = f"{folder}/{name}" if folder else name
            found = _list_entry(root, relpath)
            if found is None:
                folders.append(relpath)
            elif isinstance(found, CorpusFile):
                files.append(found)
            else:
                skipped.append(found)
    files.sort(key=lambda f: f.relpath)
    skipped.sort(key=lambda s: s.path)
    return files, skipped


def _list_entry(root: Path, relpath: str) -> CorpusFile | SkippedFile | None:
    """The file at ``root/relpath``, None for a folder to list, or why it is not read."""
    path = root / relpath
    try:
        info = os.lstat(path)
    except OSError as error:
        return SkippedFile(_printable(relpath), f"unreadable: {error.strerror or error}")
    if (printable := _printable(relpath)) != relpath:
        what = "folder" if stat.S_ISDIR(info.st_mode) else "file"
        return SkippedFile(printable, f"{what} name is not valid UTF-8: rename the {what}")
    if stat.S_ISDIR(info.st_mode):
        return None
    if stat.S_ISLNK(info.st_mode):
        path = Path(os.path.realpath(path))
        if not path.is_relative_to(root):
            return SkippedFile(relpath, "link leads outside the corpus folder")
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            return SkippedFile(relpath, "link leads to a hidden file")
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return SkippedFile(relpath, "broken link (nothing at its target)")
        except OSError as error:
            return SkippedFile(relpath, f"unreadable link: {error.strerror or error}")
        if stat.S_ISDIR(info.st_mode):
            return SkippedFile(relpath, "link to a folder (links are followed to files only)")
    if not stat.S_ISREG(info.st_mode):
        return SkippedFile(relpath, "not a regular file")
    return CorpusFile(path, relpath, info.st_size, info.st_mtime_ns)


def _printable(relpath: str) -> str:
    """``relpath`` as valid UTF-8: a name that is not (the OS hands its bytes over as
    surrogates) gets its bad bytes escaped, "caf\\xe9.txt", so that reports can show it and
    the index can store it."""
    try:
        relpath.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(relpath).decode("utf-8", "backslashreplace")
    return relpath


def read_article_file(path: Path, root: Path) -> tuple[list[Article], list[SkippedFile]]:
    """The articles in one file under ``root`` (several for JSON/JSONL records), and what
    was skipped."""
    relpath = path.relative_to(root).as_posix()
    real_root = Path(os.path.realpath(root))
    # The listing never enters a linked folder; a path given here may lie in one.
    if not Path(os.path.realpath(path.parent)).is_relative_to(real_root):
        return [], [SkippedFile(_printable(relpath), "link leads outside the corpus folder")]
    found = _list_entry(real_root, relpath)
    if not isinstance(found, CorpusFile):
        return [], [found or SkippedFile(relpath, "not a regular file")]
    articles: list[Article] = []
    skipped: list[SkippedFile] = []
    for item in iter_article_file(found):
        (articles if isinstance(item, Article) else skipped).append(item)
    return articles, skipped


def iter_article_file(file: CorpusFile) -> Iterator[Article | SkippedFile]:
    """The articles of one file, streamed: a .jsonl file is read line by line from disk
    (never whole into memory), with a per-record size cap (``MAX_RECORD_BYTES``) instead of
    the per-file cap, so a JSONL export of any size can be indexed; other formats are read
    whole with the per-file cap (:data:`MAX_FILE_BYTES`). Never raises for a bad file, and
    yields at least one item: a file with nothing to index is one SkippedFile."""
    try:
        yield from _read_file(file)
    except ArticleError as error:
        yield SkippedFile(file.relpath, str(error))
    except OSError as error:
        yield SkippedFile(file.relpath, f"unreadable: {error.strerror or error}")
    except Exception as error:
        logger.warning("failed to read %s", file.relpath, exc_info=True)
        yield SkippedFile(file.relpath, f"could not be read: {type(error).__name__}: {error}")


def _read_file(file: CorpusFile) -> Iterator[Article | SkippedFile]:
    name = PurePosixPath(file.relpath)
    suffix = name.suffix.lower()
    if name.name.upper().startswith("README"):
        raise ArticleError("README file, not an article")
    if suffix == _STREAMED:
        with _open_regular(file.path) as stream:
            yield from read_jsonl(stream, file.relpath)
        return
    if (reader := _READERS.get(suffix)) is None:
        raise ArticleError(f"unsupported file type {suffix or '(no extension)'}")
    yield from reader(_load_text(file.path), file.relpath)


def _open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading, or an ArticleError when it is no longer a regular file."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ArticleError("not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _load_text(path: Path) -> str:
    """The file's text, or an ArticleError saying why it is not usable text."""
    with _open_regular(path) as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise ArticleError(
                f"too large ({size / 2**20:.1f} MB, limit {MAX_FILE_BYTES // 2**20} MB)"
            )
        data = stream.read(MAX_FILE_BYTES + 1)  # bounded even if the file grows meanwhile
    if len(data) > MAX_FILE_BYTES:
        raise ArticleError(f"too large (over the limit of {MAX_FILE_BYTES // 2**20} MB)")
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
