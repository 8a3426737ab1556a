"""The outbox through WeCom: people through the app (a template card with buttons
when there is a decision to make), all staff and teams through group robots."""

from collections.abc import Callable

from bot.kit import Config, Notification
from bot.platforms.wecom.api import WeComApi
from bot.platforms.wecom.settings import PLATFORM
from handlers.base import Message
from handlers.i18n import render_message

CARD_TEXT_LIMIT = 112  # characters WeCom shows in a card's sub-title


class WeComChannel:
    """Delivers the outbox: to people through the app (a card when there is a decision
    to make), to all staff and teams through the configured group robots."""

    name = PLATFORM

    def __init__(self, config: Config, api: WeComApi, robot_key: Callable[[str], str]) -> None:
        self.api = api
        self.settings = config.platforms.wecom
        self.robot_key = robot_key  # env var name -> webhook key

    def _robots(self, notification: Notification) -> list[str]:
        if notification.team is not None:
            return self.settings.team_robot_envs.get(notification.team.name, [])
        return self.settings.all_staff_robot_envs

    def wants(self, notification: Notification) -> bool:
        if notification.recipient is not None:
            return PLATFORM in notification.identities
        return bool(self._robots(notification))

    def deliver(self, notification: Notification) -> None:
        if notification.recipient is None:
            for env in self._robots(notification):
                self.api.robot_markdown(self.robot_key(env), notification.shared())
            return
        person = notification.recipient
        userid = notification.identities[PLATFORM]
        text = render_message(notification.message, person.locale)
        if not notification.actions:
            self.api.send_text(userid, text)
            return
        if len(text) > CARD_TEXT_LIMIT:  # the card shows a summary: send the whole first
            self.api.send_text(userid, text)
        self.api.send_card(userid, {
            "card_type": "button_interaction",
            "main_title": {"title": "Frontline", "desc": text.split("\n", 1)[0][:30]},
            "sub_title_text": text[:CARD_TEXT_LIMIT],
            "task_id": f"frontline-{notification.outbox_id}",
            "button_list": [
                {"text": render_message(Message(a.label), person.locale),
                 "style": 1 if n == 0 else 2, "key": a.command}
                for n, a in enumerate(notification.actions)],
        })
