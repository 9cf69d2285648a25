"""Alert fan-out benchmark: one new article to N subscribers through the outbox, at
Telegram's rates.

    python -m benchmarks.bench_fanout [--subscribers 10000] [--groups 0.1] [--profile FILE]

(from the repository root, with the project installed: ``pip install -e '.[bench]'``; the
fake Bot API server is imported from ``tests/fake_bot_api``.)

Setup: a temporary corpus holding the seed article (``corpus/000_de0f464e244af8da.txt``) and a
temporary data dir; ``Services.open`` and its catch-up step (first start: records the corpus,
announces nothing);
N chats subscribe to everything (a ``--groups`` share of them groups, negative ids); one new
article is added and ``services.reload()`` must queue exactly N alerts.

Delivery takes the production path: ``ExtBot`` with ``AIORateLimiter(max_retries=0)`` (as
``build_application`` configures it), ``telegram_sender`` and ``AlertDelivery`` with its default
``RateLimiter``, against the fake Bot API (``tests/fake_bot_api``) in the same event loop with
Telegram's flood limits enforced (30 msg/s overall, 1/s per chat, 20/min per group).
``drain()`` is repeated until no row is pending or sending (rows put back by a 429 wait for
their ``retry_after``).

Everything counted comes from the fake server's records, not from the bot's own view:
sustained rate = (sent - 1) / (last send - first send); 429s = flood-limit violations the
server answered; lost = subscribers with no alert; duplicated = subscribers with more than one.
Targets: >= 25 msg/s sustained, 0 lost, 0 duplicated (and, ideally, 0 429s).
A run of 10,000 takes about 6 minutes; ``--subscribers 1000`` is a quick check.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import gc
import logging
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

from telegram.ext import AIORateLimiter, ExtBot

from bot.alerts.delivery import AlertDelivery
from bot.config import Config
from bot.services import Services
from bot.telegram_app.alerts import telegram_sender

try:
    from tests.fake_bot_api import FakeBotAPI
except ModuleNotFoundError:  # run as a script: the repository root is not on the path
    sys.exit("Run from the repository root: python -m benchmarks.bench_fanout [options]")

TOKEN = "123456:BENCH-fanout-token-0123456789"
SEED_ARTICLE = Config().corpus_dir / "000_de0f464e244af8da.txt"  # the shipped corpus
NEW_ARTICLE = """\
Title: Benchmark: city council approves new tram line after long debate
Date: 2024-06-11
Source: Bench Gazette
URL: https://example.org/news/tram-line

The city council approved the long-debated tram line on Tuesday, ending two years of \
hearings, studies and public consultations about the route through the old town.

Construction is expected to start next spring and to take about three years, the council \
said, with the first trams running between the station and the university.
"""
TARGET_RATE = 25.0
MAX_DRAIN_SECONDS = 3600.0
GROUP_ID_BASE = -1_000_000_000_000  # supergroup ids, like most groups today


def chat_ids(n: int, group_share: float) -> list[int]:
    """N chat ids, ``group_share`` of them groups spread evenly through the list."""
    groups = round(n * group_share)
    every = n / groups if groups else 0
    group_slots = {int(i * every) for i in range(groups)}
    return [GROUP_ID_BASE - i if i in group_slots else 10_000_000 + i for i in range(n)]


class LoopLag:
    """Samples how late the event loop wakes a 10 ms sleeper (a stall delays every send), and
    times the full (generation 2) garbage collections, the usual cause of long stalls."""

    def __init__(self, period: float = 0.01) -> None:
        self.period = period
        self.max_lag = 0.0
        self.over_50ms = 0
        self.gc_pauses: list[float] = []
        self._gc_start = 0.0
        self._task: asyncio.Task | None = None

    def _on_gc(self, phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc_pauses.append(time.perf_counter() - self._gc_start)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(self.period)
            lag = loop.time() - start - self.period
            self.max_lag = max(self.max_lag, lag)
            self.over_50ms += lag > 0.05

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def max_in_window(times: list[float], span: float = 1.0) -> int:
    best, left = 0, 0
    for right, t in enumerate(times):
        while times[left] <= t - span:
            left += 1
        best = max(best, right - left + 1)
    return best


async def deliver_all(services: Services, api: FakeBotAPI, profile: Path | None) -> dict:
    bot = ExtBot(TOKEN, base_url=api.base_url, rate_limiter=AIORateLimiter(max_retries=0))
    drains = 0
    retried = 0
    lag = LoopLag()
    profiler = cProfile.Profile() if profile else None
    async with bot:
        delivery = AlertDelivery(
            services.outbox, services.subscriptions, telegram_sender(bot, services.current_index)
        )
        lag.start()
        if profiler:
            profiler.enable()
        start = time.perf_counter()
        while True:
            stats = await delivery.drain()
            drains += 1
            retried += stats.retried
            counts = services.outbox.counts()
            if not counts.undelivered:
                break
            if time.perf_counter() - start > MAX_DRAIN_SECONDS:
                print(f"gave up after {MAX_DRAIN_SECONDS:.0f}s with {counts}", file=sys.stderr)
                break
            await asyncio.sleep(0.25)  # rows waiting for their retry_after
        wall = time.perf_counter() - start
        if profiler:
            profiler.disable()
        await lag.stop()
    if profiler:
        profiler.dump_stats(profile)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return {"wall": wall, "drains": drains, "retried": retried, "lag": lag}


async def run(n: int, group_share: float, profile: Path | None) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench_fanout_"))
    try:
        corpus, data = tmp / "corpus", tmp / "data"
        corpus.mkdir()
        shutil.copy(SEED_ARTICLE, corpus / SEED_ARTICLE.name)
        t0 = time.perf_counter()
        services = Services.open(Config(corpus_dir=corpus, data_dir=data))
        await services.catch_up_alerts()
        open_s = time.perf_counter() - t0
        try:
            ids = chat_ids(n, group_share)
            t0 = time.perf_counter()
            for chat_id in ids:
                kind = "supergroup" if chat_id < 0 else "private"
                services.subscriptions.subscribe(chat_id, "", chat_type=kind)
            subscribe_s = time.perf_counter() - t0

            (corpus / "001_bench_new_article.txt").write_text(NEW_ARTICLE, encoding="utf-8")
            t0 = time.perf_counter()
            outcome = await services.reload()
            reload_s = time.perf_counter() - t0
            queued = outcome.alerts
            if queued is None or queued.queued != n or len(queued.new_article_ids) != 1:
                print(
                    f"FAIL: reload queued {outcome.queued} alerts "
                    f"({outcome.alert_error or queued}), expected {n} for one article",
                    file=sys.stderr,
                )
                return 1

            async with FakeBotAPI(token=TOKEN) as api:
                api.enforce_rate_limits()  # Telegram's: 30/s, 1/s per chat, 20/min per group
                result = await deliver_all(services, api, profile)
                sends = sorted(r["time"] for r in api.calls("sendMessage") if r["status"] == 200)
                violations = list(api.rate_violations)
                per_chat = collections.Counter(m["chat_id"] for m in api.sent_messages())
            outbox = services.outbox.counts()
        finally:
            services.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    sent = len(sends)
    span = sends[-1] - sends[0] if sent > 1 else 0.0
    sustained = (sent - 1) / span if span else float("nan")
    lost = sum(1 for chat_id in ids if per_chat[chat_id] == 0)
    duplicated = sum(1 for chat_id in ids if per_chat[chat_id] > 1)
    strangers = sum(1 for chat_id in per_chat if chat_id not in set(ids))
    scopes = collections.Counter(v["scope"] for v in violations)
    lag: LoopLag = result["lag"]
    groups = sum(1 for chat_id in ids if chat_id < 0)

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print(f"subscribers        {n} ({groups} groups, {n - groups} private)")
    print(
        f"setup              open {open_s:.2f}s, subscribe {subscribe_s:.2f}s, "
        f"reload+queue {reload_s:.2f}s ({queued.queued} queued)"
    )
    print(
        f"wall time          {result['wall']:.1f}s ({result['drains']} drain calls, "
        f"{result['retried']} sends put back for retry)"
    )
    print(f"sent (server)      {sent} between first and last send {span:.1f}s")
    print(
        f"sustained rate     {sustained:.2f} msg/s   target >= {TARGET_RATE:.0f}  "
        f"{verdict(sustained >= TARGET_RATE)}"
    )
    print(f"busiest 1s window  {max_in_window(sends)} sends (Telegram allows 30)")
    print(
        f"429s received      {len(violations)} {dict(scopes) or ''}  target 0  "
        f"{verdict(not violations)}"
    )
    print(f"lost               {lost}   target 0  {verdict(lost == 0)}")
    print(f"duplicated         {duplicated}   target 0  {verdict(duplicated == 0)}")
    if strangers:
        print(f"unexpected chats   {strangers}")
    print(f"outbox             {outbox}")
    print(
        f"event loop lag     max {lag.max_lag * 1000:.0f} ms, {lag.over_50ms} stalls > 50 ms; "
        f"{len(lag.gc_pauses)} full GCs, longest {max(lag.gc_pauses, default=0) * 1000:.0f} ms"
    )
    ok = sustained >= TARGET_RATE and lost == 0 and duplicated == 0
    return 0 if ok else 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--groups", type=float, default=0.1, help="share of group chats")
    parser.add_argument("--profile", type=Path, help="cProfile the delivery into this file")
    args = parser.parse_args()
    if args.subscribers < 1 or not 0 <= args.groups <= 1:
        parser.error("--subscribers must be >= 1 and --groups within 0..1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Each 429 would print a traceback here (max_retries=0); they are counted from the server.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    return asyncio.run(run(args.subscribers, args.groups, args.profile))


if __name__ == "__main__":
    sys.exit(main())
