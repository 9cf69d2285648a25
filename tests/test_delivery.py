"""The alert limiter's pacing: global spacing measured at send time, per-chat spacing."""

from __future__ import annotations

import asyncio
import itertools
import time

from bot.alerts.delivery import RateLimiter


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
