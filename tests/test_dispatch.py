"""One command, one transaction; retries; unknown senders; the outbox dispatcher."""

from datetime import timedelta

from bot.kit.outbox import ConsoleChannel, dispatch_pending
from handlers.dispatch import execute
from handlers.grammar import parse
from handlers.i18n import render_reply
from handlers.linking import issue_code
from storage.engine import transaction
from storage.models import ChatIdentity, CommandReceipt, LedgerEntry, Outbox, OutboxDelivery, Praise
from tests.support import balance, count, employee, rows


def test_unknown_sender_is_told_politely_and_nothing_is_recorded(chat):
    reply, locale = execute(chat.engine, chat.config, "console", "stranger",
                            parse("praise @alice great"), idempotency_key="evt-1")
    assert reply.messages[0].key == "not_registered"
    assert locale == chat.config.organisation.default_locale
    reply, _ = execute(chat.engine, chat.config, "slack", "U999", parse("me"))
    assert reply.messages[0].key == "not_registered"
    assert count(chat.engine, CommandReceipt) == 0
    assert count(chat.engine, Praise) == 0


def test_platform_identities_resolve_to_the_directory(chat):
    with transaction(chat.engine) as session:
        session.add(ChatIdentity(employee_id=employee(chat.engine, "wang").id,
                                 platform="telegram", platform_user_id="42"))
    reply, locale = execute(chat.engine, chat.config, "telegram", "42", parse("me"))
    assert reply.ok and locale == "zh"


def test_a_retried_event_never_awards_twice(chat):
    first = chat.reply("wang", "praise @alice thank you", key="slack:Ev01")
    again = chat.reply("wang", "praise @alice thank you", key="slack:Ev01")
    assert first == again
    assert count(chat.engine, Praise) == 1
    assert balance(chat.engine, "alice") == 10
    chat.reply("wang", "praise @alice thank you", key="slack:Ev02")  # a new event counts
    assert balance(chat.engine, "alice") == 20


def test_a_refusal_rolls_back_everything(chat):
    chat.ok("wang", "praise @alice nice")
    before = count(chat.engine, LedgerEntry), count(chat.engine, Outbox)
    chat.refused("alice", "redeem leave-day", "refuse.insufficient_points")
    assert (count(chat.engine, LedgerEntry), count(chat.engine, Outbox)) == before


def test_replies_are_in_the_senders_language(chat):
    reply, locale = execute(chat.engine, chat.config, "console", "lilei", parse("me"))
    assert locale == "zh"
    assert "授权" in render_reply(reply, locale)
    chat.ok("lilei", "lang en")
    reply, locale = execute(chat.engine, chat.config, "console", "lilei", parse("me"))
    assert locale == "en"


def test_traditional_chinese_is_set_in_any_language_and_answered_in_traditional(chat):
    for line in ("lang zh-hant", "语言 繁体", "語言 繁體"):
        chat.ok("lilei", "lang en")
        reply, locale = execute(chat.engine, chat.config, "console", "lilei", parse(line))
        assert reply.ok and locale == "zh-Hant", line
        assert render_reply(reply, locale) == "好的，之後我會用繁體中文和你交流。"
        assert employee(chat.engine, "lilei").locale == "zh-Hant"
    reply, locale = execute(chat.engine, chat.config, "console", "lilei", parse("me"))
    assert locale == "zh-Hant" and "授權：單次最多" in render_reply(reply, locale)
    reply, locale = execute(chat.engine, chat.config, "console", "lilei", parse("redeem nothing"))
    assert "商城裡沒有 nothing" in render_reply(reply, locale)
    chat.ok("lilei", "語言 簡體")
    assert employee(chat.engine, "lilei").locale == "zh"


def test_usage_errors_are_localised_and_change_nothing(chat):
    reply, locale = execute(chat.engine, chat.config, "console", "lilei", parse("补偿 很多 钱"))
    assert not reply.ok and locale == "zh"
    assert "用法：补偿" in render_reply(reply, locale)


def test_outbox_is_delivered_once_in_each_language(chat):
    chat.ok("wang", "praise @lilei 服务很好")
    chat.ok("alice", "comp 300 refund cracked screen")
    seen: list[str] = []
    channel = ConsoleChannel(seen.append)
    assert dispatch_pending(chat.engine, [channel]) == 3
    assert dispatch_pending(chat.engine, [channel]) == 0
    assert len(seen) == 3
    to_lilei, broadcast, to_wang = seen
    assert "积分" in to_lilei  # lilei reads Chinese
    assert "客户表扬了" in broadcast and "A customer praised" in broadcast  # all staff: both
    assert "申请审批" in to_wang and "approve C1" in to_wang
    assert all(row.delivered_at is not None for row in rows(chat.engine, Outbox))


class FlakyChannel:
    name = "flaky"

    def __init__(self):
        self.calls, self.sent = 0, []

    def wants(self, notification):
        return True

    def deliver(self, notification):
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("platform unavailable")
        self.sent.append(notification.outbox_id)


def test_failed_delivery_is_retried_and_other_channels_are_not_repeated(chat):
    chat.ok("wang", "praise @alice nice")  # two notifications: alice and all staff
    steady, flaky = [], FlakyChannel()
    console = ConsoleChannel(steady.append)
    dispatch_pending(chat.engine, [console, flaky])
    assert len(steady) == 2 and len(flaky.sent) == 1
    failed = [row for row in rows(chat.engine, Outbox) if row.delivered_at is None]
    assert len(failed) == 1 and "platform unavailable" in failed[0].last_error
    # the lease still holds: a second worker right now takes nothing
    assert dispatch_pending(chat.engine, [console, flaky]) == 0
    later = failed[0].claimed_until + timedelta(seconds=1)  # after the back-off
    assert dispatch_pending(chat.engine, [console, flaky], now=lambda: later) == 1
    assert len(steady) == 2 and len(flaky.sent) == 2
    assert count(chat.engine, OutboxDelivery) == 4


def test_a_link_code_for_another_platform_says_which_and_stays_valid(chat):
    with transaction(chat.engine) as session:
        code = issue_code(session, employee(chat.engine, "bob"), "link:telegram", chat.now,
                          timedelta(hours=1))
    reply, _ = execute(chat.engine, chat.config, "console", "stranger", parse(f"link {code}"),
                       now=chat.now)
    assert not reply.ok and reply.messages[0].key == "refuse.link_code_platform"
    assert "telegram" in render_reply(reply, "en")
    reply, _ = execute(chat.engine, chat.config, "console", "stranger", parse("link NOSUCHCODE"),
                       now=chat.now)
    assert reply.messages[0].key == "refuse.link_code"
    reply, _ = execute(chat.engine, chat.config, "telegram", "4242", parse(f"link {code}"),
                       now=chat.now)
    assert reply.messages[0].key == "linked"
