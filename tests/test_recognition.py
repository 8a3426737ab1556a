"""Praise, improvement cases and Golden Ear."""

from datetime import timedelta

from handlers.golden_ear import close_month
from handlers.i18n import render_reply
from storage.engine import transaction
from storage.models import GoldenEarAward, LedgerEntry, Praise, Vote
from tests.support import balance, count, notifications, rows


def test_supervisor_logs_praise_credits_and_broadcasts(chat):
    reply = chat.ok("wang", "praise @alice She found my lost ring! https://x.test/letter.mp3")
    assert reply.messages[0].key == "praise.logged"
    assert balance(chat.engine, "alice") == 10
    (praise,) = rows(chat.engine, Praise)
    assert (praise.status, praise.attachment_ref) == ("credited", "https://x.test/letter.mp3")
    (broadcast,) = notifications(chat.engine)
    assert broadcast.message_key == "broadcast.praise"
    assert "lost ring" in broadcast.params["text"]


def test_praise_refusals(chat):
    chat.refused("wang", "praise @wang I am great", "refuse.self_praise")
    refused = chat.refused("alice", "praise @bob great job", "refuse.praise_for_others")
    assert "Only supervisors and HR can log praise for a colleague" in render_reply(refused, "en")
    chat.refused("hana", "praise @nobody great job", "refuse.unknown_handle")
    assert count(chat.engine, Praise) == 0
    assert count(chat.engine, LedgerEntry) == 0


def test_submitted_praise_is_credited_when_the_supervisor_confirms(chat):
    chat.ok("alice", "表扬 客户说我很耐心")
    assert balance(chat.engine, "alice") == 0
    chat.refused("alice", "approve P1", "refuse.self_approve")
    chat.ok("wang", "approve P1")
    assert balance(chat.engine, "alice") == 10
    chat.refused("wang", "approve P1", "refuse.already_decided")
    assert balance(chat.engine, "alice") == 10


def test_touching_marks(chat):
    chat.ok("wang", "praise @alice lovely")
    chat.refused("alice", "touching P1", "refuse.self_touching")
    chat.ok("bob", "touching P1")
    chat.ok("lilei", "感动 P1")
    chat.refused("bob", "touching P1", "refuse.already_touching")
    assert rows(chat.engine, Praise)[0].touching_count == 2


def test_suggestion_accepted_for_points_and_career_count(chat, config):
    chat.ok("alice", "suggest umbrella stand at the door")
    chat.refused("wang", "decline S1", "refuse.comment_required")
    chat.ok("wang", "approve S1")
    assert balance(chat.engine, "alice") == config.points.suggestion_accepted
    chat.ok("alice", "solved the lift queue at peak hours")
    chat.refused("wang", "approve M2", "refuse.not_found")  # references count per kind
    chat.ok("wang", "approve M1")
    assert "improvement cases: 2/3" in chat("alice", "me")


def test_major_issue_confirmed_by_the_supervisor(chat, config):
    chat.ok("alice", "solved refund backlog cleared")
    chat.refused("bob", "approve M1", "refuse.not_approver")
    chat.ok("wang", "approve M1")
    assert balance(chat.engine, "alice") == config.points.major_issue
    chat.ok("wang", "solved @bob fixed the queue")  # the supervisor's own claim confirms it
    assert balance(chat.engine, "bob") == config.points.major_issue
    assert "improvement cases: 1/3" in chat("bob", "me")


def test_career_threshold(chat):
    for n in range(3):
        chat.ok("alice", f"suggest idea {n}")
        chat.ok("wang", f"approve S{n + 1}")
    assert "threshold met" in chat("alice", "me")


def test_golden_ear_rules(chat):
    chat.refused("alice", "nominate @alice I listen", "refuse.self_nominate")
    chat.ok("alice", "nominate @bob he listened to the whole story")
    chat.refused("alice", "nominate @bob again", "refuse.already_nominated")
    chat.refused("bob", "vote @bob", "refuse.self_vote")
    chat.refused("bob", "vote @lilei", "refuse.not_nominated")
    chat.ok("alice", "vote @bob")
    chat.refused("alice", "vote @bob", "refuse.already_voted")
    assert count(chat.engine, Vote) == 1


def test_golden_ear_close_picks_most_votes_then_nominations_then_earliest(chat, config):
    chat.ok("alice", "nominate @bob one", now=chat.now)
    chat.ok("bob", "nominate @lilei two", now=chat.now + timedelta(minutes=1))
    chat.ok("wang", "nominate @lilei three", now=chat.now + timedelta(minutes=2))
    chat.ok("hana", "nominate @bob four", now=chat.now + timedelta(minutes=3))
    chat.ok("alice", "vote @lilei")
    chat.ok("lilei", "vote @bob")
    # 1 vote each, 2 nominations each: bob was nominated first
    chat.refused("alice", "goldenear close", "refuse.role")
    chat.ok("hana", "goldenear close 2026-11")
    (award,) = rows(chat.engine, GoldenEarAward)
    assert (award.votes, award.nominations) == (1, 2)
    assert balance(chat.engine, "bob") == config.points.golden_ear
    assert [n.message_key for n in notifications(chat.engine)] == ["broadcast.goldenear_winner"]
    chat.refused("hana", "goldenear close 2026-11", "refuse.month_closed")
    chat.refused("alice", "vote @bob", "refuse.month_closed")
    assert balance(chat.engine, "bob") == config.points.golden_ear


def test_golden_ear_votes_decide_before_nominations(chat):
    chat.ok("alice", "nominate @bob one")
    chat.ok("wang", "nominate @bob two")
    chat.ok("bob", "nominate @lilei three")
    chat.ok("alice", "vote @lilei")
    with transaction(chat.engine) as session:
        award = close_month(session, chat.config, "2026-11", chat.now)
        assert award is not None
        assert close_month(session, chat.config, "2026-11", chat.now) is None
    assert balance(chat.engine, "lilei") > 0 and balance(chat.engine, "bob") == 0


def test_golden_ear_month_without_nominations(chat):
    with transaction(chat.engine) as session:
        award = close_month(session, chat.config, "2026-10", chat.now)
    assert award.winner_id is None
    assert [n.message_key for n in notifications(chat.engine)] == ["broadcast.goldenear_none"]


def test_golden_ear_refuses_to_close_a_month_still_to_come(chat):
    chat.ok("alice", "nominate @bob listened to the whole complaint")
    chat.refused("hana", "goldenear close 2030-01", "refuse.month_future")
    chat.refused("hana", "goldenear close 2026-12", "refuse.month_future")
    assert count(chat.engine, GoldenEarAward) == 0
    assert notifications(chat.engine) == []
    # the current month (in the organisation's timezone) closes, as HR does on its last day
    last_evening = chat.now.replace(day=30, hour=15)  # 23:00 on 30 November in Shanghai
    chat.ok("hana", "goldenear close", now=last_evening)
    assert rows(chat.engine, GoldenEarAward)[0].month == "2026-11"


def test_golden_ear_replies_show_the_vote_command_in_the_readers_words(chat):
    reply = chat.ok("alice", "golden-ear")
    assert reply.messages[0].key == "goldenear.header_empty"
    assert "no nominations yet" in render_reply(reply, "en")
    reply = chat.ok("lilei", "提名 @bob 听完了整个投诉")
    assert "投票 @bob" in render_reply(reply, "zh") and "vote" not in render_reply(reply, "zh")
    assert "投票 @bob" in render_reply(reply, "zh-Hant")
    assert "vote @bob" in render_reply(reply, "en")
