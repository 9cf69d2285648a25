"""End to end: follow-ups (a reply to one of the bot's answers is asked in the context of its
question) and "Ask about this article" (a prompt whose reply is answered from that article
only), through the fake Bot API. The articles are written here, small and by hand: two
about who opposed what, and a few unrelated ones so that the archive's statistics are an
archive's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from helpers import (
    alerts,
    all_handled,
    assert_accepted_html,
    blockquotes,
    buttons,
    error_records,
    eventually,
    reply_to,
    settle,
    write_article,
)

from bot.store import StoredQuery
from bot.store.db import query
from bot.telegram_app.handlers.questions import ARTICLE_GONE
from bot.telegram_app.keyboards import STALE_BUTTON

USER = 7
GROUP = -5151
BRIDGE = "Council approves the harbour bridge"
STADIUM = "Stadium plan divides the town"
ABOUT_THE_BRIDGE = "What did the council decide about the harbour bridge?"
WHO_OPPOSED = "Who opposed it?"  # asked alone, the stadium article answers it best
FISHERMEN = "Fishermen opposed the bridge"
SHOP_OWNERS = "Shop owners opposed it"


def write_bridge(corpus: Path) -> None:
    write_article(
        corpus,
        "bridge.txt",
        BRIDGE,
        """
The city council approved the harbour bridge on Tuesday after a long debate about its cost.

Fishermen opposed the bridge, saying its pillars would block their boats in the harbour.
""",
        url="https://news.example.com/bridge",
    )


def write_town(corpus: Path) -> None:
    """The stadium article (no URL) and unrelated ones."""
    write_article(
        corpus,
        "stadium.txt",
        STADIUM,
        """
The town's football club wants a new stadium beside the railway station.

Shop owners opposed it. Residents opposed it too, and neighbours opposed it loudly.
""",
    )
    for n, topic in enumerate(["weather", "orchestra", "library", "election", "market"]):
        write_article(
            corpus,
            f"filler_{n}.txt",
            f"News about the {topic}",
            f"""
The {topic} report for week {n} was published on Monday by the regional office.

Officials said the {topic} figures were in line with the forecast for the season.
""",
        )


@pytest.fixture
def town(tmp_path: Path) -> Path:
    corpus = tmp_path / "town"
    corpus.mkdir()
    write_town(corpus)
    return corpus


def ask_buttons(message: dict) -> dict[str, str]:
    """The message's "Ask about" buttons: {label: callback data}."""
    return {
        b["text"]: b["callback_data"]
        for b in buttons(message)
        if b.get("callback_data", "").startswith("about:")
    }


async def reply_to_message(api, chat_id: int, message: dict, text: str, **kwargs) -> dict:
    """Reply to ``message`` with ``text``; the bot's next message in the chat."""
    before = len(api.sent_messages(chat_id))
    api.send_user_message(chat_id, text, reply_to_message_id=message["message_id"], **kwargs)
    return (await api.wait_for_messages(chat_id, before + 1))[before]


async def press_ask(api, chat_id: int, message: dict, data: str) -> dict:
    """Press an "Ask about" button; the prompt the bot sends."""
    before = len(api.sent_messages(chat_id))
    api.press_button(chat_id, message["message_id"], data)
    return (await api.wait_for_messages(chat_id, before + 1))[before]


async def test_a_reply_to_an_answer_is_asked_as_its_follow_up(api, start_bot, town, caplog):
    write_bridge(town)
    services = (await start_bot(corpus=town)).bot_data.services
    alone = await reply_to(api, USER, WHO_OPPOSED)
    assert SHOP_OWNERS in blockquotes(alone)[0]  # without context, the stadium's opponents

    first = await reply_to(api, USER, ABOUT_THE_BRIDGE)
    assert "harbour bridge" in first["text"]
    follow_up = await reply_to_message(api, USER, first, WHO_OPPOSED)
    assert_accepted_html(follow_up)
    assert FISHERMEN in blockquotes(follow_up)[0]
    # Its row says what it followed, so that its "More" pages are asked the same way.
    row = StoredQuery(USER, follow_up["message_id"], WHO_OPPOSED, None, ABOUT_THE_BRIDGE)
    await eventually(lambda: services.queries.for_message(USER, follow_up["message_id"]) == row)
    # No words of its own to search for: the earlier question's are the ones asked.
    question = api.send_user_message(USER, "And when?", reply_to_message_id=first["message_id"])
    *_, when = await api.wait_for_messages(USER, 4)
    assert "on Tuesday" in blockquotes(when)[0]
    # An edited follow-up edits its answer, still as a follow-up.
    api.edit_user_message(USER, question["message_id"], WHO_OPPOSED)
    await api.wait_for(lambda: when["edits"] == 1)
    assert FISHERMEN in blockquotes(when)[0]

    # A reply to a bot message that answers nothing (/help) is a question of its own.
    help_message = await reply_to(api, USER, "/help")
    unrelated = await reply_to_message(api, USER, help_message, WHO_OPPOSED)
    assert SHOP_OWNERS in blockquotes(unrelated)[0]

    # In groups, replies to the bot are its questions, and follow-ups the same way.
    api.send_group_message(GROUP, f"/ask {ABOUT_THE_BRIDGE}", user_id=11)
    [group_answer] = await api.wait_for_messages(GROUP, 1)
    api.send_group_message(
        GROUP, WHO_OPPOSED, user_id=12, reply_to_message_id=group_answer["message_id"]
    )
    _, group_follow_up = await api.wait_for_messages(GROUP, 2)
    assert FISHERMEN in blockquotes(group_follow_up)[0]
    await all_handled(api)
    assert not error_records(caplog)


async def test_ask_about_an_alerts_article_answers_from_it_only(api, start_bot, town, caplog):
    app = await start_bot(corpus=town)
    services = app.bot_data.services
    other = USER + 1
    for chat in (USER, other):
        assert (await reply_to(api, chat, "/subscribe"))["text"].startswith("Subscribed")
    write_bridge(town)
    status = await reply_to(api, 1, "/reload")
    await api.wait_for(lambda: "Alerts queued: 2." in status["text"], timeout=10)
    await settle(app)
    [alert] = alerts(api, USER)
    [ask] = ask_buttons(alert).values()
    assert ask_buttons(alerts(api, other)[0]) == {"Ask about this article": ask}
    assert query(services.db, "SELECT COUNT(*) FROM article_keys")[0][0] == 1

    prompt = await press_ask(api, USER, alert, ask)
    await api.wait_for(lambda: not api.unanswered_callback_queries())
    assert api.callback_answers[-1].get("text") in (None, "")
    assert prompt["text"] == f"Ask your question about “{BRIDGE}”."
    markup = prompt["reply_markup"]
    assert markup["force_reply"] is True and markup["selective"] is True
    assert markup["input_field_placeholder"] == "Your question about this article"

    # The stadium article answers this better; the prompt's reply is about the bridge only.
    scoped = await reply_to_message(api, USER, prompt, WHO_OPPOSED)
    assert_accepted_html(scoped)
    assert FISHERMEN in blockquotes(scoped)[0]
    assert BRIDGE in scoped["text"] and STADIUM not in scoped["text"]
    [bridge] = [a for a in services.current_index().newest(10) if a.title == BRIDGE]
    scoped_row = StoredQuery(USER, scoped["message_id"], WHO_OPPOSED, bridge.id, "")
    await eventually(lambda: services.queries.for_message(USER, scoped["message_id"]) == scoped_row)
    # A reply to the scoped answer stays scoped.
    again = await reply_to_message(api, USER, scoped, "Who opposed the stadium?")
    assert BRIDGE in again["text"] and STADIUM not in again["text"]
    await all_handled(api)
    assert not error_records(caplog)


async def test_ask_about_on_an_answer_and_presses_that_resolve_to_nothing(
    api, start_bot, town, caplog
):
    write_bridge(town)
    await start_bot(corpus=town)
    answer = await reply_to(api, USER, WHO_OPPOSED)
    asks = ask_buttons(answer)
    # The bridge has a link ("Read", then "Ask about it" beside it); the stadium has none.
    assert set(asks) == {"Ask about it", f"Ask about: {STADIUM}"}
    prompt = await press_ask(api, USER, answer, asks["Ask about it"])
    assert prompt["text"] == f"Ask your question about “{BRIDGE}”."
    scoped = await reply_to_message(api, USER, prompt, "Who opposed the stadium?")
    assert FISHERMEN in blockquotes(scoped)[0] and STADIUM not in scoped["text"]

    # In a group the prompt names who pressed: a selective ForceReply opens their reply field.
    api.send_group_message(GROUP, f"/ask {WHO_OPPOSED}", user_id=12)
    [group_answer] = await api.wait_for_messages(GROUP, 1)
    api.press_button(GROUP, group_answer["message_id"], asks["Ask about it"], user_id=12)
    _, group_prompt = await api.wait_for_messages(GROUP, 2)
    assert_accepted_html(group_prompt)
    [mention] = [e for e in group_prompt["entities"] if e["type"] == "text_mention"]
    assert mention["user"]["id"] == 12 and group_prompt["reply_markup"]["selective"] is True
    api.send_group_message(
        GROUP, WHO_OPPOSED, user_id=12, reply_to_message_id=group_prompt["message_id"]
    )
    *_, group_scoped = await api.wait_for_messages(GROUP, 3)
    assert FISHERMEN in blockquotes(group_scoped)[0] and STADIUM not in group_scoped["text"]

    # Forged data, a well-formed key no button carried, an article gone from the archive.
    (town / "stadium.txt").unlink()
    status = await reply_to(api, 1, "/reload")
    await api.wait_for(lambda: "removed 1" in status["text"], timeout=10)
    before = len(api.sent_messages(USER))
    presses = {
        "about:zz": STALE_BUTTON,
        "about:" + "0" * 16: ARTICLE_GONE,
        asks[f"Ask about: {STADIUM}"]: ARTICLE_GONE,
    }
    for data in presses:
        api.press_button(USER, answer["message_id"], data, check_keyboard=False)
    await api.wait_for(lambda: len(api.callback_answers) == 2 + len(presses))
    notices = sorted(a["text"] for a in api.callback_answers[2:])
    assert notices == sorted(presses.values())  # pressed at once, answered in any order
    await all_handled(api)
    assert len(api.sent_messages(USER)) == before  # no prompt for any of them
    assert not error_records(caplog)


async def test_a_follow_up_is_answered_on_its_own_when_the_store_fails(
    api, start_bot, town, caplog
):
    write_bridge(town)
    app = await start_bot(corpus=town)
    first = await reply_to(api, USER, ABOUT_THE_BRIDGE)
    # Once its row is written, a follow-up looks it up in the store.
    queries, unsaved = app.bot_data.services.queries, app.bot_data.unsaved_queries
    await eventually(lambda: queries.for_message(USER, first["message_id"]))
    await eventually(lambda: not unsaved.for_message(USER, first["message_id"]))

    def broken(chat_id: int, message_id: int):
        raise sqlite3.OperationalError("database is locked")

    queries.for_message = broken
    follow_up = await reply_to_message(api, USER, first, WHO_OPPOSED)
    assert SHOP_OWNERS in blockquotes(follow_up)[0]  # as if asked alone
    [logged] = error_records(caplog)
    assert "could not read the question a follow-up replies to" in logged.getMessage()
