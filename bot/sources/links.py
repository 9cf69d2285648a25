"""One article by link (``/add <url>``): the page fetched, its main text and metadata
extracted, written as ``links/<host>/<date>-<title>-<hash>.md``.

The file name ends in a hash of the canonical URL, and a link added again finds its file
by that hash: the article is updated in place and keeps its id (so it is announced once),
even if its title or date changed.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.articles.model import article_id
from bot.errors import NotASource

from .entries import canonical_link
from .fetch import Fetcher, Kind
from .files import ArticleDraft, slug, write_article
from .pages import extract_page, without_notices

LINKS_FOLDER = "links"


@dataclass(frozen=True, slots=True)
class LinkAdded:
    """An article written from a page: where, and what it says."""

    path: str  # relative to the corpus
    article_id: str
    draft: ArticleDraft
    updated: bool  # the link was added before: its article was rewritten


async def fetch_link(fetcher: Fetcher, corpus_dir: Path, url: str) -> LinkAdded:
    """Fetch, extract and write the article at ``url``; raises a SourceError saying why not.

    A paywall teaser is kept only for what it shows before the notice, marked partial."""
    async with fetcher.session() as session:  # every hop's URL is checked, the first too
        response = await session.get(url, Kind.PAGE)
    page = await asyncio.to_thread(extract_page, response.body, response.url, response.content_type)
    paragraphs = without_notices(page.paragraphs) if page.teaser else page.paragraphs
    if not paragraphs:
        raise NotASource("the page is a paywall teaser with no article text before the notice")
    link = canonical_link(url)
    host = urlsplit(link).hostname or "unknown"
    draft = ArticleDraft(
        title=page.title,
        paragraphs=paragraphs,
        url=url,
        source=page.site or host,
        date=page.date,
        author=page.author,
        tags=page.tags,
        language=page.language,
        partial=page.teaser,
        origin={"link": link},
    )
    return await asyncio.to_thread(_write, corpus_dir, link, host, draft)


def _write(corpus_dir: Path, link: str, host: str, draft: ArticleDraft) -> LinkAdded:
    folder = f"{LINKS_FOLDER}/{slug(host)}"
    tag = hashlib.sha1(link.encode()).hexdigest()[:10]
    existing = sorted((corpus_dir / folder).glob(f"*-{tag}.md"))
    if existing:
        relpath = existing[0].relative_to(corpus_dir).as_posix()
    else:
        day = draft.date.isoformat() if draft.date else "undated"
        relpath = f"{folder}/{day}-{slug(draft.title, 50)}-{tag}.md"
    write_article(corpus_dir, relpath, draft)
    return LinkAdded(relpath, article_id(relpath), draft, updated=bool(existing))
