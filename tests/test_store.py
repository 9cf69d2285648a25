"""The SQLite store: migrations, subscriptions, the exactly-once alert outbox, activity."""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bot.errors import StoreError, TooManyTopics, TopicTooLong
from bot.store import (
    ActivityLog,
    AlertCounts,
    AlertOutbox,
    ArticleKeys,
    QuestionCounts,
    StoreConnection,
    StoredQueries,
    StoredQuery,
    SubscriptionStore,
    article_key,
    migrate,
    new_token,
    normalise_topic,
    open_database,
    transaction,
)
from bot.store.db import MIGRATIONS, applied_migrations, query

NOW = 1_700_000_000.0


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "bot.db"


@pytest.fixture
def conn(db_path: Path) -> Iterator[StoreConnection]:
    connection = open_database(db_path)
    yield connection
    connection.close()


@pytest.fixture
def subs(conn: StoreConnection) -> SubscriptionStore:
    return SubscriptionStore(conn)


@pytest.fixture
def outbox(conn: StoreConnection) -> AlertOutbox:
    return AlertOutbox(conn, lease_seconds=60, max_attempts=3)


def outbox_rows(conn: StoreConnection) -> list[tuple[int, str, str]]:
    rows = query(conn, "SELECT chat_id, article_id, status FROM alert_outbox ORDER BY id")
    return [tuple(row) for row in rows]


def prime(outbox: AlertOutbox, *article_ids: str) -> None:
    """Do the first scan (which alerts nobody) so that later scans announce new articles."""
    articles = [(article_id, article_id.upper()) for article_id in article_ids]
    assert outbox.queue_new_articles(articles, lambda _: [1]).first_scan


# -- database and migrations -------------------------------------------------------------


def test_open_database_creates_parent_and_sets_pragmas(conn: StoreConnection, db_path: Path):
    assert db_path.is_file()
    pragma = {
        name: query(conn, f"PRAGMA {name}")[0][0]
        for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
    }
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 5000,
        "synchronous": 1,  # NORMAL
    }
    assert not conn.in_transaction  # autocommit between explicit transactions


def test_migrations_are_recorded_once(db_path: Path):
    names = [name for name, _sql in MIGRATIONS]
    first = open_database(db_path)
    first.close()
    second = open_database(db_path)
    try:
        assert migrate(second) == []
        assert applied_migrations(second) == names
        assert query(second, "SELECT COUNT(*) FROM migrations")[0][0] == len(names)
    finally:
        second.close()


def test_migrate_applies_only_the_missing_ones_in_order(conn: StoreConnection):
    extra = [
        ("0100_extra", "CREATE TABLE extra (x TEXT); -- a comment; with semicolons\n"),
        ("0101_more", "INSERT INTO extra VALUES ('a;b'); CREATE INDEX extra_x ON extra (x)"),
    ]
    assert migrate(conn, [*MIGRATIONS, *extra]) == ["0100_extra", "0101_more"]
    assert applied_migrations(conn)[-2:] == ["0100_extra", "0101_more"]
    assert [tuple(row) for row in query(conn, "SELECT x FROM extra")] == [("a;b",)]


def test_a_failing_migration_leaves_no_trace(conn: StoreConnection):
    broken = [("0100_broken", "CREATE TABLE half (x); CREATE TABLE half (x);")]
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, [*MIGRATIONS, *broken])
    assert "0100_broken" not in applied_migrations(conn)
    assert not query(conn, "SELECT 1 FROM sqlite_master WHERE name = 'half'")


def test_transaction_rolls_back_on_error(conn: StoreConnection):
    with pytest.raises(ZeroDivisionError), transaction(conn):
        conn.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
        raise ZeroDivisionError
    assert not query(conn, "SELECT 1 FROM meta WHERE key = 'k'")
    assert not conn.in_transaction


def test_memory_database_works():
    conn = open_database(":memory:")
    try:
        assert SubscriptionStore(conn).subscribe(1, "x")
    finally:
        conn.close()


def test_second_connection_sees_committed_changes(db_path: Path, subs: SubscriptionStore):
    other = open_database(db_path)
    try:
        subs.subscribe(5, "budget")
        assert SubscriptionStore(other).topics(5) == ["budget"]
        SubscriptionStore(other).subscribe(5, "housing")
        assert subs.topics(5) == ["budget", "housing"]
    finally:
        other.close()


def test_connection_may_be_used_from_another_thread(subs: SubscriptionStore):
    errors: list[BaseException] = []

    def work() -> None:
        try:
            subs.subscribe(9, "from a thread")
        except BaseException as error:  # reported below, not swallowed
            errors.append(error)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert errors == []
    assert subs.topics(9) == ["from a thread"]


# -- subscriptions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Climate   Change ", "climate change"),
        ("\tcity\nhall", "city hall"),
        ("Straße", "strasse"),
        ("ＣＯＶＩＤ", "covid"),
        ("ALL", ""),
        (" * ", ""),
        ("", ""),
        ("all the news", "all the news"),
    ],
)
def test_normalise_topic(text: str, expected: str):
    assert normalise_topic(text) == expected


def test_subscribe_unsubscribe(subs: SubscriptionStore):
    assert subs.subscribe(1, "Climate Change")
    assert not subs.subscribe(1, "  climate   CHANGE")  # same topic once normalised
    assert subs.subscribe(1, "all")
    assert subs.topics(1) == ["", "climate change"]
    assert subs.unsubscribe(1, "CLIMATE change")
    assert not subs.unsubscribe(1, "climate change")
    assert subs.topics(1) == [""]
    subs.subscribe(1, "budget")
    assert subs.unsubscribe_all(1) == 2
    assert subs.topics(1) == []
    assert subs.unsubscribe_all(1) == 0


def test_topic_limits(conn: StoreConnection):
    subs = SubscriptionStore(conn, max_topics=2, max_topic_length=10)
    with pytest.raises(TopicTooLong) as too_long:
        subs.subscribe(1, "x" * 11)
    assert isinstance(too_long.value, StoreError) and "10" in str(too_long.value)
    assert subs.subscribe(1, "  " + "x" * 10 + "  ")  # length counts after normalising
    assert subs.subscribe(1, "y")
    with pytest.raises(TooManyTopics) as too_many:
        subs.subscribe(1, "z")
    assert "2" in str(too_many.value)
    assert not subs.subscribe(1, "Y")  # an existing topic is no new one, even at the limit
    assert subs.topics(1) == ["x" * 10, "y"]


def test_chat_settings_and_activity(subs: SubscriptionStore):
    assert not subs.set_silent(7, True)  # unknown chat
    assert not subs.is_silent(7) and not subs.is_active(7)
    subs.subscribe(7, "budget", chat_type="group", title="Newsroom fans")
    assert subs.set_silent(7, True) and subs.is_silent(7)
    assert subs.deactivate(7, "blocked", now=NOW)
    assert not subs.deactivate(7, "blocked")
    assert not subs.is_active(7)
    assert subs.active_subscriptions() == []
    assert subs.reactivate(7) and subs.is_active(7)
    assert subs.active_subscriptions() == [(7, "budget")]
    assert subs.is_silent(7)  # settings survive deactivation


def test_subscribing_again_reactivates_the_chat(subs: SubscriptionStore):
    subs.subscribe(7, "budget")
    subs.deactivate(7, "kicked")
    assert not subs.subscribe(7, "budget")
    assert subs.is_active(7)


def test_counts_cover_reachable_chats_only(subs: SubscriptionStore):
    subs.subscribe(1, "budget")
    subs.subscribe(1, "housing")
    subs.subscribe(2, "budget")
    subs.subscribe(3, "schools")
    subs.deactivate(3, "blocked")
    assert subs.active_subscriptions() == [(1, "budget"), (1, "housing"), (2, "budget")]
    assert subs.count_subscribers() == 2
    assert subs.count_topics() == 2


# -- new articles ------------------------------------------------------------------------


def test_first_scan_announces_nothing_and_later_scans_announce_new_ids(
    conn: StoreConnection, subs: SubscriptionStore, outbox: AlertOutbox
):
    subs.subscribe(1, "")
    subs.subscribe(2, "")
    first = outbox.queue_new_articles([("a", "A"), ("b", "B")], lambda _: [1, 2], now=NOW)
    assert (first.new_article_ids, first.queued, first.first_scan) == ([], 0, True)
    assert outbox_rows(conn) == []

    second = outbox.queue_new_articles([("a", "A"), ("b", "B"), ("c", "C")], lambda _: [1, 2])
    assert (second.new_article_ids, second.queued, second.first_scan) == (["c"], 2, False)
    assert outbox_rows(conn) == [(1, "c", "pending"), (2, "c", "pending")]

    edited = outbox.queue_new_articles([("c", "C, corrected")], lambda _: [1, 2])
    assert (edited.new_article_ids, edited.queued) == ([], 0)
    assert len(outbox_rows(conn)) == 2


def test_first_scan_of_an_empty_corpus_still_counts(subs: SubscriptionStore, outbox: AlertOutbox):
    subs.subscribe(1, "")
    assert outbox.queue_new_articles([], lambda _: [1]).first_scan
    assert outbox.queue_new_articles([("a", "A")], lambda _: [1]).queued == 1


def test_alerts_skip_unknown_and_inactive_chats(subs: SubscriptionStore, outbox: AlertOutbox):
    subs.subscribe(1, "")
    subs.subscribe(2, "")
    subs.deactivate(2, "blocked")
    prime(outbox)
    result = outbox.queue_new_articles([("a", "A")], lambda _: [1, 2, 404])
    assert result.queued == 1


def test_marking_seen_and_queueing_are_one_transaction(
    conn: StoreConnection, subs: SubscriptionStore, outbox: AlertOutbox
):
    subs.subscribe(1, "")
    prime(outbox)

    def crash(_article_id: str) -> list[int]:
        raise RuntimeError("process died while matching")

    with pytest.raises(RuntimeError):
        outbox.queue_new_articles([("a", "A")], crash)
    assert outbox_rows(conn) == []
    assert outbox.queue_new_articles([("a", "A")], lambda _: [1]).queued == 1  # still new


def test_record_new_articles_marks_seen_without_alerts(
    conn: StoreConnection, subs: SubscriptionStore, outbox: AlertOutbox
):
    subs.subscribe(1, "")
    assert outbox.record_new_articles([("a", "A")]) == []  # first scan
    assert outbox.record_new_articles([("a", "A"), ("b", "B")]) == ["b"]
    assert outbox_rows(conn) == []


def test_enqueue_is_idempotent(conn: StoreConnection, subs: SubscriptionStore, outbox: AlertOutbox):
    subs.subscribe(1, "")
    prime(outbox, "a")
    assert outbox.enqueue([(1, "a"), (1, "a")]) == 1
    assert outbox.enqueue([(1, "a")]) == 0
    assert outbox_rows(conn) == [(1, "a", "pending")]


# -- delivery ----------------------------------------------------------------------------


@pytest.fixture
def queued(subs: SubscriptionStore, outbox: AlertOutbox) -> AlertOutbox:
    """Chats 1 and 2 each have alerts for articles "a" and "b" queued at NOW."""
    subs.subscribe(1, "")
    subs.subscribe(2, "")
    subs.set_silent(2, True)
    prime(outbox)
    outbox.queue_new_articles([("a", "Title A"), ("b", "Title B")], lambda _: [1, 2], now=NOW)
    return outbox


def test_claim_and_mark_sent(conn: StoreConnection, queued: AlertOutbox):
    rows = queued.claim_batch(3, now=NOW)
    assert [(r.chat_id, r.article_id, r.title, r.attempts, r.silent) for r in rows] == [
        (1, "a", "Title A", 1, False),
        (2, "a", "Title A", 1, True),
        (1, "b", "Title B", 1, False),
    ]
    assert [r.article_id for r in queued.claim_batch(10, now=NOW + 59)] == ["b"]  # leased
    assert queued.claim_batch(10, now=NOW + 59) == []
    for row in rows:
        queued.mark_sent(row.id, message_id=100 + row.id, now=NOW + 1)
    assert queued.counts() == AlertCounts(sending=1, sent=3)
    sent = query(conn, "SELECT message_id FROM alert_outbox WHERE id = ?", (rows[0].id,))
    assert sent[0][0] == 101


def test_an_expired_lease_is_claimed_again(queued: AlertOutbox):
    first = queued.claim_batch(1, now=NOW)
    again = queued.claim_batch(1, now=NOW + 60)
    assert [r.id for r in again] == [first[0].id]
    assert again[0].attempts == 2


def test_crash_mid_fan_out_resumes_with_one_delivery_each(db_path: Path, queued: AlertOutbox, conn):
    claimed = queued.claim_batch(2, now=NOW)
    queued.mark_sent(claimed[0].id, message_id=1, now=NOW)
    conn.close()  # killed before claimed[1] was marked: it stays "sending"

    reopened = open_database(db_path)
    try:
        outbox = AlertOutbox(reopened)
        assert outbox.recover() == 1
        delivered = Counter()
        while rows := outbox.claim_batch(1, now=NOW + 1):
            for row in rows:
                delivered[(row.chat_id, row.article_id)] += 1
                outbox.mark_sent(row.id, message_id=row.id, now=NOW + 1)
        assert delivered == Counter({(2, "a"): 1, (1, "b"): 1, (2, "b"): 1})
        assert outbox.counts().sent == 4
        assert len({(c, a) for c, a, _ in outbox_rows(reopened)}) == 4
    finally:
        reopened.close()


def test_retry_after_delays_the_row_then_gives_up(conn: StoreConnection, queued: AlertOutbox):
    row = queued.claim_batch(1, now=NOW)[0]
    assert queued.mark_retry(row.id, 30, "429 Too Many Requests", now=NOW)
    assert all(r.id != row.id for r in queued.claim_batch(10, now=NOW + 29))  # others leased
    assert [r.id for r in queued.claim_batch(1, now=NOW + 30)] == [row.id]
    assert queued.mark_retry(row.id, 0, "timeout", now=NOW + 30)
    assert queued.claim_batch(1, now=NOW + 30)[0].attempts == 3
    assert not queued.mark_retry(row.id, 0, "timeout again", now=NOW + 30)  # max_attempts=3
    status = query(conn, "SELECT status, last_error FROM alert_outbox WHERE id = ?", (row.id,))
    assert tuple(status[0]) == ("failed", "timeout again")


def test_mark_failed_and_counts(queued: AlertOutbox):
    assert queued.pending_count() == 4
    row = queued.claim_batch(1, now=NOW)[0]
    queued.mark_failed(row.id, "message too long")
    assert queued.counts() == AlertCounts(pending=3, failed=1)
    assert queued.pending_count() == 3


def test_deactivating_a_chat_skips_its_alerts(
    conn: StoreConnection, subs: SubscriptionStore, queued: AlertOutbox
):
    subs.deactivate(2, "Forbidden: bot was blocked by the user")
    assert [(r.chat_id, r.article_id) for r in queued.claim_batch(10, now=NOW)] == [
        (1, "a"),
        (1, "b"),
    ]
    assert [s for c, _a, s in outbox_rows(conn) if c == 2] == ["skipped", "skipped"]


def test_mark_skipped_for_chat_and_unsubscribe_all(subs: SubscriptionStore, queued: AlertOutbox):
    queued.claim_batch(1, now=NOW)  # (1, "a") in flight is skipped too
    assert queued.mark_skipped_for_chat(1, "chat not found") == 2
    assert subs.unsubscribe_all(2) == 1
    assert queued.counts().skipped == 4
    assert queued.claim_batch(10, now=NOW + 100) == []


def test_migrate_chat_moves_topics_and_alerts(
    conn: StoreConnection, subs: SubscriptionStore, queued: AlertOutbox
):
    sent = queued.claim_batch(1, now=NOW)[0]  # (1, "a")
    queued.mark_sent(sent.id, message_id=1)
    assert subs.migrate_chat(1, -1001)
    assert subs.topics(1) == [] and subs.topics(-1001) == [""]
    assert not subs.is_active(1) and subs.is_active(-1001)
    assert [(c, a, s) for c, a, s in outbox_rows(conn) if c in (1, -1001)] == [
        (-1001, "a", "sent"),
        (-1001, "b", "pending"),
    ]
    assert not subs.migrate_chat(1, -1002)  # unknown now
    assert not subs.migrate_chat(-1001, -1001)


def test_migrate_chat_onto_a_known_chat_merges(
    conn: StoreConnection, subs: SubscriptionStore, queued: AlertOutbox
):
    subs.subscribe(-1001, "budget", chat_type="supergroup")
    subs.subscribe(1, "housing")
    sent = queued.claim_batch(1, now=NOW)[0]  # (1, "a") delivered under the old id
    queued.mark_sent(sent.id, message_id=1)
    queued.enqueue([(-1001, "a"), (-1001, "b")])
    assert subs.migrate_chat(1, -1001)
    assert subs.topics(-1001) == ["", "budget", "housing"]
    assert sorted((a, s) for c, a, s in outbox_rows(conn) if c == -1001) == [
        ("a", "sent"),
        ("b", "pending"),
    ]
    assert not any(c == 1 for c, _a, _s in outbox_rows(conn))


# -- chats' languages ---------------------------------------------------------------------


def test_a_chats_language_choice_and_its_subscribers_language(subs: SubscriptionStore):
    assert subs.language(5) is None and subs.remembered_language(5) == ""
    subs.subscribe(5, "", reader_language="ru")
    assert subs.language(5) is None and subs.remembered_language(5) == "ru"
    subs.subscribe(5, "budget")  # a reader whose Telegram sent no language: "ru" stays
    assert subs.remembered_language(5) == "ru"
    subs.set_language(5, "es")
    assert subs.language(5) == "es" and subs.remembered_language(5) == "es"  # choice first
    subs.set_language(6, "fa", chat_type="group", title="Readers")  # never subscribed
    assert subs.chosen_languages() == {5: "es", 6: "fa"}
    assert subs.topics(6) == [] and subs.count_subscribers() == 1
    subs.set_language(5, None)  # back to each reader's Telegram language
    assert subs.chosen_languages() == {6: "fa"} and subs.remembered_language(5) == "ru"


def test_a_migrated_group_keeps_its_language(subs: SubscriptionStore, outbox: AlertOutbox):
    subs.subscribe(-7, "", chat_type="group", reader_language="ar")
    subs.set_language(-7, "fa")
    assert subs.migrate_chat(-7, -1007)
    assert subs.language(-1007) == "fa" and subs.chosen_languages() == {-1007: "fa"}
    prime(outbox)
    outbox.queue_new_articles([("a", "A")], lambda _: [-1007], now=NOW)
    [row] = outbox.claim_batch(5, now=NOW)
    assert (row.chat_id, row.language) == (-1007, "fa")  # the alert knows its language
    subs.set_language(-1007, None)
    outbox.queue_new_articles([("b", "B")], lambda _: [-1007], now=NOW)
    [row] = outbox.claim_batch(5, now=NOW)
    assert row.language == "ar"


# -- activity ----------------------------------------------------------------------------


def test_question_counts_by_day(conn: StoreConnection):
    log = ActivityLog(conn)
    day = dt.date(2024, 3, 10)
    midnight = dt.datetime(2024, 3, 10, tzinfo=dt.UTC).timestamp()
    log.record_question(1, answered=True, now=midnight - 1)  # the day before
    log.record_question(1, answered=True, now=midnight)
    log.record_question(2, answered=False, now=midnight + 3600)
    log.record_question(2, answered=True, now=midnight + 86400)  # the day after
    assert log.question_counts(day) == QuestionCounts(
        answered_today=1, unanswered_today=1, answered_total=3, unanswered_total=1
    )
    for table in ("question_log", "question_days"):
        columns = {row[1] for row in query(conn, f"PRAGMA table_info({table})")}
        assert "question" not in columns
    assert "chat_id" not in {row[1] for row in query(conn, "PRAGMA table_info(question_days)")}


def test_question_counts_when_empty(conn: StoreConnection):
    assert ActivityLog(conn).question_counts(dt.date(2024, 1, 1)) == QuestionCounts()


def test_pruning_raw_question_rows_keeps_the_daily_counts(conn: StoreConnection):
    log = ActivityLog(conn)
    for age_days in (400, 31, 29, 0):
        log.record_question(7, answered=age_days != 31, now=NOW - age_days * 86400)
    assert log.prune_older_than(30, now=NOW) == 2
    assert [row[0] for row in query(conn, "SELECT asked_at FROM question_log ORDER BY 1")] == [
        NOW - 29 * 86400,
        NOW,
    ]
    today = dt.datetime.fromtimestamp(NOW, dt.UTC).date()
    assert log.question_counts(today) == QuestionCounts(1, 0, 3, 1)


def test_migration_0004_counts_the_questions_logged_before_it(db_path: Path):
    db_path.parent.mkdir(parents=True)
    raw = sqlite3.connect(db_path, factory=StoreConnection, isolation_level=None)
    try:
        raw.row_factory = sqlite3.Row
        before = [m for m in MIGRATIONS if m[0] < "0004"]
        migrate(raw, before)
        day = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC).timestamp()
        raw.executemany(
            "INSERT INTO question_log (chat_id, asked_at, answered) VALUES (1, ?, ?)",
            [(day, 1), (day + 60, 0), (day + 86400, 1)],
        )
        raw.execute(
            "INSERT INTO stored_queries (id, chat_id, question, created_at) VALUES (?, ?, ?, ?)",
            ("oldtoken", 1, "Who won?", day),
        )
        up_to_0004 = [m for m in MIGRATIONS if m[0] < "0005"]
        assert migrate(raw, up_to_0004) == ["0004_answer_tokens_and_daily_counts"]
        counts = ActivityLog(raw).question_counts(dt.date(2024, 3, 10))
        assert counts == QuestionCounts(1, 1, 2, 1)
        migrate(raw)  # and the later ones leave the old row as it was
        assert StoredQueries(raw).load("oldtoken") == StoredQuery(1, None, "Who won?")
    finally:
        raw.close()


def test_stored_queries_round_trip_and_purge(db_path: Path, conn: StoreConnection):
    queries = StoredQueries(conn)
    old, new = new_token(), new_token()
    assert old != new and len(new) == 8
    assert queries.save(old, StoredQuery(1, 10, "What did the council decide?"), NOW - 8 * 86400)
    assert queries.save(new, StoredQuery(-100, 11, "Who won the vote?"), NOW)
    other = open_database(db_path)  # survives a restart
    try:
        assert StoredQueries(other).load(new) == StoredQuery(-100, 11, "Who won the vote?")
    finally:
        other.close()
    assert queries.purge_older_than(7, now=NOW) == 1
    assert queries.load(old) is None
    assert queries.load("nope") is None
    assert queries.load(new).question == "Who won the vote?"


def test_a_stored_query_belongs_to_its_chat_and_message(conn: StoreConnection):
    queries = StoredQueries(conn)
    token = new_token()
    queries.save(token, StoredQuery(-100, 11, "Who won the vote?"))
    stored = queries.load(token)
    assert stored.belongs_to(-100, 11)
    assert not stored.belongs_to(-100, 12)  # another answer in the same chat
    assert not stored.belongs_to(5, 11)  # the same message id in another chat
    assert StoredQuery(-100, None, "stored before 0004").belongs_to(-100, 12)


def test_a_taken_stored_query_token_is_refused(conn: StoreConnection):
    queries = StoredQueries(conn)
    assert queries.save("same", StoredQuery(1, 1, "q1"))
    assert not queries.save("same", StoredQuery(2, 2, "q2"))
    assert queries.load("same") == StoredQuery(1, 1, "q1")


def test_for_message_finds_the_latest_question_of_a_bot_message(conn: StoreConnection):
    queries = StoredQueries(conn)
    scoped = StoredQuery(-100, 11, "Who opposed it?", "a1", "Who built the bridge?")
    queries.save(new_token(), StoredQuery(-100, 11, "Who built the bridge?"), NOW)
    queries.save(new_token(), scoped, NOW + 1)  # the question was edited: the answer too
    queries.save(new_token(), StoredQuery(-100, 12, "", "a2"), NOW)  # an Ask prompt
    assert queries.for_message(-100, 11) == scoped
    assert queries.for_message(-100, 12) == StoredQuery(-100, 12, "", "a2")
    assert queries.for_message(-100, 13) is None  # not an answer (/help, say)
    assert queries.for_message(5, 11) is None  # the same message id in another chat
    plan = " ".join(
        row[-1]
        for row in query(
            conn,
            "EXPLAIN QUERY PLAN SELECT * FROM stored_queries WHERE chat_id = 1 AND message_id = 2",
        )
    )
    assert "stored_queries_message" in plan


def test_migration_0007_keeps_earlier_stored_questions(db_path: Path):
    db_path.parent.mkdir(parents=True)
    raw = sqlite3.connect(db_path, factory=StoreConnection, isolation_level=None)
    try:
        raw.row_factory = sqlite3.Row
        migrate(raw, [m for m in MIGRATIONS if m[0] < "0007"])
        raw.execute(
            "INSERT INTO stored_queries (id, chat_id, message_id, question, created_at)"
            " VALUES ('oldtoken', 1, 5, 'Who won?', ?)",
            (NOW,),
        )
        assert migrate(raw) == ["0007_follow_ups"]
        assert StoredQueries(raw).for_message(1, 5) == StoredQuery(1, 5, "Who won?", None, "")
    finally:
        raw.close()


def test_article_keys_resolve_after_a_restart(db_path: Path, conn: StoreConnection):
    keys = ArticleKeys(conn)
    long_id = "feeds/example/" + "x" * 300
    assert keys.claim(["a1", long_id, "a1"]) == ["a1", long_id]
    assert keys.article_for(article_key(long_id)) == long_id  # claimed: found before written
    assert keys.claim(["a1"]) == []  # once per article per process
    keys.save(["a1", long_id], NOW)
    keys.save(keys.claim(["a1", "a2"]), NOW)  # a1 is not written again
    assert query(conn, "SELECT COUNT(*) FROM article_keys")[0][0] == 3
    assert len(article_key(long_id)) == 16
    other = open_database(db_path)
    try:
        restarted = ArticleKeys(other)
        assert restarted.article_for(article_key(long_id)) == long_id
        assert restarted.article_for(article_key("a2")) == "a2"
        assert restarted.article_for(article_key("never offered")) is None
        restarted.save(restarted.claim(["a1"]), NOW)  # a new process registers again: ignored
        assert query(other, "SELECT COUNT(*) FROM article_keys")[0][0] == 3
    finally:
        other.close()


def test_a_failed_article_key_write_is_retried_by_the_next_write(conn: StoreConnection):
    keys = ArticleKeys(conn)
    new = keys.claim(["a1"])
    conn.execute(  # any failure of the write (a full disk, say)
        "CREATE TRIGGER refuse BEFORE INSERT ON article_keys BEGIN SELECT RAISE(ABORT, 'no'); END"
    )
    with pytest.raises(sqlite3.Error):
        keys.save(new, NOW)
    assert ArticleKeys(conn).article_for(article_key("a1")) is None  # not in the store...
    assert keys.article_for(article_key("a1")) == "a1"  # ...but buttons out already work
    assert keys.claim(["a1"]) == []  # never taken back: another button may carry it
    conn.execute("DROP TRIGGER refuse")
    keys.save(keys.claim(["a2"]), NOW)  # the next write takes the pending one along
    restarted = ArticleKeys(conn)
    assert restarted.article_for(article_key("a1")) == "a1"
    assert restarted.article_for(article_key("a2")) == "a2"


def test_a_claim_whose_answer_never_went_out_is_written_later(conn: StoreConnection):
    keys = ArticleKeys(conn)
    keys.claim(["a1"])  # answer A claims, then its send fails: it never writes
    assert keys.claim(["a1"]) == []  # answer B's button relies on A's claim
    keys.save([], NOW)  # any later write
    assert ArticleKeys(conn).article_for(article_key("a1")) == "a1"


def test_pruning_finished_alerts_keeps_exactly_once(
    conn: StoreConnection, subs: SubscriptionStore, outbox: AlertOutbox
):
    for chat in (1, 2, 3):
        subs.subscribe(chat, "")
    prime(outbox)

    def everyone(_article_id: str) -> list[int]:
        return [1, 2, 3]

    long_ago = NOW - 100 * 86400
    outbox.queue_new_articles([("old", "Old")], everyone, now=long_ago)
    sent, failed, waiting = outbox.claim_batch(3, now=long_ago)
    outbox.mark_sent(sent.id, 1, now=long_ago)
    outbox.mark_failed(failed.id, "refused")
    outbox.mark_retry(waiting.id, 200 * 86400, "flood", now=long_ago, transient=True)
    outbox.queue_new_articles([("old", "Old"), ("new", "New")], everyone, now=NOW - 86400)
    outbox.mark_sent(outbox.claim_batch(1, now=NOW - 86400)[0].id, 2, now=NOW - 86400)

    assert outbox.prune_finished_older_than(90, now=NOW) == 2  # the old sent and failed rows
    assert outbox_rows(conn) == [
        (3, "old", "pending"),  # not finished: kept however old
        (1, "new", "sent"),
        (2, "new", "pending"),
        (3, "new", "pending"),
    ]
    # The pruned pairs are never queued again: "old" stays in the seen ledger.
    again = outbox.queue_new_articles([("old", "Old"), ("new", "New")], everyone, now=NOW)
    assert again.queued == 0 and again.new_article_ids == []


# -- exactly once, under random interleavings --------------------------------------------

CHATS = (1, 2, 3)
ARTICLES = ("a1", "a2", "a3")
LEASE = 60.0


class OutboxMachine(RuleBasedStateMachine):
    """A sender that claims, sends, retries and crashes at random, against a model of what
    was queued and what was delivered. A crash between a send and its ``mark_sent`` is the
    documented duplicate window and is not modelled."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        self.path = Path(self.directory.name) / "bot.db"
        self.conn = open_database(self.path)
        subs = SubscriptionStore(self.conn)
        for chat in CHATS:
            subs.subscribe(chat, "", now=0)
        self.outbox = AlertOutbox(self.conn, lease_seconds=LEASE, max_attempts=10_000)
        self.outbox.record_new_articles([(a, a) for a in ARTICLES])  # all seen, none alerted
        self.now = NOW
        self.queued: set[tuple[int, str]] = set()
        self.in_flight: dict[int, tuple[tuple[int, str], float]] = {}  # id -> (pair, claimed)
        self.delivered: Counter[tuple[int, str]] = Counter()

    def reopen(self) -> None:
        self.conn.close()
        self.conn = open_database(self.path)
        self.outbox = AlertOutbox(self.conn, lease_seconds=LEASE, max_attempts=10_000)

    @rule(pairs=st.sets(st.tuples(st.sampled_from(CHATS), st.sampled_from(ARTICLES)), max_size=4))
    def enqueue(self, pairs: set[tuple[int, str]]) -> None:
        self.outbox.enqueue(pairs, now=self.now)
        self.queued |= pairs

    @rule(limit=st.integers(1, 4))
    def claim(self, limit: int) -> None:
        for row in self.outbox.claim_batch(limit, now=self.now):
            if row.id in self.in_flight:  # only an expired lease may be handed out again
                assert self.now >= self.in_flight[row.id][1] + LEASE
            self.in_flight[row.id] = ((row.chat_id, row.article_id), self.now)

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data())
    def send(self, data: st.DataObject) -> None:
        row_id = data.draw(st.sampled_from(sorted(self.in_flight)))
        pair, _claimed = self.in_flight.pop(row_id)
        self.delivered[pair] += 1
        self.outbox.mark_sent(row_id, message_id=row_id, now=self.now)

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data(), delay=st.sampled_from([0.0, 5.0, 90.0]))
    def retry(self, data: st.DataObject, delay: float) -> None:
        row_id = data.draw(st.sampled_from(sorted(self.in_flight)))
        del self.in_flight[row_id]
        assert self.outbox.mark_retry(row_id, delay, "flood wait", now=self.now)

    @rule(seconds=st.sampled_from([1.0, 30.0, 61.0]))
    def tick(self, seconds: float) -> None:
        self.now += seconds

    @rule()
    def crash(self) -> None:
        self.reopen()
        self.outbox.recover()
        self.in_flight.clear()

    @invariant()
    def every_alert_queued_once_and_delivered_at_most_once(self) -> None:
        rows = outbox_rows(self.conn)
        pairs = [(chat, article) for chat, article, _status in rows]
        assert len(pairs) == len(set(pairs))
        assert set(pairs) == self.queued  # nothing lost, nothing invented
        assert all(count == 1 for count in self.delivered.values())
        assert {(c, a) for c, a, s in rows if s == "sent"} == set(self.delivered)
        assert {s for _c, _a, s in rows} <= {"pending", "sending", "sent"}

    def teardown(self) -> None:
        try:
            self.outbox.recover()
            while rows := self.outbox.claim_batch(10, now=self.now + 1000):
                for row in rows:
                    self.delivered[(row.chat_id, row.article_id)] += 1
                    self.outbox.mark_sent(row.id, message_id=row.id)
            assert self.delivered == Counter(dict.fromkeys(self.queued, 1))
        finally:
            self.conn.close()
            self.directory.cleanup()


TestOutboxExactlyOnce = OutboxMachine.TestCase
TestOutboxExactlyOnce.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)


def _one_queued_alert(conn) -> tuple[AlertOutbox, SubscriptionStore]:
    subs, outbox = SubscriptionStore(conn), AlertOutbox(conn, max_attempts=3)
    subs.subscribe(5, "")
    outbox.queue_new_articles([("old", "Old")], lambda _: [5], now=1.0)  # first scan
    outbox.queue_new_articles([("new", "New")], lambda _: [5], now=2.0)
    return outbox, subs


def test_flood_waits_never_use_up_attempts() -> None:
    conn = open_database(":memory:")
    try:
        outbox, _ = _one_queued_alert(conn)
        now = 10.0
        for _ in range(10):  # a long 429 storm: far more than max_attempts
            (row,) = outbox.claim_batch(10, now=now)
            assert outbox.mark_retry(row.id, 5, "429", now=now, transient=True)
            now += 5
        (row,) = outbox.claim_batch(10, now=now)
        outbox.mark_sent(row.id, 99, now=now)
        assert outbox.counts().sent == 1 and outbox.counts().failed == 0
    finally:
        conn.close()


def test_a_skipped_alert_is_not_resurrected_by_a_retry() -> None:
    conn = open_database(":memory:")
    try:
        outbox, subs = _one_queued_alert(conn)
        (row,) = outbox.claim_batch(10, now=10.0)
        subs.unsubscribe(5, "")  # last topic gone while the send is in flight
        assert not outbox.mark_retry(row.id, 1, "429", now=10.0, transient=True)
        assert outbox.claim_batch(10, now=100.0) == []
        assert outbox.counts().skipped == 1
    finally:
        conn.close()
