"""Child process for test_sources_kill's kill -9 tests: one polling round of a data dir's
feeds, its reload, then the alert fan-out through a fake Bot API server, slowly enough to
be killed in the middle of either.

``python tests/sources_child.py <corpus_dir> <data_dir> <base_url> <token> <sends per s>``
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from telegram import Bot

from bot.alerts.delivery import AlertDelivery, RateLimiter
from bot.config import Config
from bot.services import Services
from bot.telegram_app.alerts import telegram_sender


async def main(corpus_dir: str, data_dir: str, base_url: str, token: str, rate: str) -> int:
    config = Config(corpus_dir=Path(corpus_dir), data_dir=Path(data_dir), fetch_allow_private=True)
    services = Services.open(config)
    try:
        await services.catch_up_alerts()
        report = await services.sources.poll_due(everything=True)
        print(f"polled: {report.written} written", flush=True)
        async with Bot(token, base_url=base_url) as bot:
            delivery = AlertDelivery(
                services.outbox,
                services.subscriptions,
                telegram_sender(bot, services.current_index),
                limiter=RateLimiter(per_second=float(rate)),
            )
            stats = await delivery.drain()
    finally:
        services.close()
    print(f"sent {stats.sent}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:6])))
