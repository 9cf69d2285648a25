"""`python bot.py` with a token: clear errors for a rejected token or an unreachable API, and
the token never printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fake_bot_api import FakeBotAPI
from helpers import ROOT

TOKEN = "987654:REJECTEDrejectedREJECTEDrejected00"


def _run_bot(tmp_path: Path, api_url: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
        "BOT_DATA_DIR": str(tmp_path / "data"),
        "BOT_CORPUS_DIR": str(ROOT / "corpus"),
        "BOT_LOG_LEVEL": "DEBUG",
    }
    return subprocess.run(
        [sys.executable, "bot.py"],
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
