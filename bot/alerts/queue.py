"""Queueing alerts after a corpus scan: which chats each new article goes to."""

from __future__ import annotations

from bot.alerts.topics import Topic, matches
from bot.search.index import SearchIndex
from bot.store import AlertOutbox, QueueResult, SubscriptionStore
from bot.text.analysis import Analyzer


def queue_alerts(
    index: SearchIndex, analyzer: Analyzer, subscriptions: SubscriptionStore, outbox: AlertOutbox
) -> QueueResult:
    """Record every article of ``index`` as seen and queue alerts for those never seen before.

    Newness comes from the outbox's ledger, not from what the last reload changed, so an
    article is announced once ever (an edited article keeps its id and is not new) and a
    first start on an existing corpus announces nothing.
    """
    subs = subscriptions.active_subscriptions()
    topics = {text: Topic.parse(text, analyzer) for text in {topic for _, topic in subs}}

    def recipients(article_id: str) -> list[int]:
        article = index.article(article_id)
        tags = frozenset(analyzer.terms(" ".join(article.topics))) if article else frozenset()
        wanted = {text for text, topic in topics.items() if matches(index, article_id, topic, tags)}
        return sorted({chat for chat, text in subs if text in wanted})

    return outbox.queue_new_articles(((a.id, a.title) for a in index.articles), recipients)
