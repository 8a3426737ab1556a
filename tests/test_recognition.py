"""Praise, improvement cases and Golden Ear."""

from datetime import timedelta

from handlers.golden_ear import close_month
from handlers.i18n import render_reply
from handlers.reports.fairness import fairness_report
from points import ledger
from storage.engine import transaction
from storage.models import GoldenEarAward, LedgerEntry, Praise, Vote
from tests.conftest import Chat
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


def test_team_praise_credits_everyone_named_and_broadcasts_once(chat):
    reply = chat.ok("wang", "praise @alice @bob @lilei They found my lost ring together")
    assert reply.messages[0].key == "praise.logged_team"
    assert "Alice Chen +10, Bob Li +10, 李雷 Li Lei +10" in render_reply(reply, "en")
    assert [balance(chat.engine, h) for h in ("alice", "bob", "lilei")] == [10, 10, 10]
    praises = rows(chat.engine, Praise)
    assert [p.group_id for p in praises] == [1, 1, 1]
    (broadcast,) = notifications(chat.engine)
    assert broadcast.params["who"] == "Alice Chen, Bob Li, 李雷 Li Lei"
    assert broadcast.params["ref"] == "P1"
    assert notifications(chat.engine, "bob")[0].params["ref"] == "P2"
    with transaction(chat.engine) as session:
        report = fairness_report(session, chat.config, "2026-11")
        assert ledger.verify(session) == []
    counted = {person.handle: (points, praise) for person, _, points, praise in report.people}
    assert {h: counted[h] for h in ("alice", "bob", "lilei")} == {
        "alice": (10, 1), "bob": (10, 1), "lilei": (10, 1)}
    chat.refused("bob", "touching P1", "refuse.self_touching")  # their own letter
    chat.ok("hana", "touching P3")  # one letter: touching it touches each person's praise
    assert [p.touching_count for p in rows(chat.engine, Praise)] == [1, 1, 1]
    chat.refused("hana", "touching P1", "refuse.already_touching")


def test_team_praise_can_share_the_points(chat):
    sharing = chat.config.model_copy(update={"points": chat.config.points.model_copy(
        update={"team_praise": "share"})})
    shared = Chat(chat.engine, sharing)
    reply = shared.ok("wang", "praise @alice @bob @lilei a team effort")
    # 10 shared by 3: 3 each, the remaining point to the first named
    assert [balance(chat.engine, h) for h in ("alice", "bob", "lilei")] == [4, 3, 3]
    assert "Alice Chen +4, Bob Li +3, 李雷 Li Lei +3" in render_reply(reply, "en")
    shared.ok("hana", "praise @alice @bob halves")
    assert [balance(chat.engine, h) for h in ("alice", "bob")] == [9, 8]


def test_team_praise_refusals_change_nothing(chat):
    chat.refused("wang", "praise @alice @bob @alice great", "refuse.named_twice")
    chat.refused("wang", "praise @alice @wang great", "refuse.self_praise")
    chat.refused("wang", "praise @alice @nobody great", "refuse.unknown_handle")
    chat.refused("alice", "praise @bob @lilei great", "refuse.praise_for_others")
    few = chat.config.model_copy(update={"points": chat.config.points.model_copy(
        update={"team_praise_max": 2})})
    refused = Chat(chat.engine, few).refused("wang", "praise @alice @bob @lilei great",
                                             "refuse.praise_too_many")
    assert "at most 2 people" in render_reply(refused, "en")
    stingy = chat.config.model_copy(update={"points": chat.config.points.model_copy(
        update={"team_praise": "share", "praise": 2})})
    Chat(chat.engine, stingy).refused("wang", "praise @alice @bob @lilei great",
                                      "refuse.praise_too_many")  # a share of nothing
    assert not chat.reply("wang", "praise @alice @bob").ok  # no text
    assert count(chat.engine, Praise) == 0
    assert count(chat.engine, LedgerEntry) == 0
    assert notifications(chat.engine) == []
