"""Tests of the fake Bot API itself, driven by PTB's real ``telegram.Bot`` over real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
import urllib.error
import urllib.request

import pytest
from fake_bot_api import FakeBotAPI, parse_html, utf16_len
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import Application, ContextTypes, MessageHandler, filters

TOKEN = "123456:TEST-fake-token"
CHAT = 4242


@pytest.fixture
async def api():
    async with FakeBotAPI(token=TOKEN) as server:
        yield server


@pytest.fixture
async def bot(api):
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


def _seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# --------------------------------------------------------------------------- basics


async def test_get_me(api, bot):
    me = await bot.get_me()
    assert me.username == "fake_news_bot"
    assert me.id == 123456
    assert me.is_bot and me.can_join_groups and me.supports_inline_queries
    assert api.base_url.startswith("http://127.0.0.1:") and api.port > 0


async def test_wrong_token_is_invalid_token(api):
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=api.base_url):
            pass  # pragma: no cover
    assert api.requests[-1]["status"] == 401
    assert api.requests[-1]["response"]["description"] == "Unauthorized"


async def test_unknown_method_is_404_and_recorded(api, bot):
    with pytest.raises(Exception, match="Not Found|not found"):
        await bot.do_api_request("sendDice", api_kwargs={"chat_id": CHAT})
    assert api.calls("sendDice")[0]["status"] == 404


async def test_token_only_in_urls(api, bot):
    await bot.send_message(
        CHAT,
        "hello",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x")]]),
    )
    assert api.requests
    for req in api.requests:
        assert TOKEN in req["url"]
        assert TOKEN not in json.dumps(req["params"])
        assert TOKEN not in (req["body"] or "")
    # PTB 22 sends form-urlencoded bodies with JSON-encoded non-string values
    send = api.calls("sendMessage")[0]
    assert send["content_type"] == "application/x-www-form-urlencoded"
    assert send["params"]["chat_id"] == str(CHAT)
    assert json.loads(send["params"]["reply_markup"])["inline_keyboard"][0][0]["text"] == "x"


# --------------------------------------------------------------------------- sendMessage / HTML


async def test_send_html_message(api, bot):
    html = (
        "<b>Bold</b> <blockquote>A quote</blockquote> "
        '<a href="https://example.com/a?x=1&amp;y=2">source</a> &lt;script&gt;'
    )
    msg = await bot.send_message(CHAT, html, parse_mode=ParseMode.HTML, disable_notification=True)
    assert msg.text == "Bold A quote source <script>"
    assert msg.from_user.username == "fake_news_bot"
    kinds = [(e.type, e.offset, e.length) for e in msg.entities]
    assert kinds == [("bold", 0, 4), ("blockquote", 5, 7), ("text_link", 13, 6)]
    assert msg.entities[2].url == "https://example.com/a?x=1&y=2"
    [record] = api.sent_messages(CHAT)
    assert record["html"] == html and record["text"] == msg.text
    assert record["parse_mode"] == "HTML" and record["disable_notification"] is True
    second = await bot.send_message(CHAT, "again", reply_parameters=ReplyParameters(msg.message_id))
    assert second.message_id == msg.message_id + 1
    assert second.reply_to_message.message_id == msg.message_id


@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("Hello <script>alert(1)</script>", 'Unsupported start tag "script" at byte offset 6'),
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("Q&A", 'Character "&"'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_send_invalid_html_rejected(api, bot, html, detail):
    with pytest.raises(BadRequest, match="parse entities") as err:
        await bot.send_message(CHAT, html, parse_mode=ParseMode.HTML)
    # PTB lower-cases/capitalises the description; the raw one keeps Telegram's wording
    assert detail.lower() in err.value.message.lower()
    description = api.requests[-1]["response"]["description"]
    assert description.startswith("Bad Request: can't parse entities: ") and detail in description
    assert api.sent_messages() == []


async def test_empty_and_too_long_text(bot):
    with pytest.raises(BadRequest, match="[Mm]essage text is empty"):
        await bot.send_message(CHAT, "   ")
    with pytest.raises(BadRequest, match="[Mm]essage text is empty"):
        await bot.send_message(CHAT, "<b> </b>", parse_mode=ParseMode.HTML)
    emoji = "\N{GRINNING FACE}"  # 2 UTF-16 code units
    ok = await bot.send_message(CHAT, emoji * 2048)
    assert utf16_len(ok.text) == 4096
    with pytest.raises(BadRequest, match="[Mm]essage is too long"):
        await bot.send_message(CHAT, emoji * 2048 + "a")
    # tags and entities do not count, only the parsed text does
    await bot.send_message(CHAT, "<b>" + "&amp;" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="[Mm]essage is too long"):
        await bot.send_message(CHAT, "<b>" + "&amp;" * 4097 + "</b>", parse_mode=ParseMode.HTML)


def test_parser_pre_code_language_and_offsets():
    parsed = parse_html('\N{GRINNING FACE} <pre><code class="language-python">x = 1</code></pre>')
    assert parsed.text == "\N{GRINNING FACE} x = 1"
    assert parsed.entities == [{"type": "pre", "offset": 3, "length": 5, "language": "python"}]
    assert parse_html("&#128512;&#x41;&quot;").text == '\N{GRINNING FACE}A"'
    quote = parse_html("<blockquote expandable>long</blockquote><tg-spoiler>s</tg-spoiler>")
    assert [e["type"] for e in quote.entities] == ["expandable_blockquote", "spoiler"]


# --------------------------------------------------------------------------- keyboards / callbacks


async def test_callback_data_byte_limit(bot):
    ok = "\N{LATIN SMALL LETTER E WITH ACUTE}" * 32  # 64 bytes in UTF-8, 32 characters
    await bot.send_message(
        CHAT,
        "ok",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data=ok)]]),
    )
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(
            CHAT,
            "bad",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("b", callback_data=ok + "x")]]
            ),
        )
    with pytest.raises(BadRequest, match="(?i)BUTTON_URL_INVALID"):
        await bot.send_message(
            CHAT,
            "bad",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("b", url="javascript:alert(1)")]]
            ),
        )


async def test_press_button_and_answer_twice(api, bot):
    api.callback_query_timeout = 0.3
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:1")]])
    msg = await bot.send_message(CHAT, "Answer", reply_markup=markup)
    query_id = api.press_button(CHAT, msg.message_id, "more:1")
    [update] = await bot.get_updates(timeout=0)
    assert update.callback_query.data == "more:1"
    assert update.callback_query.message.message_id == msg.message_id
    assert [q["id"] for q in api.unanswered_callback_queries()] == [query_id]
    assert await bot.answer_callback_query(query_id, text="Loading")
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    assert api.unanswered_callback_queries() == []
    assert api.callback_answers[0]["text"] == "Loading"
    late = api.press_button(CHAT, msg.message_id, "more:1")
    await asyncio.sleep(0.35)
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(late)
    with pytest.raises(LookupError):
        api.press_button(CHAT, msg.message_id, "nope")


async def test_edit_message(api, bot):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="m")]])
    msg = await bot.send_message(CHAT, "<i>v1</i>", parse_mode="HTML", reply_markup=markup)
    with pytest.raises(BadRequest, match="[Mm]essage is not modified"):
        await bot.edit_message_text(
            "<i>v1</i>", CHAT, msg.message_id, parse_mode="HTML", reply_markup=markup
        )
    edited = await bot.edit_message_text("<b>v2</b>", CHAT, msg.message_id, parse_mode="HTML")
    assert edited.text == "v2" and edited.reply_markup is None and edited.edit_date
    with pytest.raises(BadRequest, match="[Mm]essage to edit not found"):
        await bot.edit_message_text("x", CHAT, 999)
    await bot.edit_message_reply_markup(CHAT, msg.message_id, reply_markup=markup)
    [record] = api.sent_messages(CHAT)
    assert record["text"] == "v2" and record["html"] == "<b>v2</b>" and record["edits"] == 2
    assert record["reply_markup"] == markup.to_dict()
    assert await bot.delete_message(CHAT, msg.message_id)
    with pytest.raises(BadRequest, match="[Mm]essage to delete not found"):
        await bot.delete_message(CHAT, msg.message_id)
    assert api.sent_messages(CHAT, include_deleted=False) == []


# --------------------------------------------------------------------------- inline mode


async def test_inline_query_answers(api, bot):
    def results(n: int) -> list[InlineQueryResultArticle]:
        return [
            InlineQueryResultArticle(
                str(i), f"t{i}", InputTextMessageContent(f"<b>{i}</b>", "HTML")
            )
            for i in range(n)
        ]

    too_many = api.inline_query(77, "election")
    with pytest.raises(BadRequest, match="(?i)RESULTS_TOO_MUCH"):
        await bot.answer_inline_query(too_many, results(51))
    dup = api.inline_query(77, "dup")
    with pytest.raises(BadRequest, match="(?i)RESULT_ID_DUPLICATE"):
        await bot.answer_inline_query(dup, results(2) + results(1))
    long_id = api.inline_query(77, "long id")
    with pytest.raises(BadRequest, match="(?i)RESULT_ID_INVALID"):
        await bot.answer_inline_query(
            long_id, [InlineQueryResultArticle("x" * 65, "t", InputTextMessageContent("m"))]
        )
    bad_html = api.inline_query(77, "html")
    with pytest.raises(BadRequest, match="parse entities"):
        await bot.answer_inline_query(
            bad_html,
            [
                InlineQueryResultArticle(
                    "1", "t", InputTextMessageContent("<script>", parse_mode="HTML")
                )
            ],
        )
    good = api.inline_query(77, "ok")
    assert await bot.answer_inline_query(good, results(50), cache_time=0)
    [answer] = api.inline_answers
    assert answer["query"] == "ok" and len(answer["results"]) == 50
    updates = await bot.get_updates(timeout=0)
    assert [u.inline_query.query for u in updates] == ["election", "dup", "long id", "html", "ok"]


# --------------------------------------------------------------------------- failures


async def test_blocked_chat_is_forbidden(api, bot):
    api.block_chat(CHAT)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "hi")
    api.my_chat_member(CHAT, CHAT, "kicked", "member")  # user unblocked the bot
    await bot.send_message(CHAT, "hi")
    api.my_chat_member(CHAT, CHAT, "member", "kicked")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(CHAT, "typing")
    updates = await bot.get_updates()
    assert updates[-1].my_chat_member.new_chat_member.status == "kicked"


async def test_fail_next_429_retry_after(api, bot):
    api.fail_next("sendMessage", chat_id=CHAT, retry_after=7)
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(CHAT, "hi")
    assert _seconds(err.value.retry_after) == 7
    assert api.requests[-1]["response"]["description"] == "Too Many Requests: retry after 7"
    await bot.send_message(CHAT, "hi")  # only the next call fails


async def test_rate_limits(api, bot):
    api.enforce_rate_limits(global_per_second=30, per_chat_per_second=1, per_group_per_minute=20)
    await bot.send_message(CHAT, "one")
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(CHAT, "two")
    assert _seconds(err.value.retry_after) >= 1
    await bot.send_message(CHAT + 1, "other chat is fine")
    assert api.count_rate_violations() == 1
    assert api.rate_violations[0]["scope"] == "chat"


async def test_migrate_and_deleted_chat(api, bot):
    api.migrate_chat(-100, -1001234567890)
    with pytest.raises(ChatMigrated) as err:
        await bot.send_message(-100, "hi")
    assert err.value.new_chat_id == -1001234567890
    msg = await bot.send_message(-1001234567890, "hi")
    assert msg.chat.type == "supergroup"
    api.delete_chat(555)
    with pytest.raises(BadRequest, match="[Cc]hat not found"):
        await bot.send_message(555, "hi")


# --------------------------------------------------------------------------- misc methods


async def test_commands_chat_and_members(api, bot):
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand("ask", "Ask")], scope=scope, language_code="en")
    commands = await bot.get_my_commands(scope=scope, language_code="en")
    assert [c.command for c in commands] == ["ask"]
    assert await bot.get_my_commands() == ()
    assert api.get_commands(scope.to_dict(), "en") == [{"command": "ask", "description": "Ask"}]
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Cmd", "x")])
    for bad_language in ("eng", "EN", "pt-br"):  # two lower-case letters, or none
        with pytest.raises(BadRequest, match="(?i)LANGUAGE_CODE_INVALID"):
            await bot.set_my_commands([BotCommand("ask", "Ask")], language_code=bad_language)
    await bot.delete_my_commands(scope=scope, language_code="en")
    assert api.commands == {}

    api.send_group_message(-200, "hello", user_id=7, title="Readers")
    api.set_chat_admins(-200, [7, 8])
    chat = await bot.get_chat(-200)
    assert chat.title == "Readers" and chat.type == "group"
    assert (await bot.get_chat_member(-200, 7)).status == "creator"
    assert (await bot.get_chat_member(-200, 8)).status == "administrator"
    assert (await bot.get_chat_member(-200, 9)).status == "member"
    admins = await bot.get_chat_administrators(-200)
    assert [a.user.id for a in admins] == [7, 8]
    assert await bot.leave_chat(-200)
    with pytest.raises(Forbidden, match="not a member"):
        await bot.send_message(-200, "hi")
    assert await bot.set_webhook("https://example.com/hook")
    assert (await bot.get_webhook_info()).url == "https://example.com/hook"
    assert await bot.delete_webhook()
    assert await bot.send_chat_action(CHAT, "typing")
    assert api.chat_actions[-1]["action"] == "typing"


# --------------------------------------------------------------------------- updates


async def test_user_message_update_shape(api, bot):
    msg = api.send_user_message(CHAT, "/start@fake_news_bot hi #tag", username="reader")
    api.send_sticker(CHAT)
    api.send_photo(CHAT, caption="look")
    api.send_document(CHAT)
    api.send_voice(CHAT)
    api.edit_user_message(CHAT, msg["message_id"], "/help")
    api.migrate_group_update(-300, -1009999)
    updates = await bot.get_updates()
    first = updates[0].message
    assert first.text.startswith("/start") and first.from_user.username == "reader"
    assert [(e.type, e.offset, e.length) for e in first.entities] == [
        ("bot_command", 0, 20),
        ("hashtag", 24, 4),
    ]
    assert first.chat.type == "private"
    assert updates[1].message.sticker and updates[2].message.photo
    assert updates[3].message.document and updates[4].message.voice
    assert updates[5].edited_message.text == "/help"
    assert updates[6].message.migrate_to_chat_id == -1009999
    assert updates[7].message.migrate_from_chat_id == -300
    ids = [u.update_id for u in updates]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # confirming by offset removes them
    assert await bot.get_updates(offset=ids[-1] + 1) == ()
    assert api.pending_updates() == []


async def test_long_poll_returns_promptly_on_injection(api, bot):
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_for(lambda: api.active_long_polls, timeout=2)
    api.send_user_message(CHAT, "ping")
    updates = await asyncio.wait_for(poll, 2)
    assert updates[0].message.text == "ping"
    assert time.monotonic() - started < 1.5


async def test_second_poller_terminates_first_with_conflict(api, bot):
    async with Bot(TOKEN, base_url=api.base_url) as other:
        first = asyncio.create_task(bot.get_updates(timeout=5))
        await api.wait_for(lambda: api.active_long_polls, timeout=2)
        assert await other.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(first, 2)


async def test_application_polling_echo(api):
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(f"echo: {update.message.text}", do_quote=True)

    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=5)
        api.send_user_message(CHAT, "hello <world>")
        [reply] = await api.wait_for_messages(CHAT, 1, timeout=5)
        await app.updater.stop()
        await app.stop()
    assert reply["text"] == "echo: hello <world>"
    assert reply["message"]["reply_to_message"]["text"] == "hello <world>"
    assert api.calls("deleteWebhook") and api.pending_updates() == []


def test_threaded_server_with_sync_client():
    handle = FakeBotAPI.start_in_thread(token=TOKEN)
    try:
        url = f"{handle.base_url}{TOKEN}/sendMessage"
        body = json.dumps({"chat_id": 1, "text": "<b>hi</b>", "parse_mode": "HTML"}).encode()
        req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            payload = json.load(resp)
        assert payload["ok"] and payload["result"]["text"] == "hi"
        assert handle.wait_for_messages(1, 1, timeout=2)[0]["html"] == "<b>hi</b>"
        bad = urllib.request.Request(
            f"{handle.base_url}bad/getMe", b"{}", {"Content-Type": "application/json"}
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(bad, timeout=5)
        assert err.value.code == 401
        err.value.close()
    finally:
        handle.stop()
