"""Feed polling benchmark: 500 feeds on a loopback server, polled by the bot's own code at
``BOT_FEED_INTERVAL=10``, new entries announced through the fake Bot API.

    python -m benchmarks.bench_feeds [--feeds 500] [--interval 10] [--seconds 90]

(from the repository root, with the project installed: ``pip install -e '.[bench]'``.)

A child process serves, on 127.0.0.1, the feeds and their article pages (on ``--servers``
ports, 50: the sites the feeds belong to, since the bot polls at most two feeds at once per
site) and the fake Bot API (``tests/fake_bot_api``), so that the bot's process does only
the bot's work. Shares of
the feeds: ``--changing`` (25%) gain an entry every ``--period`` seconds (60, each at its own
phase; half of them with the full text in the feed, half with a teaser and a page to
fetch), ``--failing`` (10%) answer 500, ``--slow`` (5%) answer after ``--delay`` seconds (3),
the rest never change (ETag validators: they answer 304). Every feed starts with 10 entries.

The bot side is production code: ``Services.open`` (temporary corpus and data dir), the
feeds followed as ``BOT_FEEDS`` would be, ``Sources.poll_due`` every second as the "feeds"
job does (a round polls what is due), one reload per round that wrote something, and
``AlertDelivery`` with ``telegram_sender`` and the default rate limiter draining in the
background. ``--subscribers`` chats (25) subscribe to one topic each ("deskN"), each feed's
entries naming one desk, so every new entry goes to exactly one chat.

Printed: the first round (priming: every entry archived, nothing announced); then per
steady round: feeds polled, seconds, requests, kB received, documents parsed, 304s; the
process's memory; and the latency from an entry appearing in its feed to its alert being
sent (p50/p95/max; entries not yet announced when the run ends are counted as missing).
Targets: a round <= 10 s; a 304 costs no parse (parsed == changed bodies); entry->alert
p95 <= interval + 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

from telegram.ext import AIORateLimiter, ExtBot

from bot.alerts.delivery import AlertDelivery
from bot.config import Config
from bot.services import Services
from bot.telegram_app.alerts import telegram_sender

try:
    from tests.fake_bot_api import FakeBotAPI
except ModuleNotFoundError:
    sys.exit("Run from the repository root: python -m benchmarks.bench_feeds [options]")

TOKEN = "123456:BENCH-feeds-token-0123456789abc"
SEED_ARTICLE = Config().corpus_dir / "000_de0f464e244af8da.txt"
PARAGRAPH = (
    "The regional council met on {day} to discuss story {n} from desk{desk}, and members "
    "agreed after a long debate that the proposal needed more study before a final vote."
)


@dataclass(frozen=True)
class Plan:
    feeds: int
    changing: float
    failing: float
    slow: float
    period: float
    delay: float
    start: float  # epoch seconds: entries numbered 10+ appear from here on
    seed: int = 7

    def kind(self, i: int) -> str:
        share = i / self.feeds
        if share < self.changing:
            return "changing"
        if share < self.changing + self.failing:
            return "failing"
        if share < self.changing + self.failing + self.slow:
            return "slow"
        return "unchanged"

    def phase(self, i: int) -> float:
        return random.Random(self.seed * 100_003 + i).uniform(0, self.period)

    def appeared(self, i: int, k: int) -> float:
        """When entry ``k`` of feed ``i`` appears (the first 10 are there from the start)."""
        return 0.0 if k < 10 else self.start + self.phase(i) + (k - 10) * self.period

    def entries(self, i: int, now: float) -> int:
        if self.kind(i) != "changing" or now < self.start + self.phase(i):
            return 10
        return 11 + int((now - self.start - self.phase(i)) // self.period)


def desk(i: int, subscribers: int) -> int:
    return i % subscribers


def rss(plan: Plan, i: int, now: float, base: str, subscribers: int) -> str:
    count = plan.entries(i, now)
    full = i % 2 == 0  # half of the changing feeds carry the whole article
    items = []
    for k in range(count - 1, max(count - 11, -1), -1):
        title = f"Feed {i} story {k} desk{desk(i, subscribers)}"
        text = " ".join(
            PARAGRAPH.format(day=d, n=k, desk=desk(i, subscribers)) for d in ("Monday", "Tuesday")
        )
        body = f"<content:encoded><![CDATA[<p>{text}</p>" * 1 + f"<p>{text}</p>" * 3 + "]]>"
        items.append(
            f"<item><title>{title}</title><link>{base}/page/{i}/{k}</link>"
            f'<guid isPermaLink="false">f{i}-{k}</guid>'
            f"<pubDate>{formatdate(max(plan.appeared(i, k), 1e9))}</pubDate>"
            f"<description>Story {k} in short.</description>"
            f"{body + '</content:encoded>' if full else ''}</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Bench feed {i}</title><link>{base}/</link><description>x</description>"
        f"{''.join(items)}</channel></rss>"
    )


def page(i: int, k: int, subscribers: int) -> str:
    paragraphs = "".join(
        f"<p>{PARAGRAPH.format(day=d, n=k, desk=desk(i, subscribers))}</p>"
        for d in ("Monday", "Tuesday", "Wednesday", "Thursday")
    )
    return (
        f"<!DOCTYPE html><html lang='en'><head><title>Feed {i} story {k}</title></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/sport'>Sport</a></nav>"
        f"<article><h1>Feed {i} story {k} desk{desk(i, subscribers)}</h1>{paragraphs}</article>"
        "<footer>(c) Bench</footer></body></html>"
    )


def serve(plan: Plan, subscribers: int, servers: int, ports: multiprocessing.Queue) -> None:
    """The child process: feeds, pages and the fake Bot API on 127.0.0.1."""
    from aiohttp import web

    async def main() -> None:
        async def feed(request: web.Request) -> web.Response:
            i = int(request.match_info["i"])
            kind = plan.kind(i)
            if kind == "failing":
                return web.Response(status=500, text="internal error")
            if kind == "slow":
                await asyncio.sleep(plan.delay)
            now = time.time()
            etag = f'"{i}-{plan.entries(i, now)}"'
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers={"ETag": etag})
            base = f"http://127.0.0.1:{request.url.port}"
            body = rss(plan, i, now, base, subscribers)
            return web.Response(
                text=body, content_type="application/rss+xml", headers={"ETag": etag}
            )

        async def article(request: web.Request) -> web.Response:
            i, k = int(request.match_info["i"]), int(request.match_info["k"])
            return web.Response(text=page(i, k, subscribers), content_type="text/html")

        app = web.Application()
        app.router.add_get("/feed/{i}", feed)
        app.router.add_get("/page/{i}/{k}", article)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        listening = []
        for _ in range(servers):  # one port per newsroom site: the bot polls 2 at once per site
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            listening.append(site._server.sockets[0].getsockname()[1])
        async with FakeBotAPI(token=TOKEN) as api:
            api.enforce_rate_limits()
            ports.put((listening, api.base_url))
            await asyncio.Event().wait()  # until terminated

    asyncio.run(main())


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


async def bench(args: argparse.Namespace) -> None:
    plan = Plan(
        args.feeds, args.changing, args.failing, args.slow, args.period, args.delay,
        start=time.time() + 60,  # moved once priming is done (see below)
    )  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="bench-feeds-"))
    try:
        (work / "corpus").mkdir()
        shutil.copy(SEED_ARTICLE, work / "corpus")
        await run(args, plan, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def run(args: argparse.Namespace, plan: Plan, work: Path) -> None:
    # The server computes the schedule from plan.start: fix it before it starts, far
    # enough ahead for the priming round to finish first.
    priming_allowance = 30 + args.feeds / 10
    plan = Plan(**{**plan.__dict__, "start": time.time() + priming_allowance})
    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(
        target=serve, args=(plan, args.subscribers, args.servers, ports)
    )
    server.start()
    listening, api_url = ports.get(timeout=30)
    config = Config(
        corpus_dir=work / "corpus",
        data_dir=work / "data",
        fetch_allow_private=True,
        feed_interval=args.interval,
        feeds=tuple(
            f"http://127.0.0.1:{listening[i % len(listening)]}/feed/{i}" for i in range(args.feeds)
        ),
    )
    services = Services.open(config)
    sent: dict[str, float] = {}
    try:
        await services.catch_up_alerts()
        for j in range(args.subscribers):
            services.subscriptions.subscribe(10_000 + j, f"desk{j}")
        async with ExtBot(TOKEN, base_url=api_url, rate_limiter=AIORateLimiter(0)) as bot:
            send = telegram_sender(bot, services.current_index)

            async def timed(row):
                result = await send(row)
                sent.setdefault(row.title, time.time())
                return result

            delivery = AlertDelivery(services.outbox, services.subscriptions, timed)
            await measure(args, plan, services, delivery, sent)
    finally:
        services.close()
        server.terminate()
        server.join(10)


async def measure(args, plan: Plan, services: Services, delivery, sent) -> None:
    started = time.perf_counter()
    first = await services.sources.poll_due()
    print(
        f"priming round: {len(first.polls)} feeds in {first.seconds:.1f} s "
        f"({first.written} entries archived, reload {time.perf_counter() - started:.1f} s in "
        f"all), {first.requests} requests, {first.bytes_received / 1024:.0f} kB; "
        f"alerts queued: {first.reload.queued if first.reload else 0}"
    )
    if time.time() > plan.start:
        print("warning: priming took longer than its allowance; latencies include it")
    await asyncio.sleep(max(0.0, plan.start - time.time()))
    rounds = []
    drain: asyncio.Task | None = None
    stop_at = time.time() + args.seconds
    while time.time() < stop_at:
        report = await services.sources.poll_due()
        if report.polls:
            rounds.append(report)
        if report.reload is not None and report.reload.queued and (drain is None or drain.done()):
            drain = asyncio.create_task(delivery.drain())
        await asyncio.sleep(1.0)  # the "feeds" job's tick
    await asyncio.sleep(5)
    if drain is not None:
        await drain
    await delivery.drain()
    report_rounds(rounds, args)
    report_latency(plan, args, sent, stop_at)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"memory: {rss_mb():.0f} MB resident now, {peak:.0f} MB peak (the whole bot process)")


def report_rounds(rounds, args) -> None:
    full = [r for r in rounds if len(r.polls) >= args.feeds * 0.5]
    print(f"\nsteady rounds: {len(rounds)} (of which {len(full)} polled most feeds)")
    print(f"{'feeds':>6} {'seconds':>8} {'requests':>9} {'kB':>7} {'parsed':>7} {'304':>5} "
          f"{'changed':>8} {'failed':>7} {'written':>8}")  # fmt: skip
    for r in rounds:
        by = {}
        for p in r.polls:
            by[p.status.value] = by.get(p.status.value, 0) + 1
        print(
            f"{len(r.polls):>6} {r.seconds:>8.2f} {r.requests:>9} {r.bytes_received / 1024:>7.0f} "
            f"{r.parsed:>7} {by.get('not modified', 0):>5} {by.get('changed', 0):>8} "
            f"{by.get('failed', 0):>7} {r.written:>8}"
        )
    if full:
        worst = max(r.seconds for r in full)
        parses_ok = all(r.parsed == sum(p.status.value == "changed" for p in r.polls)
                        for r in rounds)  # fmt: skip
        print(
            f"round time (rounds polling most feeds): median "
            f"{statistics.median(r.seconds for r in full):.2f} s, max {worst:.2f} s "
            f"(target <= 10 s: {'met' if worst <= 10 else 'MISSED'}); "
            f"requests/round median {statistics.median(r.requests for r in full):.0f}, "
            f"kB/round median {statistics.median(r.bytes_received for r in full) / 1024:.0f}; "
            f"parses only for changed bodies: {'yes' if parses_ok else 'NO'}"
        )


def report_latency(plan: Plan, args, sent: dict[str, float], stop_at: float) -> None:
    latencies, missing = [], 0
    for i in range(args.feeds):
        if plan.kind(i) != "changing":
            continue
        for k in range(10, plan.entries(i, stop_at - args.interval - 5)):
            title = f"Feed {i} story {k} desk{desk(i, args.subscribers)}"
            if title in sent:
                latencies.append(sent[title] - plan.appeared(i, k))
            else:
                missing += 1
    if not latencies:
        print("no entries appeared during the run: raise --seconds")
        return
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    target = args.interval + 5
    print(
        f"entry -> alert: {len(latencies)} entries, p50 {statistics.median(latencies):.1f} s, "
        f"p95 {p95:.1f} s, max {latencies[-1]:.1f} s, missing {missing} "
        f"(target p95 <= {target:g} s: {'met' if p95 <= target and not missing else 'MISSED'})"
    )


def main() -> None:
    # A 429 from the fake server's flood limits is retried by the delivery (bench_fanout
    # measures that); PTB's rate limiter would log each one with a traceback.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=90.0, help="measured after priming")
    parser.add_argument("--changing", type=float, default=0.25)
    parser.add_argument("--failing", type=float, default=0.10)
    parser.add_argument("--slow", type=float, default=0.05)
    parser.add_argument("--period", type=float, default=60.0)
    parser.add_argument("--delay", type=float, default=3.0)
    parser.add_argument("--subscribers", type=int, default=25)
    parser.add_argument("--servers", type=int, default=50, help="sites (ports) the feeds are on")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
