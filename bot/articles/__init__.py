"""Reading a newsroom's corpus directory into :class:`Article` objects.

Formats: scraped plain text (.txt), Markdown with YAML front matter (.md, .markdown),
HTML (.html, .htm), JSON records (.json: an object or a list) and JSON Lines (.jsonl).
"""

from .model import Article, CorpusScan, SkippedFile
from .scan import CorpusFile, iter_article_file, list_corpus, read_article_file, read_corpus

__all__ = [
    "Article",
    "CorpusFile",
    "CorpusScan",
    "SkippedFile",
    "iter_article_file",
    "list_corpus",
    "read_article_file",
    "read_corpus",
]
