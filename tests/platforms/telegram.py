"""The Telegram driver: python-telegram-bot's own Application pointed (base_url,
base_file_url) at a local fake Bot API, updates posted to the webhook route of the
bot's web app with Telegram's secret token header."""

import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import Engine

from bot.app.web import create_app
from bot.kit import Platform
from bot.kit.config import DEMO_CATALOG, parse_config
from bot.kit.outbox import dispatch_pending
from bot.platforms.telegram import limits
from bot.platforms.telegram.adapter import TelegramAdapter
from bot.platforms.telegram.channels import channels
from bot.platforms.telegram.platform import TelegramPlatform
from storage.engine import transaction
from storage.models import ChatIdentity
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.http_servers import serve
from tests.platforms.driver import MENTION, Driver
from tests.support import employee

SECRET = "webhook-secret-token"
USERS = {"wang": 1001, "alice": 1002, "bob": 1003, "lilei": 1004, "hana": 1005}
GROUP = -100500
STRANGER = 4242
TYPING = 3.0  # seconds a person takes to read an answer and type the next message


def settings(api_url: str, **overrides) -> dict:
    return {"roles": {"employee": {"per_incident_limit": "200"},
                      "supervisor": {"per_incident_limit": "1000"},
                      "hr": {"per_incident_limit": "1000"}},
            "catalog": DEMO_CATALOG,
            "platforms": {"telegram": {
                "enabled": True, "mode": "webhook", "webhook_url": "https://x.example/tg",
                "api_base": f"{api_url}/bot", "file_base": f"{api_url}/file/bot",
                "all_staff_chats": [GROUP], **overrides}}}


class Telegram:
    def __init__(self, url, engine, fake, adapter):
        self.url, self.engine, self.fake, self.adapter = url, engine, fake, adapter
        self.update_id, self.message_id = 7000, 100

    def post(self, update: dict, secret: str | None = SECRET) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        if secret == SECRET:  # Telegram sends it: its sender has a chat with the bot now
            self.fake.wrote(update)
        return httpx.post(f"{self.url}/telegram/webhook", json=update, headers=headers,
                          timeout=10)

    def update(self, **body) -> dict:
        self.update_id += 1
        return {"update_id": self.update_id, **body}

    def message(self, user: int, chat: int | None = None, **body) -> dict:
        self.message_id += 1
        chat = chat or user
        return {"message_id": self.message_id, "date": int(time.time()),
                "chat": {"id": chat, "type": "private" if chat > 0 else "supergroup"},
                "from": {"id": user, "is_bot": False, "first_name": f"user{user}"}, **body}

    def text(self, user: int, text: str, chat: int | None = None,
             mentions: dict[int, dict] | None = None, **body) -> dict:
        """A text message; `mentions`, UTF-16 offset -> the mentioned user, are people
        picked from the @ list whose name follows there (text_mention entities)."""
        entities = ([{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
                    if text.startswith("/") else [])
        units = text.encode("utf-16-le")
        for offset, person in (mentions or {}).items():
            name = " ".join(filter(None, (person["first_name"], person.get("last_name"))))
            assert units[offset * 2:].decode("utf-16-le").startswith(name)
            entities.append({"type": "text_mention", "offset": offset,
                             "length": limits.length(name), "user": person})
        return self.message(user, chat, text=text, entities=entities, **body)

    def say(self, handle_or_id, text: str, chat: int | None = None, replies: int = 1,
            **body) -> str:
        user = USERS.get(handle_or_id, handle_or_id)
        chat = chat or user
        before = len(self.fake.texts_to(chat))
        update = self.update(message=self.text(user, text, chat, **body))
        assert self.post(update).status_code == 200
        answered = self.replies(chat, before, replies)
        self.fake.elapsed += TYPING  # the person reads it and types the next, in test time
        return answered

    def replies(self, chat: int, before: int, expected: int = 1) -> str:
        self.fake.wait_for(lambda: len(self.fake.texts_to(chat)) >= before + expected,
                           what=f"a reply in chat {chat}")
        return "\n".join(self.fake.texts_to(chat)[before:])

    def press(self, handle: str, data: str, message: dict) -> dict:
        before = len(self.fake.sent("answerCallbackQuery"))
        query = {"id": f"q{self.update_id}", "chat_instance": "ci", "data": data,
                 "from": {"id": USERS[handle], "is_bot": False, "first_name": handle},
                 "message": message}
        assert self.post(self.update(callback_query=query)).status_code == 200
        return self.fake.wait_for_calls("answerCallbackQuery", before + 1)[-1]

    def dispatch(self) -> int:
        return dispatch_pending(self.engine, channels(self.adapter))


def bot_message(sent: dict) -> dict:
    """The message as Telegram shows it to the person who received `sent`."""
    chat = int(sent["chat_id"])
    return {"message_id": 9000 + len(sent["text"]), "date": int(time.time()),
            "chat": {"id": chat, "type": "private" if chat > 0 else "supergroup"},
            "text": sent["text"], "reply_markup": sent.get("reply_markup")}


@contextmanager
def running(org: Engine, fake: FakeTelegram, **overrides) -> Iterator[Telegram]:
    """The adapter behind its webhook, its people linked; `overrides` its settings."""
    with transaction(org) as session:
        for handle, user_id in USERS.items():
            session.add(ChatIdentity(employee_id=employee(org, handle).id, platform="telegram",
                                     platform_user_id=str(user_id)))
    fake.started.update(USERS.values())  # everyone linked has pressed Start
    with fake.serve() as api_url:
        config = parse_config(settings(api_url, **overrides))
        adapter = TelegramAdapter(org, config, TOKEN, webhook_secret=SECRET)
        app = create_app([adapter.router()], [adapter.start], [adapter.stop])
        with serve(app, lifespan="on") as bot_url:
            yield Telegram(bot_url, org, fake, adapter)


class TelegramDriver(Driver):
    name = "telegram"

    def __init__(self, tg: Telegram):
        self.tg, self.engine, self.fake = tg, tg.engine, tg.fake
        self.pressed: dict[str, str] = {}  # callback query id -> who pressed

    @property
    def inbox(self):
        return self.tg.adapter.inbox

    @property
    def channels(self):
        return channels(self.tg.adapter)

    @property
    def config(self):
        return self.tg.adapter.config

    def event(self, handle: str, text: str) -> dict:
        """`{@bob}` becomes what a Telegram client sends when bob is picked from the
        @ list: his name shown, with a text_mention entity carrying his user."""
        out, mentions, at = "", {}, 0
        for match in MENTION.finditer(text):
            out += text[at:match.start()]
            person = self._person(match[1])
            mentions[limits.length(out)] = person
            out += " ".join(filter(None, (person["first_name"], person.get("last_name"))))
            at = match.end()
        out += text[at:]
        return self.tg.update(message=self.tg.text(USERS.get(handle, STRANGER), out,
                                                   mentions=mentions))

    def _person(self, handle: str) -> dict:
        """The Telegram user `handle` is, as a text_mention carries it (no username)."""
        if handle in USERS:
            first, _, last = employee(self.engine, handle).name.rpartition(" ")
            return {"id": USERS[handle], "is_bot": False, "first_name": first or last,
                    **({"last_name": last} if first else {})}
        return {"id": STRANGER, "is_bot": False, "first_name": handle.title()}

    def deliver(self, event: dict) -> httpx.Response:
        return self.tg.post(event)

    def forge(self, event: dict) -> httpx.Response:
        return self.tg.post(event, secret="guessed")

    def acked(self, ack: httpx.Response) -> bool:
        return ack.status_code == 200 and "very busy" not in ack.text

    def asked_again(self, ack: httpx.Response) -> bool:
        # Telegram never sends an acknowledged update again, so the answer to the
        # webhook call asks the person (a method in the response body, per the Bot API)
        answer = ack.json() if ack.status_code == 200 and ack.content else {}
        return answer.get("method") == "sendMessage" and "very busy" in answer.get("text", "")

    def refused(self, ack: httpx.Response) -> bool:
        return ack.status_code == 403

    def stored(self, event: dict) -> tuple[str, str, dict]:
        return f"telegram:update:{event['update_id']}", "update", event

    def answers(self, handle: str) -> list[str]:
        chat = USERS.get(handle, STRANGER)
        return [params["text"] for method, params in self.fake.calls
                if self._shown(handle, chat, method, params)]

    def _shown(self, handle: str, chat: int, method: str, params: dict) -> bool:
        if method in ("sendMessage", "editMessageText"):
            return int(params["chat_id"]) == chat
        return (method == "answerCallbackQuery" and bool(params.get("text"))
                and self.pressed.get(params["callback_query_id"]) == handle)

    def press(self, handle: str, command: str) -> None:
        card = next(m for m in reversed(self.fake.sent("sendMessage"))
                    if command in str(m.get("reply_markup")))
        self.pressed[f"q{self.tg.update_id}"] = handle  # the id Telegram.press gives it
        self.tg.press(handle, command, bot_message(card))

    def throttle_next_send(self) -> None:
        self.fake.fail("sendMessage", status=429, retry_after=1)  # "retry after 1"

    # --- a real install ---------------------------------------------------------
    reaches_first = False  # a bot cannot write to someone who never pressed Start

    @property
    def platform(self) -> Platform:
        return TelegramPlatform(self.tg.adapter)

    def user_id(self, handle: str) -> str:
        return str(USERS.get(handle, STRANGER))

    def never_wrote(self, handle: str) -> None:
        self.fake.never_wrote(USERS[handle])

    def told_unreachable(self, handle: str) -> bool:
        """HR (hana) was told in chat who cannot be reached and to press Start."""
        name = employee(self.engine, handle).name
        return any(name in text and "t.me/frontline_bot" in text
                   for text in self.answers("hana"))

    def shared_posts(self) -> list[str]:
        return self.fake.texts_to(GROUP)

    def fits(self, text: str) -> bool:
        return 1 <= limits.length(text) <= limits.MESSAGE_TEXT

    def withhold_permission(self) -> None:
        # privacy mode back on (@BotFather /setprivacy): verbs typed in groups are lost
        self.fake.bot_user["can_read_all_group_messages"] = False


@contextmanager
def driver(org: Engine) -> Iterator[TelegramDriver]:
    with running(org, FakeTelegram()) as tg:
        yield TelegramDriver(tg)
