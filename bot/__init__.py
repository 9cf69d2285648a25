"""Newsroom Q&A bot: answers readers' questions with quotes and citations from the archive.

The core (articles, text analysis, search, answers, store) imports nothing from Telegram;
``bot.telegram_app`` adapts it to Telegram and ``bot.cli`` to the command line.
"""

__version__ = "0.1.0"
