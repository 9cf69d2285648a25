"""Shared fixtures for the end-to-end tests: the fake Bot API server and the real bot on it.
Helpers shared by test modules are in ``helpers.py``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fake_bot_api import FakeBotAPI
from helpers import ADMIN, ROOT, TOKEN, stop_bot

from bot.config import Config
from bot.services import Services
from bot.telegram_app.app import build_application


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A private copy of the seed corpus (tests may add, change or break files in it)."""
    target = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", target)
    return target


@pytest.fixture
async def api():
    async with FakeBotAPI(token=TOKEN) as server:
        yield server


@pytest.fixture
async def start_bot(api, corpus_dir: Path, tmp_path: Path):
    """``await start_bot(data_dir=..., corpus_dir=...)``: the real Application polling ``api``.

    Returns the app once its start-up alert catch-up is done; its services are
    ``app.bot_data.services`` (opened by the app, or ``services=`` given). Every app started
    is stopped at teardown, and given services closed (``await stop_bot(app)`` stops one
    earlier, e.g. to restart).
    """
    apps = []
    given = []

    async def start(
        *,
        data_dir: Path | None = None,
        corpus: Path | None = None,
        services: Services | None = None,
        **config,
    ):
        cfg = Config(
            token=TOKEN,
            api_url=api.base_url,
            admins=frozenset({ADMIN}),
            corpus_dir=corpus or corpus_dir,
            data_dir=data_dir or tmp_path / "data",
            **config,
        )
        app = build_application(cfg, services)
        apps.append(app)
        if services is not None:
            given.append(services)
        await app.initialize()
        await app.post_init(app)  # run_polling calls post_init; a manual start must too
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.bot_data.catch_up
        return app

    yield start
    for app in reversed(apps):
        await stop_bot(app)
    for services in given:
        services.close()


@pytest.fixture
async def bot_env(api, start_bot):
    """(api, app, services) with the seed corpus, a fresh data dir and admin user 1."""
    app = await start_bot()
    return api, app, app.bot_data.services
