"""Queueing alerts after a commit: which chats each new article goes to.

Only the articles a commit added are looked at (``IndexManager.added_since``), and for each
only the topics that can match it (``TopicMatcher``), so the cost follows what changed, not
the size of the archive or the number of subscribers. The matching runs before any write and
without the database lock (``AlertOutbox.queue_new_articles``).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.alerts.topics import TopicMatcher, parse_topic
from bot.search.index import SearchIndex
from bot.store import AlertOutbox, QueueResult, SubscriptionStore
from bot.text.analysis import Analyzer


def queue_alerts(
    index: SearchIndex,
    analyzer: Analyzer,
    subscriptions: SubscriptionStore,
    outbox: AlertOutbox,
    article_ids: Sequence[str] | None = None,
) -> QueueResult:
    """Record ``article_ids`` (None: every article of ``index``) as seen and queue alerts for
    those never seen before.

    Newness comes from the outbox's ledger, not only from what the last commit added, so an
    article is announced once ever (an edited article keeps its id and is not new) and a first
    start on an existing archive announces nothing.
    """
    if article_ids is None:
        articles = [(a.id, a.title) for a in index.articles()]
    else:
        found = ((i, index.article(i)) for i in dict.fromkeys(article_ids))
        articles = [(i, a.title) for i, a in found if a is not None]
    subs = subscriptions.active_subscriptions()
    chats_of: dict[str, list[int]] = {}
    for chat, text in subs:
        chats_of.setdefault(text, []).append(chat)
    languages = index.languages
    matcher = TopicMatcher(parse_topic(text, analyzer, languages) for text in chats_of)

    def recipients(article_id: str) -> list[int]:
        topics = matcher.matching(index, article_id, analyzer)
        return sorted({chat for topic in topics for chat in chats_of[topic.text]})

    return outbox.queue_new_articles(articles, recipients)
