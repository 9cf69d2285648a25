"""Webhook mode end to end: `python bot.py` with BOT_WEBHOOK_URL registers the webhook with
its secret, answers an update POSTed to its local server, and refuses one without the secret."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from fake_bot_api import FakeBotAPI
from helpers import ROOT, TOKEN

SECRET = "webhook-secret-for-tests"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _post(port: int, update: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/telegram", json.dumps(update).encode(), headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _wait(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_webhook_mode(tmp_path: Path) -> None:
    port = _free_port()
    with FakeBotAPI.start_in_thread(token=TOKEN) as api:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": api.base_url,
            "BOT_WEBHOOK_URL": "https://bot.example.test/hooks",  # TLS ends at a proxy
            "BOT_WEBHOOK_PORT": str(port),
            "BOT_WEBHOOK_SECRET": SECRET,
            "BOT_DATA_DIR": str(tmp_path / "data"),
            "BOT_CORPUS_DIR": str(ROOT / "corpus"),
        }
        bot = subprocess.Popen(
            [sys.executable, "bot.py"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait(lambda: api.webhook.get("url") or bot.poll() is not None)
            assert bot.poll() is None, bot.communicate()[1][-2000:]
            assert api.webhook["url"] == "https://bot.example.test/hooks/telegram"
            assert api.webhook.get("secret_token") == SECRET
            # PTB may register the webhook a moment before its server accepts connections.
            _wait(lambda: _listening(port), timeout=30)

            message = {
                "message_id": 1,
                "date": int(time.time()),
                "text": "What did Pompeo accuse TikTok of?",
                "chat": {"id": 4242, "type": "private", "first_name": "Reader"},
                "from": {"id": 4242, "is_bot": False, "first_name": "Reader"},
            }
            assert _post(port, {"update_id": 1, "message": message}, secret=None) == 403
            assert _post(port, {"update_id": 2, "message": message}, secret=SECRET) == 200
            reply = _wait(lambda: api.sent_messages(4242))[0]
            assert "feeding data directly to the Chinese Communist Party" in reply["text"]
            assert len(api.sent_messages(4242)) == 1  # the update without the secret was dropped
        finally:
            bot.send_signal(signal.SIGINT)
            _, stderr = bot.communicate(timeout=30)
    assert TOKEN not in stderr
