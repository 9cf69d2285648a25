"""End to end, through the fake Bot API: readers get the bot's texts in their Telegram
language, ``/language`` changes a chat's (its menu and alerts follow, across a restart),
alerts go out in each subscriber's language, ``BOT_LANGUAGE`` sets the default, and the
command menu is set per language. Every message sent is checked as Telegram would check it
(the fake rejects broken HTML and over-long texts)."""

from __future__ import annotations

import datetime as dt
import sqlite3

from helpers import (
    ADMIN,
    QUESTION,
    alerts,
    all_handled,
    assert_accepted_html,
    blockquotes,
    buttons,
    reply_to,
    settle,
    stop_bot,
    write_article,
)

from bot.config import Config
from bot.console import Console
from bot.i18n import FSI, LRI, PDI, RLM, available_languages, texts_for
from bot.services import Services
from bot.telegram_app.keyboards import STALE_BUTTON
from bot.telegram_app.menus import command_menu

SEED_DATE = dt.date(2020, 8, 16)  # of the seed corpus's article
RU, ES, FA = texts_for("ru"), texts_for("es"), texts_for("fa")


def descriptions(commands: list[dict]) -> list[str]:
    return [c["description"] for c in commands]


def menu_descriptions(admin: bool, language: str) -> list[str]:
    return [c.description for c in command_menu(admin, texts_for(language))]


def write_council_article(corpus):
    write_article(
        corpus,
        "council.txt",
        "Council approves new harbour bridge",
        "The city council approved the new harbour bridge on Tuesday after a long debate.",
        url="https://news.example.com/bridge",
    )


async def test_a_russian_reader_gets_russian_replies(bot_env):
    api, _app, services = bot_env
    reader, english = 501, 502

    start = await reply_to(api, reader, "/start", language_code="ru")
    assert_accepted_html(start)
    assert start["text"].startswith("Здравствуйте!") and QUESTION in start["text"]

    help_ru = await reply_to(api, reader, "/help", language_code="ru")
    assert "Команды:" in help_ru["text"] and "/ask <вопрос> — вопрос о статьях" in help_ru["text"]
    assert "/reload" not in help_ru["text"]

    answer = await reply_to(api, reader, QUESTION, language_code="ru")
    assert_accepted_html(answer)
    assert any("Pompeo" in q for q in blockquotes(answer))
    assert RU.date(SEED_DATE) in answer["text"] and "абз. " in answer["text"]
    assert all(b["text"].startswith("Читать: ") for b in buttons(answer) if "url" in b)

    refused = await reply_to(api, reader, "!!! ???", language_code="ru")
    assert refused["text"] == RU.gettext(
        "I could not find any searchable words in that. Try a question with names or topics."
    )
    latest = await reply_to(api, reader, "/latest", language_code="ru")
    assert_accepted_html(latest)
    assert latest["text"].startswith("Последние статьи") and RU.date(SEED_DATE) in latest["text"]

    subscribed = await reply_to(api, reader, "/subscribe выборы", language_code="ru")
    assert subscribed["text"].startswith("Вы подписаны на «выборы».")
    assert "Ваши оповещения:\n• «выборы»" in subscribed["text"]
    removed = await reply_to(api, reader, "/unsubscribe all", language_code="ru")
    assert removed["text"].startswith("Удалена 1 подписка.")

    before = len(api.sent_messages(reader))
    api.send_sticker(reader)  # the reader's Telegram is still in Russian
    [sticker_reply] = (await api.wait_for_messages(reader, before + 1))[before:]
    assert sticker_reply["text"] == "Я понимаю только текст. Напишите, пожалуйста, свой вопрос."

    # Another reader, another language, at the same time.
    help_en = await reply_to(api, english, "/help", language_code="en")
    assert "Commands:" in help_en["text"]
    # Telegram sends regional tags; a language the bot lacks falls back to BOT_LANGUAGE (en).
    assert "Comandos:" in (await reply_to(api, 503, "/help", language_code="es-419"))["text"]
    assert "Commands:" in (await reply_to(api, 504, "/help", language_code="de"))["text"]
    assert services.subscriptions.remembered_language(reader) == "ru"  # for its alerts


async def test_language_changes_the_chat_its_menu_and_survives_a_restart(api, start_bot, tmp_path):
    app = await start_bot()
    reader = 601
    chooser = await reply_to(api, reader, "/language", language_code="ru")
    assert chooser["text"].startswith("Я отвечаю каждому на языке его Telegram (вам — Русский)")
    choices = [b["callback_data"] for b in buttons(chooser)]
    assert choices == [f"lang:{code}" for code in available_languages()] + ["lang:auto"]
    assert [b["text"] for b in buttons(chooser)][:5] == [
        "English",
        "العربية",
        "Español",
        "فارسی",
        "Русский",
    ]
    assert buttons(chooser)[-1]["text"] == "✓ Язык Telegram"

    api.press_button(reader, chooser["message_id"], "lang:es")
    await api.wait_for(lambda: chooser["edits"] >= 1)
    assert api.callback_answers[-1]["text"] == "Español"
    assert chooser["text"].startswith("Idioma de mis respuestas en este chat: Español.")
    assert buttons(chooser)[2]["text"] == "✓ Español"
    services = app.bot_data.services
    assert services.subscriptions.language(reader) == "es"
    chat_scope = {"type": "chat", "chat_id": reader}
    assert descriptions(api.get_commands(chat_scope)) == menu_descriptions(False, "es")

    # The choice beats the reader's Telegram language, and outlives the process.
    help_es = await reply_to(api, reader, "/help", language_code="ru")
    assert "Comandos:" in help_es["text"]
    await stop_bot(app)
    app = await start_bot(data_dir=tmp_path / "data")
    assert "Comandos:" in (await reply_to(api, reader, "/help", language_code="ru"))["text"]

    # Strict callback data: a language the bot lacks, a forged payload.
    api.press_button(reader, chooser["message_id"], "lang:de", check_keyboard=False)
    await api.wait_for(lambda: not api.unanswered_callback_queries())
    assert api.callback_answers[-1]["text"] == ES.gettext(STALE_BUTTON)
    unknown = await reply_to(api, reader, "/language klingon", language_code="ru")
    assert unknown["text"] == "No tengo textos en «klingon». Tengo: en, ar, es, fa, ru, auto."

    # Back to Telegram's language: Russian again, and the chat's own menu is gone.
    auto = await reply_to(api, reader, "/language auto", language_code="ru")
    assert auto["text"].startswith("Я отвечаю каждому на языке его Telegram")
    assert api.get_commands(chat_scope) == []
    assert app.bot_data.services.subscriptions.language(reader) is None
    assert "Команды:" in (await reply_to(api, reader, "/help", language_code="ru"))["text"]


async def test_alerts_go_out_in_each_subscribers_language(api, start_bot, corpus_dir, tmp_path):
    app = await start_bot()
    russian, persian, english = 701, 702, 703
    await reply_to(api, russian, "/subscribe", language_code="ru")
    await reply_to(api, persian, "/language fa", language_code="en")
    await reply_to(api, persian, "/subscribe", language_code="en")
    await reply_to(api, english, "/subscribe", language_code="en")
    await stop_bot(app)  # alerts are sent with no reader to ask: the store must know
    app = await start_bot(data_dir=tmp_path / "data")

    write_council_article(corpus_dir)
    status = await reply_to(api, ADMIN, "/reload")
    await api.wait_for(lambda: "Alerts queued: 3." in status["text"], timeout=10)
    await settle(app)
    await api.wait_for(lambda: all(alerts(api, c) for c in (russian, persian, english)))
    date = dt.date(2024, 5, 2)
    expected = {
        russian: (RU, ["Читать статью", "Спросить об этой статье"]),
        persian: (FA, ["خواندن مقاله", "پرسیدن دربارهٔ این مقاله"]),
        english: (texts_for("en"), ["Read the article", "Ask about this article"]),
    }
    for chat, (texts, labels) in expected.items():
        [alert] = alerts(api, chat)
        assert_accepted_html(alert)
        assert texts.date(date) in alert["text"]
        assert [b["text"] for b in buttons(alert)] == labels
    [persian_alert] = alerts(api, persian)
    # Right to left: the line's direction is marked and each Latin part isolated.
    assert persian_alert["text"].startswith(f"{RLM}🆕 {FSI}Council approves new harbour bridge")
    assert "۲۰۲۴" in persian_alert["text"]


async def test_bot_language_es_makes_spanish_the_default(api, start_bot):
    await start_bot(language="es")
    no_language = await reply_to(api, 801, "/help", language_code=None)  # Telegram sent none
    assert "Comandos:" in no_language["text"]
    assert "Comandos:" in (await reply_to(api, 802, "/help", language_code="de"))["text"]
    assert "Commands:" in (await reply_to(api, 803, "/help", language_code="en"))["text"]
    assert "Команды:" in (await reply_to(api, 804, "/help", language_code="ru"))["text"]
    # The default menu (readers whose language the bot lacks) is Spanish too.
    assert descriptions(api.get_commands()) == menu_descriptions(False, "es")
    assert descriptions(api.get_commands(None, "en")) == menu_descriptions(False, "en")


async def test_the_command_menu_is_set_per_language(bot_env):
    api, _app, _services = bot_env
    admin_scope = {"type": "chat", "chat_id": ADMIN}
    assert descriptions(api.get_commands()) == menu_descriptions(False, "en")
    for code in available_languages():
        assert descriptions(api.get_commands(None, code)) == menu_descriptions(False, code)
        assert descriptions(api.get_commands(admin_scope, code)) == menu_descriptions(True, code)
    persian = FA.gettext("ask about the articles (in private chats just type it)")
    assert descriptions(api.get_commands(None, "fa"))[0] == persian
    # An admin who chooses a language gets every admin menu in it, whatever Telegram says.
    chosen = await reply_to(api, ADMIN, "/language ru")
    assert chosen["text"].startswith("Язык ответов в этом чате: Русский.")
    for code in ("", *available_languages()):
        assert descriptions(api.get_commands(admin_scope, code)) == menu_descriptions(True, "ru")


async def test_only_a_groups_admins_choose_its_language(bot_env):
    api, _app, services = bot_env
    group = -900
    api.set_chat_admins(group, [1001])
    refused = await reply_to(api, group, "/language es", user_id=1003, language_code="ru")
    assert refused["text"] == "Менять настройки этой группы могут только её администраторы."
    assert services.subscriptions.language(group) is None
    chosen = await reply_to(api, group, "/language es", user_id=1001, language_code="en")
    assert chosen["text"].startswith("Idioma de mis respuestas en este chat: Español.")
    member = await reply_to(api, group, "/ask TikTok", user_id=1003, language_code="ru")
    assert "párr. " in member["text"]  # the group's language, not the member's
    group_menu = api.get_commands({"type": "chat", "chat_id": group})
    assert descriptions(group_menu) == menu_descriptions(False, "es")
    await all_handled(api)


def test_the_console_speaks_bot_language(corpus_dir, tmp_path):
    out: list[str] = []
    config = Config(corpus_dir=corpus_dir, data_dir=tmp_path / "data", language="fa")
    services = Services.open(config)
    try:
        console = Console(services, out.append)
        console.handle("/help")
        assert "فرمان\u200cها:" in out[-1]
        console.handle("/more")
        assert out[-1] == "اول پرسشی بپرسید."
        console.handle("TikTok")  # the answer's citation is in Persian too
        assert "بند " in out[-1] and "۱۶ اوت ۲۰۲۰" in out[-1]
        console.handle("")
        assert out[-1].startswith("لطفاً پرسشی بنویسید")
        console.handle("/nope")
        assert out[-1] == f"فرمان ناشناخته: {FSI}/nope{PDI}. {LRI}/help{PDI} را امتحان کنید."
        console.handle("/subscribe")
        assert "TELEGRAM_BOT_TOKEN" in out[-1]
    finally:
        services.close()


async def test_a_choice_the_store_cannot_keep_is_refused_and_nothing_changes(bot_env, monkeypatch):
    api, app, services = bot_env

    def full_disk(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(services.subscriptions, "set_language", full_disk)
    refused = await reply_to(api, 1101, "/language es", language_code="ru")
    assert refused["text"] == "Извините, не получилось. Попробуйте ещё раз."
    assert app.bot_data.languages == {} and services.subscriptions.language(1101) is None
    assert api.get_commands({"type": "chat", "chat_id": 1101}) == []
    assert "Команды:" in (await reply_to(api, 1101, "/help", language_code="ru"))["text"]
