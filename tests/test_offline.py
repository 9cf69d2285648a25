"""The bot works offline: no NLTK data, no downloads, no network; the CLI behaves."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "What did Pompeo accuse TikTok of?"


def offline_env(tmp_path: Path) -> dict[str, str]:
    """An environment where no NLTK data can be found and no download can succeed."""
    nltk_data, home, data = tmp_path / "nltk_data", tmp_path / "home", tmp_path / "data"
    for folder in (nltk_data, home, data):
        folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BOT_", "NLTK_"))}
    env.update(
        NLTK_DATA=str(nltk_data),
        HOME=str(home),
        BOT_DATA_DIR=str(data),
        TELEGRAM_BOT_TOKEN="",  # wins over any developer .env
        # A download attempt would go through this dead proxy and fail.
        http_proxy="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def test_ask_json_works_without_nltk_data(tmp_path: Path) -> None:
    env = offline_env(tmp_path)
    result = subprocess.run(
        [sys.executable, "bot.py", "ask", "--json", QUESTION],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["question"] == QUESTION
    assert answer["status"] == "answered"
    assert "feeding data directly to the Chinese Communist Party" in answer["quotes"][0]["text"]
    assert "nltk" not in result.stderr.lower()
    # Nothing was fetched into the places NLTK would put data, and the index went to BOT_DATA_DIR.
    assert list((tmp_path / "nltk_data").iterdir()) == []
    assert list((tmp_path / "home").iterdir()) == []
    assert (tmp_path / "data" / "index" / "CURRENT").is_file()


def test_questions_are_answered_when_the_html_extractor_is_broken(tmp_path: Path) -> None:
    """A broken trafilatura (as the stock pip once installed it) costs only the .html files."""
    env = offline_env(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "trafilatura.py").write_text(
        'raise ImportError("lxml.html.clean module is now a separate project")\n'
    )
    env["PYTHONPATH"] = str(broken)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for seed in (ROOT / "corpus").iterdir():
        (corpus / seed.name).write_bytes(seed.read_bytes())
    (corpus / "page.html").write_text("<html><body><p>Some page text.</p></body></html>")
    env["BOT_CORPUS_DIR"] = str(corpus)

    def bot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "bot.py"), *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip

    index = bot("index")
    assert index.returncode == 0, index.stderr
    assert "page.html: HTML extractor (trafilatura) unavailable: ImportError" in index.stdout
    asked = bot("ask", "--json", QUESTION)
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["status"] == "answered"


def test_asking_imports_neither_the_html_extractor_nor_telegram(tmp_path: Path) -> None:
    """Start-up cost: answering from a built index needs no HTML extraction and no Telegram."""
    env = offline_env(tmp_path)
    probe = (
        "import sys, contextlib, io\n"
        "from bot.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['ask', {QUESTION!r}])\n"
        "print(sorted(m for m in ('trafilatura', 'telegram') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_no_download_or_network_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nltk

    from bot.answers.engine import AnswerEngine
    from bot.search.lifecycle import IndexManager
    from bot.text import sentences
    from bot.text.analysis import Analyzer

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"offline violation: called with {args!r}")

    monkeypatch.setattr(nltk, "download", refuse)
    monkeypatch.setattr(nltk.data, "load", refuse)
    monkeypatch.setattr(nltk.data, "find", refuse)
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "nowhere")])
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    sentences._tokenizer.cache_clear()  # build Punkt again, under the patches
    try:
        analyzer = Analyzer()
        manager = IndexManager(ROOT / "corpus", tmp_path / "index", analyzer)
        report = manager.open()
        assert report.rebuilt and report.articles == 1
        answer = AnswerEngine(lambda: manager.index, analyzer).ask(QUESTION)
    finally:
        sentences._tokenizer.cache_clear()
    assert answer.answered
    assert "feeding data directly" in answer.quotes[0].text


def test_run_without_token_or_terminal_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    env = offline_env(tmp_path)
    result = subprocess.run(
        [sys.executable, str(ROOT / "bot.py")],
        cwd=tmp_path,  # no .env here
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "No TELEGRAM_BOT_TOKEN set" in result.stderr
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "bot.py ask" in result.stderr
    assert result.stdout == ""


def test_bad_token_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "not-a-token")
    assert main(["ask", "TikTok"]) == 2
    err = capsys.readouterr().err
    assert "configuration error" in err and "TELEGRAM_BOT_TOKEN" in err
    assert "not-a-token" not in err  # never echo what might be a secret


def test_ask_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    """``bot.py ask … | head -1``: the reader stops reading; no traceback, exit 0."""
    ask = subprocess.Popen(
        [sys.executable, "bot.py", "ask", "TikTok"],
        cwd=ROOT,
        env=offline_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        bufsize=0,
    )
    ask.stdout.close()  # before a byte is read: every write meets a closed pipe
    _, stderr = ask.communicate(timeout=60)
    assert ask.returncode == 0 and b"Traceback" not in stderr, stderr.decode()


def test_every_module_imports_on_its_own() -> None:
    """No import cycle hides behind the order in which bot.py happens to import things: each
    module is imported first, in a fresh interpreter of its own."""
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in (ROOT / "bot").rglob("*.py")
        if p.name != "__init__.py"
    )

    def failure(name: str) -> str | None:
        run = [sys.executable, "-c", f"import {name}"]
        result = subprocess.run(run, cwd=ROOT, capture_output=True, text=True)
        return f"{name}: {result.stderr[-300:]}" if result.returncode else None

    with ThreadPoolExecutor(4) as pool:
        failures = [f for f in pool.map(failure, modules) if f]
    assert not failures, failures
