"""One incident, one limit: compensations to one customer by one person within the
window count together against their per-incident limit."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

from handlers.base import Message
from handlers.i18n import render_message
from storage.models import Compensation
from tests.support import notifications, rows


def test_the_part_that_takes_the_incident_over_the_limit_goes_to_approval(chat):
    chat.ok("alice", "comp 80 voucher #A17 late parcel")
    chat.ok("alice", "comp 80 voucher #a17 still late")  # the reference's case does not matter
    reply = chat.ok("alice", "comp 80 voucher #A17 third call")
    assert reply.messages[0].key == "comp.pending"
    assert reply.messages[0].params["why_key"] == "comp.why.incident"
    assert [r.status for r in rows(chat.engine, Compensation)] == [
        "self_authorised", "self_authorised", "pending"]
    (request,) = notifications(chat.engine, "wang")
    assert request.message_key == "notify.comp_request_incident"
    assert request.params["earlier"] == "2 × 80.00 CNY (C1, C2)"
    assert request.params["total"] == "240.00 CNY"
    assert [a["command"] for a in request.actions][:2] == ["approve C3", "decline C3"]
    for locale, words in (("en", "2 × 80.00 CNY (C1, C2)"), ("zh", "本次事件合计 240.00 CNY"),
                          ("zh-Hant", "本次事件合計 240.00 CNY")):
        assert words in render_message(Message(request.message_key, request.params), locale)


def test_the_limit_itself_still_fits_one_incident(chat):
    chat.ok("alice", "comp 120 voucher #A17 late")
    assert chat.ok("alice", "comp 80 gift #A17 flowers").messages[0].key == "comp.recorded"


def test_outside_the_window_it_is_a_new_incident(chat):
    chat.ok("alice", "comp 150 voucher #A17 late")
    reply = chat.ok("alice", "comp 150 voucher #A17 again", now=chat.now + timedelta(hours=24))
    assert reply.messages[0].key == "comp.recorded"
    reply = chat.ok("alice", "comp 60 voucher #A17 more", now=chat.now + timedelta(hours=25))
    assert reply.messages[0].params["why_key"] == "comp.why.incident"  # with the 2nd only


def test_the_window_is_configurable(org, config):
    from tests.conftest import Chat
    short = config.model_copy(update={"compensation": config.compensation.model_copy(
        update={"incident_window_hours": 2})})
    chat = Chat(org, short)
    chat.ok("alice", "comp 150 voucher #A17 late")
    reply = chat.ok("alice", "comp 150 voucher #A17 again", now=chat.now + timedelta(hours=3))
    assert reply.messages[0].key == "comp.recorded"


def test_other_customers_other_currencies_and_declined_parts_do_not_count(chat):
    chat.ok("alice", "comp 150 voucher #A17 late")
    assert chat.ok("alice", "comp 150 voucher #B2 other customer").messages[0].key == \
        "comp.recorded"
    assert chat.ok("alice", "comp 150 voucher no reference").messages[0].key == "comp.recorded"
    chat.ok("alice", "comp 20 USD gift #A17 flowers")  # other currency: approval anyway
    chat.ok("wang", "approve C4")
    chat.ok("alice", "comp 300 refund #C5 broken")  # over the limit alone
    chat.ok("wang", "decline C5")
    reply = chat.ok("alice", "comp 150 refund #C5 partial instead",
                    now=chat.now + timedelta(days=1))
    assert reply.messages[0].key == "comp.recorded"


def test_another_persons_compensation_is_another_incident(chat):
    chat.ok("alice", "comp 150 voucher #A17 late")
    assert chat.ok("bob", "comp 150 voucher #A17 late").messages[0].key == "comp.recorded"


def test_a_waiting_part_counts_and_approving_the_incident_keeps_it_whole(chat):
    chat.ok("alice", "comp 150 voucher #A17 late")
    chat.ok("alice", "comp 100 voucher #A17 again")  # C2 waits
    reply = chat.ok("alice", "comp 10 gift #A17 flowers")
    assert reply.messages[0].params["why_key"] == "comp.why.incident"
    assert notifications(chat.engine, "wang")[-1].params["earlier"] == \
        "1 × 150.00 CNY + 1 × 100.00 CNY (C1, C2)"


def test_two_requests_at_once_for_one_customer_cannot_both_fit(chat):
    start = Barrier(2)

    def give(n: int):
        start.wait()
        return chat.ok("alice", f"comp 150 voucher #A17 part {n}").messages[0].key

    with ThreadPoolExecutor(max_workers=2) as pool:
        keys = sorted(pool.map(give, range(2)))
    assert keys == ["comp.pending", "comp.recorded"]
    assert sorted(r.status for r in rows(chat.engine, Compensation)) == [
        "pending", "self_authorised"]
