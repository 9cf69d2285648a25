"""New-article alerts, transport-free: which subscribers an article is for, and delivery
through an outbox at Telegram's rates. ``bot.telegram_app.alerts`` plugs in the sending."""
