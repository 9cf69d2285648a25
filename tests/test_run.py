"""`python bot.py` with a token: clear errors for a rejected token, an unreachable API or a
data directory in use by another instance, and the token never printed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fake_bot_api import FakeBotAPI
from helpers import ROOT

from bot.config import Config
from bot.errors import DataDirLocked
from bot.services import Services
from bot.store import AlertCounts

TOKEN = "987654:REJECTEDrejectedREJECTEDrejected00"
GOOD_TOKEN = "987654:ACCEPTEDacceptedACCEPTEDaccepted00"


def _run_bot(
    tmp_path: Path, api_url: str, token: str = TOKEN, command: list[str] | None = None
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_URL": api_url,
        "BOT_DATA_DIR": str(tmp_path / "data"),
        "BOT_CORPUS_DIR": str(ROOT / "corpus"),
        "BOT_LOG_LEVEL": "DEBUG",
    }
    return subprocess.run(
        [sys.executable, "bot.py", *(command or [])],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_rejected_token_gives_a_clear_error(tmp_path: Path) -> None:
    with FakeBotAPI.start_in_thread(token="111:the-server-knows-another-token") as api:
        result = _run_bot(tmp_path, api.base_url)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Telegram rejected TELEGRAM_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stdout + result.stderr


def test_unreachable_api_gives_a_clear_error(tmp_path: Path) -> None:
    result = _run_bot(tmp_path, "http://127.0.0.1:9/bot")  # discard port: connection refused
    assert result.returncode == 3, result.stderr[-2000:]
    assert "Cannot reach the Telegram Bot API" in result.stderr
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stdout + result.stderr


def test_token_is_redacted_from_tracebacks_too() -> None:
    import io
    import logging

    from bot.telegram_app.run import RedactToken

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactToken(TOKEN))
    log = logging.getLogger("test-redaction")
    log.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/getMe failed")
        except RuntimeError:
            log.exception("request to %s failed", f"/bot{TOKEN}/getMe")
    finally:
        log.removeHandler(handler)
    output = stream.getvalue()
    assert "RuntimeError" in output and "<token>" in output
    assert TOKEN not in output


# -- one bot or console per data directory (issue 13.11) ----------------------------------


def _subscribed_and_queued(config: Config) -> Services:
    services = Services.open(config)
    asyncio.run(services.catch_up_alerts())  # first start: the corpus is recorded as seen
    for chat in (1, 2, 3):
        services.subscriptions.subscribe(chat, "")
    services.outbox.queue_new_articles([("new", "New")], lambda _: [1, 2, 3])
    return services


def test_a_second_instance_is_refused_and_leaves_the_first_ones_leases(tmp_path: Path) -> None:
    config = Config(corpus_dir=ROOT / "corpus", data_dir=tmp_path / "data")
    first = _subscribed_and_queued(config)
    try:
        first.outbox.claim_batch(2)  # two alerts being sent right now by the first instance
        with pytest.raises(DataDirLocked) as refused:
            Services.open(config)
        assert str(config.data_dir) in str(refused.value)
        assert f"process {os.getpid()}" in str(refused.value)
        assert first.outbox.counts() == AlertCounts(pending=1, sending=2)
        assert [r.id for r in first.outbox.claim_batch(3)] == [3]  # leases still honoured
    finally:
        first.close()
    second = Services.open(config)  # the first is gone: its leases are recovered
    try:
        assert second.outbox.counts() == AlertCounts(pending=3)
    finally:
        second.close()


def test_bot_and_console_on_a_data_dir_in_use_exit_with_a_clear_error(tmp_path: Path) -> None:
    holder = Services.open(Config(corpus_dir=ROOT / "corpus", data_dir=tmp_path / "data"))
    try:
        with FakeBotAPI.start_in_thread(token=GOOD_TOKEN) as api, ThreadPoolExecutor() as pool:
            bot, console, ask = pool.map(
                lambda run: _run_bot(tmp_path, *run),
                [
                    (api.base_url, GOOD_TOKEN),
                    ("", "", ["console"]),
                    ("", "", ["ask", "What did Pompeo say?"]),  # readers need no lock
                ],
            )
            assert api.calls("getUpdates") == []  # the bot never started polling
    finally:
        holder.close()
    for result in (bot, console):
        assert result.returncode == 4, result.stderr[-2000:]
        assert f"the data directory {tmp_path / 'data'} is in use by process" in result.stderr
        assert "Traceback" not in result.stderr
    assert GOOD_TOKEN not in bot.stdout + bot.stderr
    assert ask.returncode == 0 and "Pompeo" in ask.stdout, ask.stderr[-2000:]
