"""Child process for test_alerts_e2e's kill -9 test: drain the alert outbox of a data dir
through a fake Bot API server, slowly enough to be killed in the middle of the fan-out.

``python tests/fanout_child.py <corpus_dir> <data_dir> <base_url> <token>``
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


async def main(corpus_dir: str, data_dir: str, base_url: str, token: str) -> int:
    services = Services.open(Config(corpus_dir=Path(corpus_dir), data_dir=Path(data_dir)))
    try:
        async with Bot(token, base_url=base_url) as bot:
            delivery = AlertDelivery(
                services.outbox,
                services.subscriptions,
                telegram_sender(bot, services.current_index),
                limiter=RateLimiter(per_second=10.0),  # ~3 s for 30 alerts: time to be killed
            )
            stats = await delivery.drain()
    finally:
        services.close()
    print(f"sent {stats.sent}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:5])))
