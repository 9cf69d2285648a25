"""Alert delivery at the depth of each decision: the limiter's pacing, what
``AlertDelivery`` does with each outcome of a send (a scripted ``Send`` on a real outbox),
and how ``telegram_sender`` maps Telegram's answers to outcomes (a real ``Bot`` against the
fake Bot API)."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from fake_bot_api import FakeBotAPI
from helpers import TOKEN, eventually
from telegram import Bot

from bot.alerts.delivery import AlertDelivery, DeliveryStats, Outcome, RateLimiter, SendResult
from bot.articles.model import Article
from bot.store import AlertCounts, AlertOutbox, OutboxRow, SubscriptionStore, open_database
from bot.store.db import query
from bot.telegram_app.alerts import TOKEN_WAIT, telegram_sender


async def _send_times(limiter: RateLimiter, chats: list[int], stall: float = 0.0) -> list[float]:
    times: list[float] = []

    async def one(chat_id: int) -> None:
        await limiter.acquire(chat_id)
        times.append(time.monotonic())

    tasks = [asyncio.create_task(one(c)) for c in chats]
    await asyncio.sleep(0.02)
    time.sleep(stall)  # noqa: ASYNC251 — the event loop is blocked, as by a slow disk write
    await asyncio.gather(*tasks)
    return sorted(times)


def _max_in_window(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


async def test_global_spacing_survives_an_event_loop_stall() -> None:
    limiter = RateLimiter(per_second=50.0)
    times = await _send_times(limiter, list(range(1, 41)), stall=0.3)
    # 50/s allows 5 sends in 0.1 s (6 at a window's edges); a burst after the stall would
    # release every overdue send at once.
    assert _max_in_window(times, 0.1) <= 6


async def test_one_chat_is_spaced_by_its_interval() -> None:
    limiter = RateLimiter(per_second=1000.0, chat_interval=0.05, group_interval=0.15)
    private = await _send_times(limiter, [7, 7, 7])
    group = await _send_times(limiter, [-7, -7])
    assert all(b - a >= 0.045 for a, b in itertools.pairwise(private))
    assert group[1] - group[0] >= 0.14


# -- AlertDelivery: every outcome of a send, on a real outbox ------------------------------

FAST = {"per_second": 10_000.0, "chat_interval": 0.0, "group_interval": 0.0}


class ScriptedSend:
    """A ``Send`` answering from a script per chat (then SENT), recording every call."""

    def __init__(self, script: dict[int, list[SendResult | Exception]]) -> None:
        self.script = {chat: list(results) for chat, results in script.items()}
        self.calls: list[tuple[int, str]] = []

    async def __call__(self, row: OutboxRow) -> SendResult:
        self.calls.append((row.chat_id, row.article_id))
        results = self.script.get(row.chat_id)
        result = results.pop(0) if results else SendResult(Outcome.SENT, message_id=len(self.calls))
        if isinstance(result, Exception):
            raise result
        return result


@pytest.fixture
def store():
    """(outbox, subscriptions) on a fresh database, chats 1-3 subscribed, article "a"
    queued for all three."""
    conn = open_database(":memory:")
    subscriptions = SubscriptionStore(conn)
    outbox = AlertOutbox(conn, max_attempts=3)
    for chat in (1, 2, 3):
        subscriptions.subscribe(chat, "")
    outbox.queue_new_articles([], lambda _: [])  # the first scan announces nothing
    outbox.queue_new_articles([("a", "A")], lambda _: [1, 2, 3])
    yield outbox, subscriptions
    conn.close()


def statuses(outbox: AlertOutbox) -> dict[int, tuple[str, int, str | None]]:
    rows = query(outbox._conn, "SELECT chat_id, status, attempts, last_error FROM alert_outbox")
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


async def drain(store, script) -> tuple[ScriptedSend, DeliveryStats]:
    outbox, subscriptions = store
    send = ScriptedSend(script)
    stats = await AlertDelivery(outbox, subscriptions, send, RateLimiter(**FAST)).drain()
    return send, stats


async def test_sent_alerts_are_marked_sent(store) -> None:
    send, stats = await drain(store, {})
    assert sorted(send.calls) == [(1, "a"), (2, "a"), (3, "a")]
    assert stats.sent == 3 and store[0].counts() == AlertCounts(sent=3)


async def test_waits_never_use_up_attempts(store) -> None:
    waits = [SendResult(Outcome.WAIT, retry_after=0.0, error="Timed out")] * 7  # > max 3
    send, stats = await drain(store, {1: waits})
    assert send.calls.count((1, "a")) == 8
    assert statuses(store[0])[1] == ("sent", 1, None)
    assert stats.retried == 7 and stats.sent == 3 and stats.failed == 0


async def test_a_wait_holds_every_send_for_its_retry_after(store) -> None:
    outbox, subscriptions = store
    wait = SendResult(Outcome.WAIT, retry_after=30.0, error="Too Many Requests")
    send = ScriptedSend({1: [wait]})
    delivery = AlertDelivery(outbox, subscriptions, send, RateLimiter(**FAST), batch_size=1)
    task = asyncio.create_task(delivery.drain())
    await eventually(lambda: statuses(outbox)[2][0] == "sending")  # claimed, not sent
    await asyncio.sleep(0.1)
    assert send.calls == [(1, "a")]  # flood control may be bot-wide: nobody gets anything
    assert statuses(outbox)[1] == ("pending", 0, "Too Many Requests")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_retries_are_counted_and_give_up(store) -> None:
    retry = SendResult(Outcome.RETRY, retry_after=0.0, error="something odd")
    send, stats = await drain(store, {2: [retry, retry, retry]})
    assert send.calls.count((2, "a")) == 3
    assert statuses(store[0])[2] == ("failed", 3, "something odd")
    assert stats.retried == 3 and stats.sent == 2


async def test_an_exception_in_send_is_a_counted_retry(store, caplog) -> None:
    _send, stats = await drain(store, {2: [RuntimeError("bug")]})
    status, attempts, error = statuses(store[0])[2]
    assert (status, attempts) == ("pending", 1) and "bug" in error  # again in 30 s
    assert stats.retried == 1 and "alert a to chat 2 failed" in caplog.text


async def test_a_gone_chat_is_deactivated(store) -> None:
    outbox, subscriptions = store
    gone = SendResult(Outcome.GONE, error="Forbidden: bot was blocked by the user")
    _send, stats = await drain(store, {3: [gone]})
    assert not subscriptions.is_active(3) and subscriptions.is_active(1)
    assert statuses(outbox)[3][0] == "skipped" and stats.gone == 1
    assert subscriptions.topics(3) == [""]  # kept, for when the chat comes back


async def test_a_migrated_group_is_followed(store) -> None:
    outbox, subscriptions = store
    moved = SendResult(Outcome.MIGRATED, new_chat_id=-1001, error="upgraded")
    send, stats = await drain(store, {2: [moved]})
    assert send.calls.count((-1001, "a")) == 1 and stats.migrated == 1
    assert statuses(outbox)[-1001][0] == "sent" and 2 not in statuses(outbox)
    assert subscriptions.topics(-1001) == [""] and subscriptions.topics(2) == []


async def test_a_failed_alert_is_not_tried_again(store) -> None:
    failed = SendResult(Outcome.FAILED, error="Bad Request: message is too long")
    send, stats = await drain(store, {1: [failed]})
    assert send.calls.count((1, "a")) == 1
    assert statuses(store[0])[1] == ("failed", 1, "Bad Request: message is too long")
    assert stats.failed == 1 and stats.errors == ["Bad Request: message is too long"]


# -- telegram_sender: Telegram's answers as outcomes, through the fake Bot API ------------

ARTICLE = Article(id="a", title="Harbour bridge opens", text="The bridge opened today.")


class OneArticle:
    """The smallest stand-in for the live index the sender reads: ``article(id)``."""

    def article(self, article_id: str) -> Article | None:
        return ARTICLE if article_id == ARTICLE.id else None


def outbox_row(chat_id: int = 42, article_id: str = "a") -> OutboxRow:
    return OutboxRow(1, chat_id, article_id, "Harbour bridge opens", attempts=1, silent=False)


@pytest.mark.parametrize(
    ("inject", "outcome", "detail"),
    [
        (None, Outcome.SENT, None),
        ({"error_code": 429, "retry_after": 7}, Outcome.WAIT, 7.0),
        ({"error_code": 403}, Outcome.GONE, None),
        ({"error_code": 400, "description": "Bad Request: chat not found"}, Outcome.GONE, None),
        ({"error_code": 400, "description": "Bad Request: can't parse"}, Outcome.FAILED, None),
        ({"error_code": 400, "migrate_to_chat_id": -1009}, Outcome.MIGRATED, -1009),
        ({"error_code": 500}, Outcome.WAIT, 0.25),
        ({"error_code": 502}, Outcome.WAIT, 0.25),
        ({"error_code": 401}, Outcome.WAIT, TOKEN_WAIT),
        ({"garbled": b"<html>bad gateway</html>"}, Outcome.WAIT, 0.25),  # HTTP 200, not JSON
        ({"garbled": b""}, Outcome.WAIT, 0.25),
    ],
)
async def test_telegram_answers_map_to_outcomes(inject, outcome, detail) -> None:
    async with FakeBotAPI(token=TOKEN) as api, Bot(TOKEN, base_url=api.base_url) as bot:
        if inject and "garbled" in inject:
            api.garble_next("sendMessage", body=inject["garbled"])
        elif inject:
            api.fail_next("sendMessage", **inject)
        send = telegram_sender(bot, OneArticle, transient_wait=0.25)
        result = await send(outbox_row())
    assert result.outcome is outcome, result
    if outcome is Outcome.WAIT:
        assert result.retry_after == detail
    if outcome is Outcome.MIGRATED:
        assert result.new_chat_id == detail
    if outcome is Outcome.SENT:
        assert result.message_id == api.sent_messages(42)[0]["message_id"]


async def test_an_unreachable_api_is_a_wait() -> None:
    bot = Bot(TOKEN, base_url="http://127.0.0.1:9/bot")  # nothing listens there
    result = await telegram_sender(bot, OneArticle, transient_wait=0.25)(outbox_row())
    await bot.shutdown()
    assert result.outcome is Outcome.WAIT and result.retry_after == 0.25


async def test_an_article_gone_from_the_corpus_fails_its_alert() -> None:
    async with FakeBotAPI(token=TOKEN) as api, Bot(TOKEN, base_url=api.base_url) as bot:
        result = await telegram_sender(bot, OneArticle)(outbox_row(article_id="removed"))
        assert api.calls("sendMessage") == []
    assert result.outcome is Outcome.FAILED


async def test_garbled_answers_for_longer_than_the_attempts_lose_no_alert(store) -> None:
    """Issue 13.7: a Bot API answering 200 with a non-JSON body, over and over."""
    outbox, subscriptions = store
    async with FakeBotAPI(token=TOKEN) as api, Bot(TOKEN, base_url=api.base_url) as bot:
        api.garble_next("sendMessage", times=12)  # 4 per alert, each allowed 3 attempts
        send = telegram_sender(bot, OneArticle, transient_wait=0.0)
        delivery = AlertDelivery(outbox, subscriptions, send, RateLimiter(**FAST))
        await delivery.drain()
        garbled = [r for r in api.calls("sendMessage") if r["description"] == "injected raw body"]
        assert len(garbled) == 12
        assert sorted(m["chat_id"] for m in api.sent_messages()) == [1, 2, 3]
    assert outbox.counts() == AlertCounts(sent=3)
    assert all(attempts == 1 for _status, attempts, _error in statuses(outbox).values())
