"""HTML pages, through trafilatura's main-content extraction.

trafilatura already knows nav bars, footers, og:/article: meta tags and JSON-LD; it works
on the string it is given and never touches the network (no ``fetch_url`` here).

It is imported on first use, not with this module: it costs ~0.1 s of start-up that answering
a question does not need, and if it (or one of its many dependencies) cannot be imported, only
the ``.html`` files are skipped, with the reason, while everything else keeps working.
"""

from __future__ import annotations

import functools
import logging
from types import ModuleType
from typing import TYPE_CHECKING

from bot.errors import ArticleError

from .dates import parse_date
from .model import Article, article_id, fallback_title
from .normalise import clean_inline

if TYPE_CHECKING:
    from lxml.html import HtmlElement

log = logging.getLogger(__name__)


@functools.cache
def trafilatura_module() -> ModuleType | str:
    """The trafilatura module, or why it cannot be imported (asked once per process)."""
    try:
        import trafilatura
    except Exception as error:
        log.warning("HTML articles cannot be read: trafilatura does not import (%s)", error)
        return f"{type(error).__name__}: {error}"
    # trafilatura and its helpers log every page they reject, up to ERROR level ("empty HTML
    # tree"); each of those also becomes a SkippedFile reason, so the log lines are only noise.
    for name in ("trafilatura", "htmldate", "courlan", "justext"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return trafilatura


def read_html(text: str, relpath: str) -> Article:
    """The main article of an HTML page; trafilatura outputs one paragraph per line."""
    trafilatura = trafilatura_module()
    if isinstance(trafilatura, str):
        raise ArticleError(f"HTML extractor (trafilatura) unavailable: {trafilatura}")
    tree = trafilatura.load_html(text)
    if tree is None:
        raise ArticleError("no main text found in the HTML")
    document = trafilatura.bare_extraction(
        tree,  # trafilatura works on a copy, so the page's own tags stay readable below
        with_metadata=True,
        include_comments=False,
        include_images=False,
        include_links=False,
    )
    if document is None or not document.text:
        raise ArticleError("no main text found in the HTML")
    title = clean_inline(document.title or "")
    paragraphs = [p for p in map(clean_inline, document.text.split("\n")) if p]
    if paragraphs and paragraphs[0] == title:
        paragraphs.pop(0)
    if not paragraphs:
        raise ArticleError("no body text besides the title")
    topics = map(clean_inline, [*(document.categories or []), *(document.tags or [])])
    return Article(
        id=article_id(relpath),
        title=title or fallback_title(relpath),
        text="\n\n".join(paragraphs),
        source=clean_inline(document.sitename or ""),
        date=parse_date(document.date),
        url=document.url or "",
        author=clean_inline(document.author or ""),
        topics=tuple(dict.fromkeys(t for t in topics if t)),
        path=relpath,
        language=_page_language(tree),
    )


def _page_language(tree: HtmlElement) -> str:
    """The language the page declares: ``<html lang>`` (or ``xml:lang``), else a
    Content-Language or og:locale meta tag; normalised by :class:`Article`."""
    declared = tree.get("lang") or tree.get("xml:lang")  # the HTML parser keeps no namespaces
    if declared:
        return declared
    for meta in ('http-equiv="content-language"', 'property="og:locale"'):
        if (found := tree.find(f".//meta[@{meta}][@content]")) is not None:
            return found.get("content", "")
    return ""
