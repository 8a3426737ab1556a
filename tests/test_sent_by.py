"""Each platform's `sent_by`, on what its inbox stores: the person whose requests run
in the order they came, or None (the request runs beside everything)."""

import json

import lark_oapi as lark
import pytest
from lark_oapi.api.application.v6 import P2ApplicationBotMenuV6
from lark_oapi.api.im.v1 import P2ImMessageReceiveV1

from bot.platforms.dingtalk import adapter as dingtalk
from bot.platforms.feishu import adapter as feishu
from bot.platforms.slack import adapter as slack
from bot.platforms.teams import adapter as teams
from bot.platforms.wecom import adapter as wecom

COMMAND = {"command": "/frontline", "text": "me", "user_id": "UALICE", "team_id": "T0001",
           "channel_id": "CDM", "trigger_id": "trig1", "response_url": "https://x/respond/1"}
CLICK = {"type": "block_actions", "user": {"id": "UWANG"}, "team": {"id": "T0001"},
         "trigger_id": "trig2", "container": {"type": "message", "message_ts": "1.2"},
         "actions": [{"action_id": "frontline:0", "value": "approve C1",
                      "action_ts": "1.3"}]}
REACTION = {"type": "reaction_added", "user": "UBOB", "reaction": "heart",
            "item": {"type": "message", "channel": "CALLSTAFF", "ts": "1.4"}}
CARD_CLICK = (
    "<xml><ToUserName><![CDATA[corp]]></ToUserName><FromUserName><![CDATA[WangFang]]>"
    "</FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[approve C1]]>"
    "</EventKey><TaskId><![CDATA[t1]]></TaskId><AgentID>1000002</AgentID></xml>")


def lark_stored(model, event: dict) -> dict:
    """A Feishu event as the inbox keeps it: the SDK's model of it, marshalled."""
    return json.loads(lark.JSON.marshal(model({
        "schema": "2.0", "header": {"event_id": "ev-1", "event_type": "x"}, "event": event})))


def robot_message(**sender) -> dict:
    return {"conversationId": "cid-single", "msgId": "m1", "senderNick": "alice",
            "conversationType": "1", "senderCorpId": "corp", "msgtype": "text",
            "text": {"content": "me"}, **sender}


def activity(**fields) -> dict:
    return {"activity": {"type": "message", "id": "act-1", "channelId": "msteams",
                         "recipient": {"id": "28:app"}, "conversation": {"id": "a:1"},
                         **fields}, "claims": {"aud": "app"}}


CASES = [
    (slack.sent_by, "command", COMMAND, "UALICE"),
    (slack.sent_by, "button", CLICK, "UWANG"),
    (slack.sent_by, "form", {"user": "UALICE", "form": "comp", "answers": {},
                             "view_id": "V1"}, "UALICE"),
    (slack.sent_by, "praise_form", {"user": "UWANG", "text": "kind", "handle": "alice",
                                    "attachment": "", "view_id": "V2"}, "UWANG"),
    (slack.sent_by, "decline", {"user": "UWANG", "meta": {"command": "decline C1"},
                                "reason": "no", "view_id": "V3"}, "UWANG"),
    (slack.sent_by, "reaction", {"body": {"event_id": "Ev1"}, "event": REACTION}, "UBOB"),
    (slack.sent_by, "reaction", {"body": {"event_id": "Ev2"},
                                 "event": {"type": "reaction_added"}}, None),
    (wecom.sent_by, "callback", {"xml": CARD_CLICK}, "WangFang"),
    (wecom.sent_by, "callback", {"xml": CARD_CLICK.replace("WangFang", "")}, None),
    (feishu.sent_by, "message", lark_stored(P2ImMessageReceiveV1, {
        "sender": {"sender_id": {"open_id": "ou_wang"}, "sender_type": "user"},
        "message": {"message_id": "om_in", "chat_type": "p2p", "message_type": "text",
                    "content": json.dumps({"text": "me"})}}), "ou_wang"),
    (feishu.sent_by, "message", lark_stored(P2ImMessageReceiveV1, {
        "sender": {"sender_type": "app"}, "message": {"message_id": "om_in"}}), None),
    (feishu.sent_by, "menu", lark_stored(P2ApplicationBotMenuV6, {
        "operator": {"operator_name": "Alice", "operator_id": {"open_id": "ou_alice"}},
        "event_key": "me"}), "ou_alice"),
    (dingtalk.sent_by, "message", robot_message(senderStaffId="alice",
                                                senderId="$:LWCP_v1:$alice"), "alice"),
    (dingtalk.sent_by, "message", robot_message(senderId="$:LWCP_v1:$guest"), None),
    (teams.sent_by, "activity", activity(**{"from": {"id": "29:alice", "aadObjectId": "alice",
                                                     "name": "alice"}}), "alice"),
    (teams.sent_by, "activity", activity(type="messageReaction", **{"from": {"id": "29:bob"}}),
     "29:bob"),
    (teams.sent_by, "activity", activity(type="conversationUpdate"), None),
]


@pytest.mark.parametrize(("sent_by", "kind", "stored", "person"), CASES)
def test_the_sender_of_each_stored_request(sent_by, kind, stored, person):
    assert sent_by(kind, stored) == person
