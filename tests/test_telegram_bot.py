"""End to end: the real bot (PTB Application from ``build_application``) polling the fake Bot
API server; assertions are on what the server recorded and accepted (HTML, text, buttons)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sqlite3
import threading
from pathlib import Path

import pytest
from fake_bot_api import parse_html
from helpers import (
    ADMIN,
    QUESTION,
    SEED_TITLE,
    TOKEN,
    all_handled,
    assert_accepted_html,
    blockquotes,
    buttons,
    error_records,
    eventually,
    reply_to,
    write_article,
)

from bot.commands import COMMANDS
from bot.config import Config
from bot.console import Console
from bot.i18n import available_languages
from bot.services import Services
from bot.store import StoredQuery, transaction
from bot.telegram_app.keyboards import STALE_BUTTON, parse_more
from bot.telegram_app.run import RedactToken, protect_token

USER = 5
GROUP = -4242


def add_tiktok_articles(corpus: Path) -> None:
    """Two more articles about TikTok and ByteDance, so that questions have >3 quotes."""
    write_article(
        corpus,
        "tiktok_deal.txt",
        "ByteDance weighs TikTok sale to Microsoft",
        """
ByteDance is weighing a sale of TikTok's American business to Microsoft, people familiar
with the talks said, as China tightens rules on exporting technology.

TikTok said ByteDance had not decided, and that China had not been consulted on the deal.

Analysts said China could block any TikTok sale that includes ByteDance's algorithm.
""",
        url="https://news.example.com/tiktok-deal",
    )
    write_article(
        corpus,
        "tiktok_ban.txt",
        "TikTok ban deadline looms for ByteDance",
        """
The deadline for ByteDance to divest TikTok is approaching, and officials in China warned
against what they called the forced sale of TikTok.

ByteDance told employees that TikTok would keep operating while it talks to buyers outside China.

Users of TikTok in China cannot use the app, which ByteDance runs there under another name.
""",
        date="2024-05-03",
    )


def more_buttons(message: dict) -> list[str]:
    """The callback data of the message's "More" buttons."""
    return [
        b["callback_data"] for b in buttons(message) if b.get("callback_data", "")[:5] == "more:"
    ]


def replies(api, chat_id: int) -> list[dict]:
    return api.sent_messages(chat_id)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


# --------------------------------------------------------------------------- questions


async def test_private_question_gets_quote_with_citation(bot_env, caplog):
    api, _app, _services = bot_env
    reply = await reply_to(api, USER, QUESTION)
    assert_accepted_html(reply)
    html = reply["html"]
    assert "<blockquote>" in html
    assert "<b>Pompeo</b>" in html and "<b>TikTok</b>" in html
    assert f"<b>{SEED_TITLE}</b>" in html and "16 Aug 2020" in html and "¶" in html
    assert "feeding data directly to the Chinese Communist Party" in reply["text"]
    types = {e["type"] for e in reply["entities"]}
    assert {"blockquote", "bold"} <= types
    await all_handled(api)
    assert len(replies(api, USER)) == 1
    assert not error_records(caplog)


async def test_more_button_pages_in_place(api, start_bot, corpus_dir, caplog):
    add_tiktok_articles(corpus_dir)
    await start_bot()
    first = await reply_to(api, USER, "TikTok sale ByteDance China")
    assert_accepted_html(first)
    more = more_buttons(first)
    assert len(more) == 1 and more[0].startswith("more:")
    assert all(len(b.get("callback_data", "").encode()) <= 64 for b in buttons(first))
    assert any(b.get("url") == "https://news.example.com/tiktok-deal" for b in buttons(first))
    first_text = first["text"]
    page1 = blockquotes(first)

    api.press_button(USER, first["message_id"], more[0])
    await api.wait_for(lambda: first["edits"] >= 1)
    await api.wait_for(lambda: not api.unanswered_callback_queries())
    assert len(replies(api, USER)) == 1  # the same message was edited, nothing new sent
    assert_accepted_html(first)
    assert first["text"] != first_text and "<blockquote>" in first["html"]
    assert blockquotes(first) and not set(blockquotes(first)) & set(page1)  # new quotes
    assert api.calls("editMessageText")[-1]["params"]["message_id"] == str(first["message_id"])

    # An expired or unknown token: answered politely, the buttons go away, no error.
    api.press_button(USER, first["message_id"], "more:zzzzzzzz:1", check_keyboard=False)
    await api.wait_for(lambda: len(api.callback_answers) >= 2)
    await api.wait_for(lambda: not api.unanswered_callback_queries())
    assert "expired" in api.callback_answers[-1]["text"]
    await api.wait_for(lambda: first["reply_markup"] is None)
    await all_handled(api)
    assert not error_records(caplog)
    assert len(replies(api, USER)) == 1


async def test_expired_more_on_message_without_keyboard_is_quiet(bot_env, caplog):
    api, _app, _services = bot_env
    reply = await reply_to(api, USER, "中国的互联网")  # not answered: no keyboard
    assert reply["reply_markup"] is None
    api.press_button(USER, reply["message_id"], "more:zzzzzzzz:1", check_keyboard=False)
    await api.wait_for(lambda: not api.unanswered_callback_queries())
    await api.wait_for_request("editMessageReplyMarkup")  # "not modified": nothing to do
    await all_handled(api)
    assert not error_records(caplog)
    assert replies(api, ADMIN) == []  # no "⚠️ BadRequest" notice to the editors


async def test_forged_button_presses_get_a_short_notice(api, start_bot, corpus_dir, caplog):
    add_tiktok_articles(corpus_dir)
    await start_bot()
    answer = await reply_to(api, USER, "TikTok ByteDance China")
    [more] = more_buttons(answer)
    token = parse_more(more).token
    html_before = answer["html"]
    forged = [
        "more:zz",
        f"more:{token}:abc",
        f"more:{token}:-5",
        f"more:{token}:0",
        f"more:{token}:3:extra",
        "more:",
        "stats:",
        "reload:",
        "unsub:zz",
        "unsub:",
        "anything else",
    ]
    for data in forged:
        api.press_button(USER, answer["message_id"], data, check_keyboard=False)
    await api.wait_for(lambda: len(api.callback_answers) == len(forged))
    assert not api.unanswered_callback_queries()
    assert {a["text"] for a in api.callback_answers} == {STALE_BUTTON}
    await all_handled(api)
    assert answer["edits"] == 0 and answer["html"] == html_before
    assert replies(api, ADMIN) == []  # no "⚠️ ValueError" notice to the editors
    assert not error_records(caplog)


async def test_a_more_token_works_only_on_its_own_answer(api, start_bot, corpus_dir, caplog):
    add_tiktok_articles(corpus_dir)
    await start_bot()
    first = await reply_to(api, USER, "TikTok ByteDance China")
    second = await reply_to(api, USER, "Microsoft ByteDance sale")
    [more] = more_buttons(first)
    other_user = 77
    theirs = await reply_to(api, other_user, "TikTok ByteDance")

    api.press_button(USER, second["message_id"], more, check_keyboard=False)  # same chat
    api.press_button(other_user, theirs["message_id"], more, check_keyboard=False)
    await api.wait_for(lambda: len(api.callback_answers) == 2)
    assert [a["text"] for a in api.callback_answers] == [STALE_BUTTON, STALE_BUTTON]
    await all_handled(api)
    assert second["edits"] == 0 and theirs["edits"] == 0

    api.press_button(USER, first["message_id"], more)  # its own answer: pages on
    await api.wait_for(lambda: first["edits"] == 1)
    assert not error_records(caplog)


def fill_up(db, table: str, row_sql: str) -> None:
    """Insert rows into ``table`` until SQLite says the database is full."""
    with contextlib.suppress(sqlite3.OperationalError):
        for n in range(1_000_000):
            db.execute(f"INSERT INTO {table} {row_sql}", {"n": n})


async def test_a_full_disk_never_keeps_the_answer_from_the_reader(
    api, start_bot, corpus_dir, caplog
):
    add_tiktok_articles(corpus_dir)
    app = await start_bot()
    services = app.bot_data.services
    db = services.db
    with db.lock:  # what a full disk does to SQLite: no page can be added any more
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        fill_up(db, "question_log (chat_id, asked_at, answered)", "VALUES (1, :n, 1)")
        fill_up(db, "question_days (day)", "VALUES (printf('d%07d', :n))")
        fill_up(db, "stored_queries", "VALUES (printf('t%07d', :n), 1, 'q', :n, NULL, NULL, '')")
        fill_up(db, "article_keys", "VALUES (printf('k%07d', :n), 'a', :n)")
    with pytest.raises(sqlite3.OperationalError, match="full"):
        services.activity.record_question(USER, True)
    with pytest.raises(sqlite3.OperationalError, match="full"):
        services.queries.save("abcdefgh", StoredQuery(USER, 1, "TikTok ByteDance China"))

    answer = await reply_to(api, USER, "TikTok sale ByteDance China")
    assert "<blockquote>" in answer["html"] and "ByteDance" in answer["text"]
    # Its question could not be stored: the More button goes, the Read links stay.
    await api.wait_for(lambda: answer["edits"] == 1)
    assert more_buttons(answer) == []
    assert any("url" in b for b in buttons(answer))
    no_more = await reply_to(api, USER, QUESTION)  # one quote, nothing to page through
    assert "Pompeo" in no_more["text"]
    await all_handled(api)

    def logged() -> list[str]:
        return [r.getMessage() for r in error_records(caplog)]

    # Counting is the last record kept of each answer.
    await eventually(lambda: sum("could not count a question" in m for m in logged()) == 2)
    assert sum("could not store the question" in m and "full" in m for m in logged()) == 2
    assert any("could not register article keys" in m for m in logged())
    assert replies(api, ADMIN) == []


class BusyReloads(Services):
    """Services whose alert queueing holds the database's write transaction until told to
    stop, as a slow queue_alerts did (issue 13.2)."""

    holding = threading.Event()
    release = threading.Event()

    def _queue_alerts(self):
        with transaction(self.db):
            self.holding.set()
            self.release.wait(10)
        return super()._queue_alerts()


async def test_questions_are_answered_while_a_reload_holds_the_store(
    api, start_bot, corpus_dir, tmp_path
):
    config = Config(admins=frozenset({ADMIN}), corpus_dir=corpus_dir, data_dir=tmp_path / "data")
    services = BusyReloads.open(config)
    BusyReloads.release.set()  # the start-up catch-up goes through
    await start_bot(services=services)
    BusyReloads.holding.clear()
    BusyReloads.release.clear()
    try:
        status = await reply_to(api, ADMIN, "/reload")
        await asyncio.to_thread(BusyReloads.holding.wait, 10)
        loop = asyncio.get_running_loop()
        asked = loop.time()
        answer = await reply_to(api, USER, QUESTION)
        assert loop.time() - asked < 1.0
        assert "Pompeo" in answer["text"]
        # A command that needs the store waits for it, without holding up the next reader.
        api.send_user_message(USER + 1, "/subscriptions")
        other = await reply_to(api, USER + 2, "TikTok")
        assert loop.time() - asked < 1.0 and "TikTok" in other["text"]
        assert services.reloading and api.sent_messages(USER + 1) == []
    finally:
        BusyReloads.release.set()
    await api.wait_for(lambda: "Alerts queued: 0." in status["text"])
    await api.wait_for_messages(USER + 1, 1)
    await eventually(lambda: services.activity.question_counts(today()).answered_today == 2)


async def test_edited_question_edits_the_answer(bot_env):
    api, _app, _services = bot_env
    question = api.send_user_message(USER, "the of and")
    [reply] = await api.wait_for_messages(USER, 1)
    assert "searchable words" in reply["text"]
    api.edit_user_message(USER, question["message_id"], QUESTION)
    await api.wait_for(lambda: reply["edits"] >= 1)
    assert len(replies(api, USER)) == 1
    edit = api.calls("editMessageText")[-1]["params"]
    assert edit["message_id"] == str(reply["message_id"]) and edit["parse_mode"] == "HTML"
    assert "<blockquote>" in reply["html"] and "Pompeo" in reply["text"]


async def test_inline_query(bot_env):
    api, _app, _services = bot_env
    api.inline_query(77, "Pompeo TikTok")
    api.inline_query(77, "   ")  # empty query: an empty answer, still answered
    await api.wait_for(lambda: len(api.inline_answers) >= 2)
    answer, empty = api.inline_answers
    assert 1 <= len(answer["results"]) <= 50 and empty["results"] == []
    for result in answer["results"]:
        assert len(result["id"].encode()) <= 64
        content = result["input_message_content"]
        assert content["parse_mode"] == "HTML"
        parsed = parse_html(content["message_text"])
        assert "16 Aug 2020" in parsed.text and "<blockquote>" in content["message_text"]


# --------------------------------------------------------------------------- groups


async def test_group_questions(bot_env, caplog):
    api, _app, _services = bot_env
    api.send_group_message(GROUP, f"/ask {QUESTION}", user_id=11)
    [first] = await api.wait_for_messages(GROUP, 1)
    assert "<blockquote>" in first["html"] and "Pompeo" in first["text"]

    api.send_group_message(GROUP, "What did Pompeo say? (chatting, not to the bot)", user_id=12)
    api.send_group_message(GROUP, f"/ask@fake_news_bot {QUESTION}", user_id=11)
    msgs = await api.wait_for_messages(GROUP, 2)
    assert "Pompeo" in msgs[1]["text"]

    # a reply to the bot's message is a question; a reply to a user's message is not
    user_msg = api.send_group_message(GROUP, "I wonder about TikTok", user_id=12)
    api.send_group_message(
        GROUP, "TikTok ByteDance?", user_id=13, reply_to_message_id=user_msg["message_id"]
    )
    api.send_group_message(
        GROUP, "What about ByteDance?", user_id=12, reply_to_message_id=first["message_id"]
    )
    msgs = await api.wait_for_messages(GROUP, 3)
    assert "ByteDance" in msgs[2]["text"]

    api.send_group_message(GROUP, "/ask", user_id=12)
    msgs = await api.wait_for_messages(GROUP, 4)
    assert msgs[3]["text"].startswith("Usage: /ask <question>")
    await all_handled(api)
    assert len(replies(api, GROUP)) == 4  # the two messages not for the bot were ignored
    assert not error_records(caplog)


# --------------------------------------------------------------------------- commands


async def test_start_help_latest_and_command_menu(bot_env):
    api, _app, _services = bot_env
    start = await reply_to(api, USER, "/start")
    assert "Hello" in start["text"] and QUESTION in start["text"]

    help_user = await reply_to(api, USER, "/help")
    help_admin = await reply_to(api, ADMIN, "/help")
    for command in COMMANDS:
        assert (f"/{command.name}" in help_user["text"]) is (not command.admin)
        assert f"/{command.name}" in help_admin["text"]

    latest = await reply_to(api, USER, "/latest")
    assert_accepted_html(latest)
    assert "Latest articles" in latest["text"] and SEED_TITLE in latest["text"]
    assert "16 Aug 2020" in latest["text"]

    public = [c.name for c in COMMANDS if not c.admin]
    assert [c["command"] for c in api.get_commands()] == public
    admin_scope = {"type": "chat", "chat_id": ADMIN}
    assert [c["command"] for c in api.get_commands(admin_scope)] == [c.name for c in COMMANDS]
    # The same menus once per language the bot has (tests/test_i18n.py: their texts).
    languages = ["", *available_languages()]
    assert set(api.commands) == {
        (scope, code) for scope in ("default", f"chat:{ADMIN}") for code in languages
    }


async def test_deep_link_start_answers_question(bot_env):
    from bot.telegram_app.handlers.questions import question_payload

    api, _app, _services = bot_env
    payload = question_payload("Pompeo TikTok")
    assert len(payload) <= 64
    reply = await reply_to(api, USER, f"/start {payload}")
    assert "<blockquote>" in reply["html"] and "Pompeo" in reply["text"]


# --------------------------------------------------------------------------- admin


async def test_admin_reload_and_stats(bot_env, corpus_dir):
    api, _app, services = bot_env
    await reply_to(api, USER, QUESTION)  # answered
    await reply_to(api, USER, "中国的互联网")  # not answered
    write_article(
        corpus_dir,
        "new.txt",
        "Council approves new harbour bridge",
        """
The city council approved the new harbour bridge on Tuesday after a long debate about costs.
""",
    )
    status = await reply_to(api, ADMIN, "/reload")
    await api.wait_for(lambda: "Added 1" in status["text"], timeout=10)
    assert "Added 1, changed 0, removed 0, skipped 0" in status["text"]
    assert "New: Council approves new harbour bridge" in status["text"]
    assert services.current_index().article_count == 2

    await eventually(lambda: services.activity.question_counts(today()).unanswered_today == 1)
    stats = await reply_to(api, ADMIN, "/stats")
    assert f"Articles: 2, passages: {len(services.current_index())}" in stats["text"]
    assert "Questions today: 1 answered, 1 unanswered" in stats["text"]
    assert "Questions total: 1 answered, 1 unanswered" in stats["text"]


async def test_the_retention_job_prunes_what_is_kept_no_longer(bot_env):
    _api, app, services = bot_env
    assert {job.name for job in app.job_queue.jobs()} == {"alerts", "retention", "feeds"}
    services.queries.save("old_one", StoredQuery(USER, 1, "q"), services.started_at - 8 * 86400)
    services.queries.save("new_one", StoredQuery(USER, 2, "q"))
    [job] = app.job_queue.get_jobs_by_name("retention")
    await job.run(app)  # what the job queue does once a day
    assert services.queries.load("old_one") is None and services.queries.load("new_one")


async def test_non_admin_is_refused(bot_env):
    api, _app, _services = bot_env
    for command in ("/reload", "/stats"):
        refusal = await reply_to(api, USER, command)
        assert refusal["text"] == "Sorry, only the newsroom's editors can use this command."
    assert api.calls("editMessageText") == []


async def test_reload_of_a_bigger_corpus_while_questions_come_in(bot_env, corpus_dir, caplog):
    api, _app, services = bot_env
    for i in range(200):
        write_article(
            corpus_dir,
            f"gen_{i:03d}.txt",
            f"Harbour report number {i}",
            f"""
Report {i}: the harbour authority counted {i * 7} ships this week, and the mayor said
the new bridge over the harbour would open in spring of year {2000 + i}.

Dock workers in district {i} asked for better pay and safer cranes at the harbour.
""",
        )
    status = await reply_to(api, ADMIN, "/reload")
    users = range(300, 310)
    for n, user in enumerate(users):
        ships = "How many ships did the harbour authority count?"
        api.send_user_message(user, QUESTION if n % 2 else ships)
    for user in users:
        [reply] = await api.wait_for_messages(user, 1, timeout=20)
        assert "<blockquote>" in reply["html"] or "Nothing in the articles" in reply["text"]
    await api.wait_for(lambda: "Added 200" in status["text"], timeout=20)
    assert services.current_index().article_count == 201
    pompeo = [api.sent_messages(u)[0] for u in users[1::2]]
    assert all("Pompeo" in m["text"] for m in pompeo)
    assert not error_records(caplog)


async def test_questions_answered_during_a_slow_reload(bot_env):
    api, _app, services = bot_env
    manager = services.archive.manager
    release = threading.Event()
    original = manager.reload

    def slow_reload(progress=None):
        release.wait(10)
        return original(progress)

    manager.reload = slow_reload
    try:
        status = await reply_to(api, ADMIN, "/reload")
        assert "Reloading" in status["text"]
        api.send_user_message(USER, QUESTION)
        await api.wait_for_messages(USER, 1, timeout=2)
    finally:
        release.set()
        await api.wait_for(lambda: "Alerts queued" in status["text"], timeout=10)


async def test_broken_files_are_skipped_with_a_reason(bot_env, corpus_dir):
    api, _app, services = bot_env
    (corpus_dir / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01")
    latin1 = "Title: Caf\xe9\n\nUn caf\xe9 cr\xe8me.".encode("latin-1")
    (corpus_dir / "latin1.txt").write_bytes(latin1)
    (corpus_dir / "empty.txt").write_bytes(b"")
    status = await reply_to(api, ADMIN, "/reload")
    await api.wait_for(lambda: "Reloaded" in status["text"], timeout=10)
    text = status["text"]
    assert "skipped 3" in text
    assert "Skipped binary.txt: binary file" in text
    assert "Skipped latin1.txt: not UTF-8 text" in text
    assert "Skipped empty.txt: empty file" in text
    assert services.current_index().article_count == 1
    reply = await reply_to(api, USER, QUESTION)
    assert "<blockquote>" in reply["html"]


# --------------------------------------------------------------------------- bad inputs


async def test_bad_inputs_in_private_chat(bot_env, caplog):
    api, _app, _services = bot_env
    chat = 606
    cases = [
        ("x " * 2000, "too long"),
        ("the of and", "searchable words"),
        ("<script>alert(1)</script> & TikTok", None),
        ("\N{GRINNING FACE}\N{FIRE}\N{THUMBS UP SIGN}", "searchable words"),
        ("中国的互联网", "Nothing in the articles"),
    ]
    for n, (text, expected) in enumerate(cases):
        reply = await reply_to(api, chat, text, n_before=n)
        assert_accepted_html(reply)
        if expected:
            assert expected in reply["text"]
        assert "<script" not in reply["html"]
    n = len(cases)
    for send in (api.send_sticker, api.send_photo, api.send_document, api.send_voice):
        send(chat)
        n += 1
        reply = (await api.wait_for_messages(chat, n))[-1]
        assert reply["text"] == "I can only read text. Please type your question."
    await all_handled(api)
    assert len(replies(api, chat)) == n
    assert not error_records(caplog)
    assert replies(api, ADMIN) == []  # no error notices


# --------------------------------------------------------------------------- logs


async def test_token_never_in_logs(api, start_bot, caplog):
    caplog.set_level(logging.DEBUG)  # root and therefore every logger
    protect_token(TOKEN)  # after caplog: its handler is on the root logger now
    redact = next(f for f in caplog.handler.filters if isinstance(f, RedactToken))
    httpx_logger = logging.getLogger("httpx")
    httpx_level = httpx_logger.level
    httpx_logger.setLevel(logging.DEBUG)  # make httpx log its URLs: the filter must redact them
    try:
        await start_bot()
        await reply_to(api, USER, QUESTION)
        await reply_to(api, ADMIN, "/stats")
        api.fail_next("sendMessage", chat_id=USER, error_code=400)
        api.send_user_message(USER, QUESTION)  # fails: the error handler logs a traceback
        await api.wait_for_messages(ADMIN, 2)  # the admin's error notice
    finally:
        httpx_logger.setLevel(httpx_level)
        for handler in logging.getLogger().handlers:
            handler.removeFilter(redact)
    formatted = [caplog.handler.format(r) for r in caplog.records]
    assert any("<token>" in line for line in formatted), "httpx did not log any URL"
    assert any(r.levelno >= logging.ERROR for r in caplog.records)
    leaks = [line for line in formatted if TOKEN in line]
    assert not leaks
    assert TOKEN not in caplog.text


# --------------------------------------------------------------------------- console
# (``python bot.py`` without a token or terminal: tests/test_offline.py)


def test_console_session(corpus_dir, tmp_path):
    out: list[str] = []
    services = Services.open(Config(corpus_dir=corpus_dir, data_dir=tmp_path / "data"))
    try:
        console = Console(services, out.append)
        console.handle(QUESTION)
        assert "feeding data directly" in out[-1] and "16 Aug 2020" in out[-1]
        console.handle("/more")
        assert out[-1] == "No more quotes."
        console.handle("/help")
        assert all(f"/{c.name}" in out[-1] for c in COMMANDS)
        console.handle("/latest")
        assert SEED_TITLE in out[-1]
        console.handle("/subscribe")
        assert "TELEGRAM_BOT_TOKEN" in out[-1]
        console.handle("/nope")
        assert "Unknown command /nope" in out[-1]
    finally:
        services.close()
