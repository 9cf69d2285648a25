"""End to end: alert subscriptions and new-article alerts, through the real bot and the fake
Bot API server (blocked chats, flood control, migrations, restarts, a kill -9 mid fan-out)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from fake_bot_api import parse_html
from helpers import (
    ADMIN,
    ROOT,
    TOKEN,
    alerts,
    buttons,
    error_records,
    eventually,
    reply_to,
    settle,
    stop_bot,
    write_article,
)
from telegram import Bot

from bot.alerts.delivery import AlertDelivery
from bot.config import Config
from bot.services import Services
from bot.store import AlertCounts, AlertOutbox, SubscriptionStore, open_database
from bot.telegram_app.alerts import telegram_sender
from bot.telegram_app.keyboards import about_data

ELECTION_TITLE = "Voters head to the polls as the election campaign ends"


def write_election_article(corpus: Path, *, extra: str = "") -> Path:
    path = corpus / "election.txt"
    path.write_text(
        f"Title: {ELECTION_TITLE}\nDate: 2024-05-02\nSource: Test Wire\n"
        "URL: https://news.example.com/election\n\n"
        "Voters head to the polls as the election campaign ends after weeks of rallies "
        "across the country.\n\n"
        "Officials said turnout in the election was expected to be high, and observers "
        f"reported no fraud at polling stations.{extra}\n",
        encoding="utf-8",
    )
    return path


# --------------------------------------------------------------------------- subscriptions


async def test_subscribe_list_and_unsubscribe(bot_env):
    api, _app, services = bot_env
    chat = 201
    reply = await reply_to(api, chat, "/subscribe")
    assert reply["text"].startswith("Subscribed to every new article.")
    assert "• every new article" in reply["text"]
    reply = await reply_to(api, chat, "/subscribe elections -trump")
    assert reply["text"].startswith("Subscribed to “elections -trump”.")
    assert "• every new article" in reply["text"] and "• “elections -trump”" in reply["text"]
    reply = await reply_to(api, chat, "/subscribe Elections  -Trump")
    assert reply["text"].startswith("You were already subscribed to “elections -trump”.")

    listing = await reply_to(api, chat, "/subscriptions")
    assert len(buttons(listing)) == 2
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons(listing))
    remove = next(b["callback_data"] for b in buttons(listing) if "elections" in b["text"])
    api.press_button(chat, listing["message_id"], remove)
    await api.wait_for(lambda: listing["edits"] >= 1)
    await api.wait_for(lambda: not api.unanswered_callback_queries())
    assert api.callback_answers[-1]["text"] == "Removed."
    assert "elections" not in listing["text"] and "every new article" in listing["text"]
    assert len(listing["reply_markup"]["inline_keyboard"]) == 1
    assert services.subscriptions.topics(chat) == [""]

    reply = await reply_to(api, chat, "/unsubscribe all")
    assert reply["text"].startswith("Removed 1 subscription.")
    assert "You have no alert subscriptions" in reply["text"]
    assert services.subscriptions.topics(chat) == []


async def test_group_subscriptions_are_for_group_admins(bot_env):
    api, _app, services = bot_env
    group = -300
    api.set_chat_admins(group, [1001, 1002])
    refused = await reply_to(api, group, "/subscribe", user_id=1003)
    assert refused["text"] == "Only this group's admins can change its settings."
    assert services.subscriptions.topics(group) == []
    for admin in (1001, 1002):  # the creator and an administrator
        accepted = await reply_to(api, group, f"/subscribe topic{admin}", user_id=admin)
        assert accepted["text"].startswith(f"Subscribed to “topic{admin}”.")
    assert services.subscriptions.topics(group) == ["topic1001", "topic1002"]


# --------------------------------------------------------------------------- alerts


async def test_new_article_alerts_matching_subscribers_once(bot_env, corpus_dir):
    api, app, services = bot_env
    a, b, c, d = 401, 402, 403, 404
    for chat, topic in ((a, ""), (b, "elections"), (c, "football"), (d, "election -fraud")):
        reply = await reply_to(api, chat, f"/subscribe {topic}".rstrip())
        assert reply["text"].startswith("Subscribed")
    write_election_article(corpus_dir)
    status = await reply_to(api, ADMIN, "/reload")
    await api.wait_for(lambda: "Alerts queued" in status["text"], timeout=10)
    assert "Added 1" in status["text"] and "Alerts queued: 2." in status["text"]
    await settle(app)
    await api.wait_for(lambda: alerts(api, a) and alerts(api, b))

    for chat in (a, b):
        [alert] = alerts(api, chat)
        assert alert["parse_mode"] == "HTML"
        assert parse_html(alert["html"]).text == alert["text"]
        assert f'<a href="https://news.example.com/election">{ELECTION_TITLE}</a>' in alert["html"]
        assert "Test Wire" in alert["text"] and "2 May 2024" in alert["text"]
        assert "Voters head to the polls as the election campaign ends after weeks" in alert["text"]
        keyboard = [btn for row in alert["reply_markup"]["inline_keyboard"] for btn in row]
        assert keyboard[0]["url"] == "https://news.example.com/election"
        assert keyboard[1]["callback_data"] == about_data(services.current_index().newest(1)[0].id)
    assert alerts(api, c) == [] and alerts(api, d) == []

    # Nothing changed: nothing announced.
    status = await reply_to(api, ADMIN, "/reload")
    await api.wait_for(lambda: "Alerts queued" in status["text"], timeout=10)
    assert "No corpus file changed" in status["text"] and "Alerts queued: 0." in status["text"]
    # The article was edited (same file): changed, not new, not announced again.
    write_election_article(corpus_dir, extra=" Counting starts at eight.")
    status = await reply_to(api, ADMIN, "/reload")
    await api.wait_for(lambda: "Alerts queued" in status["text"], timeout=10)
    assert "Added 0, changed 1" in status["text"] and "Alerts queued: 0." in status["text"]
    await settle(app)
    assert [len(alerts(api, chat)) for chat in (a, b, c, d)] == [1, 1, 0, 0]
    assert services.outbox.counts().sent == 2


async def test_first_start_on_existing_corpus_announces_nothing(
    api, start_bot, corpus_dir, tmp_path
):
    data = tmp_path / "data"
    data.mkdir()
    write_election_article(corpus_dir)  # the corpus exists before the bot ever ran
    db = open_database(Config(data_dir=data).database_path)
    try:
        SubscriptionStore(db).subscribe(501, "")
        SubscriptionStore(db).subscribe(502, "election")
    finally:
        db.close()
    app = await start_bot(data_dir=data)
    services = app.bot_data.services
    await settle(app)
    assert alerts(api, 501) == [] and alerts(api, 502) == []
    assert services.outbox.counts() == AlertCounts()
    assert services.subscriptions.topics(502) == ["election"]


async def test_restart_sends_no_duplicates(api, start_bot, corpus_dir, tmp_path):
    data = tmp_path / "data"
    app = await start_bot(data_dir=data)
    for chat in (601, 602):
        await reply_to(api, chat, "/subscribe")
    write_election_article(corpus_dir)
    await app.bot_data.services.reload()
    await settle(app)
    assert [len(alerts(api, chat)) for chat in (601, 602)] == [1, 1]
    await stop_bot(app)

    app = await start_bot(data_dir=data)  # new Services and Application on the same data
    services = app.bot_data.services
    await settle(app)
    assert [len(alerts(api, chat)) for chat in (601, 602)] == [1, 1]
    assert services.outbox.counts().sent == 2
    await reply_to(api, 601, "/subscriptions")  # the new app answers


async def test_blocked_and_kicked_chats(bot_env, corpus_dir):
    api, app, services = bot_env
    a, b, c = 701, 702, 703
    for chat in (a, b, c):
        await reply_to(api, chat, "/subscribe")
    api.block_chat(b)
    write_election_article(corpus_dir)
    await services.reload()
    await settle(app)
    assert [len(alerts(api, chat)) for chat in (a, b, c)] == [1, 0, 1]
    assert not services.subscriptions.is_active(b)
    assert services.subscriptions.is_active(a) and services.subscriptions.is_active(c)

    def refused_sends() -> int:
        return sum(
            r["params"]["chat_id"] == str(b) and r["status"] == 403
            for r in api.calls("sendMessage")
        )

    assert refused_sends() == 1

    write_article(corpus_dir, "second.txt", "Second article", "A second story about harbours.")
    await services.reload()
    await settle(app)
    assert [len(alerts(api, chat)) for chat in (a, b, c)] == [2, 0, 2]
    assert refused_sends() == 1  # a deactivated chat is not even tried

    # The user blocks the bot (my_chat_member kicked), then unblocks it.
    api.my_chat_member(c, c, "member", "kicked")
    await api.wait_for(lambda: not services.subscriptions.is_active(c))
    write_article(corpus_dir, "third.txt", "Third article", "A third story about bridges.")
    await services.reload()
    await settle(app)
    assert [len(alerts(api, chat)) for chat in (a, b, c)] == [3, 0, 2]
    api.my_chat_member(c, c, "kicked", "member")
    await api.wait_for(lambda: services.subscriptions.is_active(c))
    assert services.subscriptions.topics(c) == [""]


async def test_flood_control_retries_after_retry_after(bot_env, corpus_dir):
    api, app, services = bot_env
    chats = (801, 802, 803)
    for chat in chats:
        await reply_to(api, chat, "/subscribe")
    api.fail_next("sendMessage", error_code=429, retry_after=1, times=4)
    write_election_article(corpus_dir)
    assert (await services.reload()).queued == 3
    await settle(app)
    assert [len(alerts(api, chat)) for chat in chats] == [1, 1, 1]
    refused = [r for r in api.calls("sendMessage") if r["status"] == 429]
    assert len(refused) == 4
    assert services.outbox.counts().sent == 3 and services.outbox.counts().failed == 0


async def test_group_migration_moves_subscription_and_alert(bot_env, corpus_dir):
    api, app, services = bot_env
    old, new = -900, -1009000000001
    api.set_chat_admins(old, [1001])
    await reply_to(api, old, "/subscribe", user_id=1001)
    api.migrate_chat(old, new)
    write_election_article(corpus_dir)
    await services.reload()
    await settle(app)
    assert alerts(api, old) == []
    [alert] = alerts(api, new)
    assert ELECTION_TITLE in alert["text"]
    assert services.subscriptions.topics(new) == [""] and services.subscriptions.topics(old) == []

    # The service message of a migration moves the subscriptions too.
    other_old, other_new = -901, -1009000000002
    api.set_chat_admins(other_old, [1001])
    await reply_to(api, other_old, "/subscribe elections", user_id=1001)
    api.migrate_group_update(other_old, other_new)
    await api.wait_for(lambda: services.subscriptions.topics(other_new) == ["elections"])
    assert services.subscriptions.topics(other_old) == []


async def test_kill_9_mid_fan_out_loses_nothing(api, corpus_dir, tmp_path):
    data = tmp_path / "data"
    config = Config(corpus_dir=corpus_dir, data_dir=data)
    subscribers = list(range(2000, 2030))
    services = Services.open(config)
    try:
        await services.catch_up_alerts()  # the first start only records the corpus
        for chat in subscribers:
            services.subscriptions.subscribe(chat, "")
        write_election_article(corpus_dir)
        assert (await services.reload()).queued == len(subscribers)
    finally:
        services.close()

    log = (tmp_path / "child.log").open("w")
    try:
        child = subprocess.Popen(  # noqa: ASYNC220 — started once, waited on by signals
            [
                sys.executable,
                str(ROOT / "tests" / "fanout_child.py"),
                str(corpus_dir),
                str(data),
                api.base_url,
                TOKEN,
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            await api.wait_for(lambda: len(api.sent_messages()) >= 10, timeout=30)
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()  # no-op if already dead
            returncode = await asyncio.to_thread(child.wait, 10)
    finally:
        log.close()
    before_restart = len(api.sent_messages())
    assert returncode == -signal.SIGKILL, (tmp_path / "child.log").read_text()
    assert before_restart < len(subscribers), "the child finished before it was killed"

    services = Services.open(config)  # recover(): rows left 'sending' are due again
    try:
        async with Bot(TOKEN, base_url=api.base_url) as bot:
            send = telegram_sender(bot, services.current_index)
            delivery = AlertDelivery(services.outbox, services.subscriptions, send)
            await delivery.drain()
        counts = services.outbox.counts()
    finally:
        services.close()
    per_chat = {chat: len(alerts(api, chat)) for chat in subscribers}
    lost = [chat for chat, n in per_chat.items() if n == 0]
    duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    print(f"kill -9 after {before_restart} sends: lost {len(lost)}, duplicates {duplicates}")
    assert lost == []
    assert duplicates <= 1
    assert counts.sent == len(subscribers) and counts.undelivered == 0


async def test_long_and_stopword_topics(bot_env):
    api, _app, services = bot_env
    chat = 3003
    long_topic = "renewable energy subsidies for offshore wind farms in the north sea region"
    reply = await reply_to(api, chat, f"/subscribe {long_topic}")
    assert reply["text"].startswith("Subscribed to")
    reply = await reply_to(api, chat, "/subscribe the who")
    assert "no words I can match" in reply["text"]
    assert services.subscriptions.topics(chat) == [long_topic]
    listing = await reply_to(api, chat, "/subscriptions")
    (button,) = [b for row in listing["reply_markup"]["inline_keyboard"] for b in row]
    assert len(button["callback_data"].encode()) <= 64
    api.press_button(chat, listing["message_id"], button["callback_data"])
    await api.wait_for(lambda: listing["edits"] >= 1)
    assert services.subscriptions.topics(chat) == []


async def test_refusals_never_echo_unbounded_text(bot_env, caplog):
    """Issue 13.12: a 4,000-character stopword topic got no reply (its refusal echoed it)."""
    api, _app, services = bot_env
    chat = 3004
    refusal = await reply_to(api, chat, "/subscribe " + "the " * 1000)
    assert "no words I can match" in refusal["text"] and len(refusal["text"]) < 300
    assert refusal["text"].startswith("“the the the") and "…”" in refusal["text"]
    await reply_to(api, chat, "/subscribe elections")
    not_followed = await reply_to(api, chat, "/unsubscribe " + "wind " * 790)
    assert not_followed["text"].startswith("You were not subscribed to “wind wind")
    assert len(not_followed["text"]) < 300
    assert services.subscriptions.topics(chat) == ["elections"]
    assert api.sent_messages(ADMIN) == [] and not error_records(caplog)


async def test_a_long_fan_out_holds_up_neither_the_drain_job_nor_a_shutdown(bot_env, corpus_dir):
    api, app, services = bot_env
    await reply_to(api, 3005, "/subscribe")
    write_election_article(corpus_dir)
    assert (await services.reload()).queued == 1
    app.bot_data.delivery.limiter.hold(3005, 30)  # flood control: this fan-out takes a while
    [job] = app.job_queue.get_jobs_by_name("alerts")
    await asyncio.wait_for(job.run(app), 1)  # starts the drain and returns
    await eventually(lambda: services.outbox.counts().sending == 1)
    drain = app.bot_data.delivery_task
    await asyncio.wait_for(job.run(app), 1)  # before: waited 30 s for the running drain
    assert app.bot_data.delivery_task is drain and not drain.done()
    await asyncio.wait_for(stop_bot(app), 5)  # the drain is cancelled, not waited for
    assert drain.cancelled()
    db = open_database(services.config.database_path)
    try:  # left leased, for the next start to recover
        assert AlertOutbox(db).counts() == AlertCounts(sending=1)
    finally:
        db.close()
