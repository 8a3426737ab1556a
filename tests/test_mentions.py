"""A colleague picked from a platform's own @ list (Slack's <@U…>, a Telegram mention
entity, Teams' and DingTalk's mentions) is read as the person linked to that id."""

from bot.kit import Inbound
from handlers.grammar import parse
from handlers.i18n import render_reply
from handlers.registry import Unlinked
from storage.engine import transaction
from storage.models import ChatIdentity, Praise
from tests.support import count, employee


def test_a_linked_colleague_reads_as_their_handle_and_an_unlinked_one_is_named(org, config):
    with transaction(org) as session:
        for handle in ("wang", "alice"):
            session.add(ChatIdentity(employee_id=employee(org, handle).id, platform="slack",
                                     platform_user_id=f"U{handle.upper()}"))
    inbound = Inbound(org, config, "slack")
    picked = {"<@UALICE>": ("UALICE", "Alice Chen"), "<@UZOE>": ("UZOE", "Zoe Park")}
    said = inbound.read("praise <@UALICE> She remembered my name", picked)
    assert said == parse("praise @alice She remembered my name")
    reply, _ = inbound.run("UWANG", said)
    assert reply.ok and count(org, Praise) == 1

    said = inbound.read("praise <@UZOE> kind words", picked)
    assert said == Unlinked("Zoe Park")
    reply, locale = inbound.run("UWANG", said)
    assert not reply.ok and count(org, Praise) == 1
    assert render_reply(reply, locale).startswith("Zoe Park 还没有在这个聊天平台上关联 Frontline")
    assert inbound.read("praise @alice <@UALICE>", None) == parse("praise @alice <@UALICE>")
