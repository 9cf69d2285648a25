"""Telegram handlers, one module per concern; each parses, calls the core, replies."""
