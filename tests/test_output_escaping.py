"""Stored text is shown as typed in every medium: a name or a praise carrying markup or
control characters (stored before input was checked, or from a platform's profile or a
directory import) never becomes a mention, a link, emphasis, a tag, a script or a
terminal control sequence. One test per medium, each on the payload it is sent."""

import asyncio
import io
from types import SimpleNamespace

import pytest
from sqlmodel import select

from bot.console import Console
from bot.kit import Notification
from bot.kit.escaping import markdown_text, terminal_text
from bot.platforms.dingtalk.channels import (
    DingTalkGroupChannel,
    DingTalkPersonChannel,
    DingTalkRobotChannel,
)
from bot.platforms.feishu.channels import FeishuChannel, FeishuChatChannel
from bot.platforms.slack.blocks import pieces
from bot.platforms.slack.channels import SlackChannel, SlackChatChannel
from bot.platforms.teams import cards
from bot.platforms.teams import channels as teams_channels
from bot.platforms.telegram.channels import TelegramChatChannel
from bot.platforms.wecom.channels import WeComRobotChannel
from bot.webui.pages.base import templates
from handlers import praise
from handlers.base import Action, Message, Reply
from storage.engine import transaction
from storage.models import Employee, Outbox
from tests.support import employee, rows
from tests.web_support import app_for, browser

HOSTILE = ("<!channel> <script>alert(1)</script> *bold* _x_ [a](http://evil) "
           "\x1b[31mred \u202eevil")
DECIDE = (Action("action.approve", "approve C1"), Action("action.decline", "decline C1"))


@pytest.fixture
def hostile(chat, config):
    """Lilei's name and a customer's praise of her, both hostile: the name as stored
    before input was checked, the praise as a feedback tool pushed it."""
    with transaction(chat.engine) as session:
        lilei = session.exec(select(Employee).where(Employee.handle == "lilei")).one()
        lilei.name = HOSTILE
        praise.receive(session, config, chat.now, lilei, HOSTILE, "", "survey")
    return chat


def notification(engine, key: str, actions: tuple[Action, ...] = (),
                 identities: dict[str, str] | None = None) -> Notification:
    """The queued notification `key` as the outbox hands it to a channel."""
    (row,) = rows(engine, Outbox, message_key=key)
    recipient = employee(engine, "lilei") if row.employee_id else None
    return Notification(row.id, row.audience, recipient, None,
                        Message(row.message_key, dict(row.params)), actions,
                        identities or {}, ("en", "zh"))


class Recorder:
    """A platform's API client: keeps what each call was given, answers `answer`."""

    def __init__(self, answer: object = None) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []
        self.answer = answer

    def __getattr__(self, method: str):
        def call(*args, **kwargs):
            self.calls.append((method, args, kwargs))
            return self.answer
        return call


def assert_no_markup(text: str) -> None:
    for live in ("<!channel>", "<script>", "[a](http://evil)", "*bold*", "_x_"):
        assert live not in text, (live, text)


def test_markdown_escapes_what_starts_markup_and_keeps_the_rest():
    assert markdown_text(HOSTILE) == ("\\<!channel\\> \\<script\\>alert(1)\\</script\\> "
                                 "\\*bold\\* \\_x\\_ \\[a\\](http://evil) "
                                 "\x1b\\[31mred \u202eevil")
    assert markdown_text("# one\n- two\n3. three\nC12 (350.00 CNY) #A3") == (
        "\\# one\n\\- two\n3\\. three\nC12 (350.00 CNY) #A3")


# --- web ---------------------------------------------------------------------------
def test_web_pages_and_svg_charts_print_stored_text_escaped(hostile, config):
    hostile.ok("alice", "waiver <b>evil</b> rule")  # a chart's label
    app = app_for(hostile.engine, config)
    team = browser(app, hostile, "wang").get("/team").text  # Lilei's supervisor
    assert "<script>" not in team and "&lt;script&gt;alert(1)&lt;/script&gt;" in team
    waivers = browser(app, hostile, "hana").get("/waivers?from=2026-11-01&to=2026-11-30").text
    chart = waivers[waivers.index("<svg"):waivers.index("</svg>")]
    assert "&lt;b&gt;evil&lt;/b&gt;" in chart and "<b>" not in chart
    # whatever a template's name ends with (an SVG one too), it escapes
    assert all(templates.env.autoescape is True or templates.env.autoescape(name)
               for name in ("chart.svg", "page.html", "mail.txt"))


# --- terminal --------------------------------------------------------------------
def test_the_console_shows_control_and_bidi_characters_as_escapes(hostile, config):
    shown: list[str] = []
    console = Console(hostile.engine, config, "wang", shown.append)
    console.run(io.StringIO("me\n/people\n"))  # delivers the queued broadcast too
    out = "\n".join(shown)
    assert HOSTILE.split(" ")[0] in out  # the name is there, as typed
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[31mred \\u202eevil" in out
    assert terminal_text("a\tb\nc\rd\x9b") == "a\tb\nc\\x0dd\\x9b"


# --- Slack: mrkdwn ------------------------------------------------------------------
def test_slack_escapes_every_text_it_sends(hostile):
    client = Recorder({"channel": "C1", "ts": "1.0"})
    SlackChatChannel(client, hostile.engine, hostile.config, "C1", None).deliver(
        notification(hostile.engine, "broadcast.praise"))
    SlackChannel(client).deliver(notification(hostile.engine, "notify.praise_credited",
                                               DECIDE, {"slack": "U1"}))
    for _method, _args, sent in client.calls:
        texts = [sent["text"], *(b["text"]["text"] for b in sent["blocks"]
                                 if b["type"] == "section")]
        for text in texts:
            assert "<" not in text and "&lt;!channel&gt;" in text, text
    reply = Reply([Message("broadcast.praise", {"who": HOSTILE, "text": "", "ref": "P1",
                                                "attachment": ""})])
    assert all("<" not in text for text, _blocks in pieces(reply, "en"))


# --- Telegram: plain text (no parse_mode) ---------------------------------------------
def test_telegram_sends_stored_text_as_plain_text(hostile):
    sent: list[dict] = []

    async def send_message(chat_id, text, **options):
        sent.append({"text": text, **options})
        return SimpleNamespace(message_id=1)

    adapter = SimpleNamespace(engine=hostile.engine, application=SimpleNamespace(
        bot=SimpleNamespace(send_message=send_message)))
    channel = TelegramChatChannel(adapter, -100, None)
    asyncio.run(channel._post(notification(hostile.engine, "broadcast.praise")))
    (message,) = sent
    assert "parse_mode" not in message  # so nothing in the text is markup
    assert HOSTILE in message["text"]


# --- Teams: plain-text messages, Markdown card text --------------------------------------
def test_teams_sends_plain_text_and_escapes_card_text(hostile, monkeypatch):
    credited = notification(hostile.engine, "notify.praise_credited")
    reply = Reply([credited.message])
    (activity,) = cards.reply_activities(reply, "en")
    assert activity.text_format == "plain" and HOSTILE in activity.text
    card = cards.reply_card(Reply([credited.message], list(DECIDE)), "en")
    shown = card["body"][0]["text"]
    assert_no_markup(shown)
    assert "\\[a\\](http://evil)" in shown and "\\<!channel\\>" in shown
    decided = cards.decided_card(HOSTILE, "Approved", HOSTILE)
    assert all("\\<script\\>" in block["text"] for block in decided["body"][::2])

    posted: list = []
    sender = SimpleNamespace(post=lambda reference, activity: posted.append(activity) or "")
    monkeypatch.setattr(teams_channels.references, "of_channel", lambda engine, id: "ref")
    channel = teams_channels.TeamsChatChannel(hostile.engine, sender, "19:all", None)
    channel.deliver(notification(hostile.engine, "notify.praise_credited"))  # not a card
    channel.deliver(notification(hostile.engine, "broadcast.praise"))  # a card
    plain, praised = posted
    assert plain.text_format == "plain"
    assert_no_markup(praised.attachments[0].content["body"][0]["text"])


# --- DingTalk: Markdown messages and card text --------------------------------------------
def test_dingtalk_escapes_its_markdown(hostile):
    api = Recorder()
    DingTalkPersonChannel(api, "").deliver(notification(
        hostile.engine, "notify.praise_credited", identities={"dingtalk": "u1"}))
    DingTalkGroupChannel(api, "", "cid-all", None).deliver(
        notification(hostile.engine, "broadcast.praise"))
    DingTalkGroupChannel(api, "tpl", "cid-all", None).deliver(
        notification(hostile.engine, "broadcast.praise"))  # the card with ❤️
    DingTalkRobotChannel(api, SimpleNamespace(url_env="ROBOT"), "https://robot", "SEC",
                         None).deliver(notification(hostile.engine, "broadcast.praise"))
    texts = []
    for method, args, _kwargs in api.calls:
        if method in ("send_to_user", "send_to_group"):
            texts.append(args[2]["text"])
        elif method == "create_card":
            texts.append(args[2]["markdown"])
        elif method == "robot_send":
            texts.append(args[2]["markdown"]["text"])
    assert len(texts) == 4
    for text in texts:
        assert_no_markup(text)
        assert "\\[a\\](http://evil)" in text


# --- WeCom: group robots' Markdown ---------------------------------------------------
def test_wecom_escapes_its_group_robots_markdown(hostile):
    api = Recorder()
    WeComRobotChannel(api, "ROBOT_ALL", "key", None).deliver(
        notification(hostile.engine, "broadcast.praise"))
    ((method, (key, content), _kwargs),) = api.calls
    assert method == "robot_markdown" and key == "key"
    assert_no_markup(content)
    assert "\\<script\\>" in content


# --- Feishu: cards of plain text -------------------------------------------------------
def test_feishu_cards_carry_stored_text_as_plain_text(hostile):
    api = Recorder("om_1")
    FeishuChatChannel(api, hostile.engine, "oc_all", None).deliver(
        notification(hostile.engine, "broadcast.praise"))
    FeishuChannel(api).deliver(notification(hostile.engine, "notify.praise_credited",
                                            DECIDE, {"feishu": "ou_1"}))
    for method, args, _kwargs in api.calls:
        assert method == "send_card"
        texts = [e["text"] for e in args[2]["elements"] if e["tag"] == "div"]
        assert texts and all(t["tag"] == "plain_text" and HOSTILE in t["content"]
                             for t in texts)
