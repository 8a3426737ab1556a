"""The outbox through WeCom: people through the app (a template card with buttons
when there is a decision to make), all staff and teams through group robots, each
robot its own outbox channel, so a retry after one robot failed posts only to that
one.

A text goes in the pieces WeCom takes (api.pieces, limits.py). App messages reach
anyone in the app's visible range (可见范围) whether or not they ever wrote to it
(https://developer.work.weixin.qq.com/document/path/90236, touser); someone outside
it cannot be reached at all: the notification is not retried, and HR is told who
and what an admin must do (`wecom.unreachable`), once a day per person.
"""

import logging
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import select

from bot.kit import Config, Event, Inbound, Notification, for_shared_chat, markdown_text
from bot.platforms.wecom import limits
from bot.platforms.wecom.api import Unreachable, WeComApi
from bot.platforms.wecom.settings import PLATFORM
from handlers.base import Message, queue
from handlers.i18n import render_message
from storage.engine import transaction
from storage.enums import Role
from storage.models import Employee

log = logging.getLogger(__name__)
UNREACHABLE = "wecom.unreachable"


class WeComChannel:
    """Delivers the outbox to people through the app (a card when there is a decision
    to make)."""

    name = PLATFORM

    def __init__(self, engine: Engine, config: Config, api: WeComApi) -> None:
        self.engine, self.api = engine, api
        self.inbound = Inbound(engine, config, PLATFORM)

    def wants(self, notification: Notification) -> bool:
        return notification.recipient is not None and PLATFORM in notification.identities

    def deliver(self, notification: Notification) -> None:
        userid = notification.identities[PLATFORM]
        try:
            self._send(notification, userid)
        except Unreachable as outside:
            log.warning("WeCom notification %s not delivered: %s", notification.outbox_id,
                        outside)
            if notification.message.key != UNREACHABLE:  # never a report about a report
                self._report(notification.recipient, userid)

    def _send(self, notification: Notification, userid: str) -> None:
        person = notification.recipient
        text = render_message(notification.message, person.locale)
        if not notification.actions:
            self.api.send_text(userid, text)
            return
        if len(text) > limits.CARD_TEXT_CHARS:  # the card shows a summary: the whole first
            self.api.send_text(userid, text)
        self.api.send_card(userid, {
            "card_type": "button_interaction",
            "main_title": {"title": "Frontline", "desc": text.split("\n", 1)[0][:30]},
            "sub_title_text": text[:limits.CARD_TEXT_CHARS],
            "task_id": f"frontline-{notification.outbox_id}",
            "button_list": [
                {"text": render_message(Message(a.label), person.locale),
                 "style": 1 if n == 0 else 2, "key": a.command}
                for n, a in enumerate(notification.actions)],
        })

    def _report(self, person: Employee, userid: str) -> None:
        """Tells HR (once a day per person) who cannot be reached and the fix."""
        day = datetime.now(UTC).date().isoformat()
        if not self.inbound.first(Event("unreachable", f"{userid}:{day}")):
            return
        with transaction(self.engine) as session:
            hr = session.exec(select(Employee.id).where(
                Employee.role == Role.HR, Employee.active, Employee.id != person.id)).all()
            for employee_id in hr:
                queue(session, datetime.now(UTC), "person", UNREACHABLE,
                      {"name": person.name, "userid": userid}, employee_id=employee_id)


class WeComRobotChannel:
    """One group robot (群机器人): the all-staff group's when `team` is None, else that
    team's. Its own outbox channel, named by the environment variable of its key (and
    its team)."""

    def __init__(self, api: WeComApi, env: str, key: str, team: str | None) -> None:
        self.api, self.key, self.team = api, key, team
        self.name = f"{PLATFORM}:robot:{env}" if team is None else (
            f"{PLATFORM}:robot:{team}:{env}")

    def wants(self, notification: Notification) -> bool:
        return for_shared_chat(notification, self.team)

    def deliver(self, notification: Notification) -> None:
        self.api.robot_markdown(self.key, markdown_text(notification.shared()))
