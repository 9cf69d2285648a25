"""Delivering queued alerts at Telegram's rates, each exactly once.

The outbox (``bot.store.alerts``) is the source of truth; this loop claims due rows, paces
sends (about 30 messages/s overall, 1/s per chat, 20/min per group) and records each outcome
at once, so a crash at any point resumes where it stopped. The sending itself is a callable,
so this module knows nothing of Telegram.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.store import AlertOutbox, OutboxRow, SubscriptionStore

log = logging.getLogger(__name__)


class Outcome(enum.Enum):
    SENT = "sent"
    WAIT = "wait"  # transient (flood control, the network): again later, however often it takes
    RETRY = "retry"  # an unexpected error (a bug): try again later, a few times at most
    GONE = "gone"  # blocked, kicked, chat deleted: deactivate the chat
    MIGRATED = "migrated"  # group became a supergroup: follow it
    FAILED = "failed"  # this message can never be sent


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    message_id: int | None = None
    retry_after: float = 0.0
    new_chat_id: int | None = None
    error: str = ""


Send = Callable[[OutboxRow], Awaitable[SendResult]]


class RateLimiter:
    """Paces sends: a per-chat spacing (longer for groups) and a global one.

    The global spacing is measured when a send actually starts, under a lock, not booked in
    advance: booked slots all come due at once after the event loop stalls, and the burst
    that follows trips Telegram's flood control.
    """

    def __init__(
        self,
        per_second: float = 27.0,  # under Telegram's 30/s: room for replies and jitter
        chat_interval: float = 1.0,
        group_interval: float = 3.0,  # 20 per minute
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.global_interval = 1.0 / per_second
        self.chat_interval = chat_interval
        self.group_interval = group_interval
        self._clock = clock
        self._next_global = 0.0
        self._next_chat: dict[int, float] = {}
        self._global = asyncio.Lock()

    async def acquire(self, chat_id: int) -> None:
        """Wait until a message to ``chat_id`` may be sent."""
        interval = self.group_interval if chat_id < 0 else self.chat_interval
        chat_slot = max(self._clock(), self._next_chat.get(chat_id, 0.0))
        self._next_chat[chat_id] = chat_slot + interval
        await asyncio.sleep(chat_slot - self._clock())
        async with self._global:
            await asyncio.sleep(self._next_global - self._clock())
            # From the slot, not from waking (which adds a little each time), unless late.
            self._next_global = max(self._next_global, self._clock()) + self.global_interval

    def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said ``retry_after``: flood control may be bot-wide, so nothing is sent
        to anyone before then, and nothing to that chat."""
        until = self._clock() + seconds
        self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), until)
        self._next_global = max(self._next_global, until)


@dataclass(slots=True)
class DeliveryStats:
    sent: int = 0
    retried: int = 0  # WAIT and RETRY: put back for a later drain
    gone: int = 0
    migrated: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # of the failed ones

    def count(self, result: SendResult) -> None:
        match result.outcome:
            case Outcome.SENT:
                self.sent += 1
            case Outcome.WAIT | Outcome.RETRY:
                self.retried += 1
            case Outcome.GONE:
                self.gone += 1
            case Outcome.MIGRATED:
                self.migrated += 1
            case Outcome.FAILED:
                self.failed += 1
                self.errors.append(result.error)


class AlertDelivery:
    """Drains the outbox through ``send``; one drain at a time."""

    def __init__(
        self,
        outbox: AlertOutbox,
        subscriptions: SubscriptionStore,
        send: Send,
        limiter: RateLimiter | None = None,
        batch_size: int = 60,
    ) -> None:
        self.outbox = outbox
        self.subscriptions = subscriptions
        self.send = send
        self.limiter = limiter or RateLimiter()
        self.batch_size = batch_size
        self._lock = asyncio.Lock()

    async def drain(self) -> DeliveryStats:
        """Send every due alert; returns when none is due (retries wait for the next drain).

        The outbox is read and written in worker threads: a reload may be holding the
        database, and the event loop (answering questions) must never wait for it.
        """
        stats = DeliveryStats()
        async with self._lock:
            while rows := await asyncio.to_thread(self.outbox.claim_batch, self.batch_size):
                await asyncio.gather(*(self._deliver(row, stats) for row in rows))
        return stats

    async def _deliver(self, row: OutboxRow, stats: DeliveryStats) -> None:
        await self.limiter.acquire(row.chat_id)
        try:
            result = await self.send(row)
        except Exception as exc:  # a bug or an unexpected error: retry later, do not stall
            log.exception("alert %s to chat %s failed", row.article_id, row.chat_id)
            result = SendResult(Outcome.RETRY, retry_after=30.0, error=repr(exc))
        if result.outcome is Outcome.WAIT:
            self.limiter.hold(row.chat_id, result.retry_after)
        await asyncio.to_thread(self._record, row, result)
        stats.count(result)

    def _record(self, row: OutboxRow, result: SendResult) -> None:
        """Write the outcome of one send to the outbox (blocking)."""
        match result.outcome:
            case Outcome.SENT:
                self.outbox.mark_sent(row.id, result.message_id)
            case Outcome.WAIT:
                self.outbox.mark_retry(row.id, result.retry_after, result.error, transient=True)
            case Outcome.RETRY:
                self.outbox.mark_retry(row.id, result.retry_after, result.error)
            case Outcome.GONE:
                self.subscriptions.deactivate(row.chat_id, result.error or "unreachable")
            case Outcome.MIGRATED:
                # Back to pending first, so the move takes the row along to the new chat id.
                self.outbox.mark_retry(row.id, 0.0, result.error)
                if result.new_chat_id is not None:
                    self.subscriptions.migrate_chat(row.chat_id, result.new_chat_id)
            case Outcome.FAILED:
                self.outbox.mark_failed(row.id, result.error)
