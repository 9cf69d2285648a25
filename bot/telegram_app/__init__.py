"""Telegram front end: thin python-telegram-bot handlers over the core.

``app.build_application`` registers every handler in one place; ``run.run_telegram`` starts
polling or a webhook. Nothing outside this package imports ``telegram``.
"""
