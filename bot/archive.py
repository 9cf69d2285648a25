"""The archive as served: the live index and the answer engine reading it.

Its own module, apart from ``services``, so that answering one question from the command line
(``bot.py ask``) loads the index and the engine and nothing of the bot (store, sources,
Telegram): start-up time is most of what such a question costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.answers.engine import AnswerEngine
from bot.config import Config
from bot.search.index import SearchIndex
from bot.search.lifecycle import IndexManager, Progress, ReloadReport
from bot.text.analysis import Analyzer


@dataclass(slots=True)
class Archive:
    """The corpus as served: the live index and the engine answering from it."""

    manager: IndexManager
    analyzer: Analyzer
    engine: AnswerEngine = field(init=False)

    def __post_init__(self) -> None:
        self.engine = AnswerEngine(self.current_index, self.analyzer)

    @classmethod
    def open(cls, config: Config, progress: Progress | None = None) -> tuple[Archive, ReloadReport]:
        analyzer = Analyzer(default_language=config.language)
        manager = IndexManager(config.corpus_dir, config.index_dir, analyzer)
        report = manager.open(progress)
        return cls(manager, analyzer), report

    def current_index(self) -> SearchIndex:
        """The index in service right now; the one way every reader reaches it (the engine,
        the alert sender, /latest, /stats), so a reload's swap is seen everywhere at once."""
        index = self.manager.index
        if index is None:
            raise RuntimeError("the archive is not open")
        return index
