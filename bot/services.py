"""Wiring of the core services, shared by the command line, the console and Telegram."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers.engine import AnswerEngine
from bot.config import Config
from bot.search.index import Progress
from bot.search.lifecycle import IndexManager, ReloadReport
from bot.text.analysis import Analyzer


@dataclass(slots=True)
class Archive:
    """The corpus as served: the live index and the engine answering from it."""

    manager: IndexManager
    engine: AnswerEngine

    @classmethod
    def open(cls, config: Config, progress: Progress | None = None) -> tuple[Archive, ReloadReport]:
        analyzer = Analyzer()
        manager = IndexManager(config.corpus_dir, config.index_dir, analyzer)
        report = manager.open(progress)
        return cls(manager, AnswerEngine(lambda: manager.index, analyzer)), report
