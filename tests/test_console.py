"""The local console as people type in it: recognition (team praise, thanks, `prefs`)
and the notifications it shows after each command, which keep quiet hours and muted
posts as the dispatcher of `frontline run` does."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.console import Console
from handlers import shifts
from handlers.base import Message
from handlers.i18n import render_message
from handlers.policy import QuietHours
from rituals import schedule
from storage.engine import transaction
from storage.models import Outbox
from tests.support import Clock, balance, employee, rows

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the demo store's timezone
DAY = (datetime.now(SHANGHAI) + timedelta(days=2)).date()  # every moment here is ahead


def said(key: str, locale: str = "en", **params) -> str:
    return render_message(Message(key, params), locale)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)


class Typing:
    """A console, and what it shows: `typed` returns what one line brought."""

    def __init__(self, engine, config, handle: str, clock: Clock | None = None) -> None:
        self.shown: list[str] = []
        self.console = Console(engine, config, handle, self.shown.append,
                               **({"now": clock} if clock else {}))

    def typed(self, line: str) -> str:
        before = len(self.shown)
        self.console.handle_line(line)
        return "\n".join(self.shown[before:])


@pytest.fixture
def quiet(config):
    """The organisation working 08:00-20:00 with quiet hours on."""
    return config.model_copy(update={"quiet_hours": QuietHours(enabled=True,
                                                               hours="08:00-20:00")})


def test_team_praise_thanks_and_prefs_in_the_console(org, config):
    console = Typing(org, config, "wang")
    praised = console.typed("praise @alice @bob They found my lost ring together")
    assert "P1, P2" in praised  # answered in wang's Chinese
    assert "📣 [all staff]" in praised and "Alice Chen, Bob Li" in praised
    assert "[to Alice Chen @alice]" in praised and "[to Bob Li @bob]" in praised
    assert [balance(org, handle) for handle in ("alice", "bob")] == [10, 10]

    console.typed("/as lilei")
    thanked = console.typed("感謝 @bob 幫我頂班 #團隊")
    assert said("thanks.sent_team", "zh", who="Bob Li") in thanked
    assert "📣 [team Harbour Street Store]" in thanked
    assert f"[to Bob Li @bob]\n{said('notify.thanks', who='李雷 Li Lei', why='幫我頂班')}" \
        in thanked  # bob reads English
    assert console.typed("感谢 @lilei 我自己") == said("refuse.self_thanks", "zh")

    console.typed("/as bob")
    assert said("prefs.muted") in console.typed("prefs broadcasts off")
    assert said("prefs.broadcasts_off") in console.typed("prefs")


def test_the_console_holds_a_night_notification_for_the_morning(org, quiet):
    clock = Clock(at(DAY - timedelta(days=1), 23))
    console = Typing(org, quiet, "wang", clock)
    night = console.typed("praise @alice She found my lost ring")
    assert "📣 [all staff]" in night  # a shared chat's post: no one person's hours
    assert "[to Alice Chen @alice]" not in night  # her hours begin at 08:00
    console.typed("/as alice")
    asked = console.typed("comp 500 refund #B9 broken vase")
    assert "[to 王芳 Wang Fang @wang]" in asked  # a decision waiting on him: at once

    clock.moment = at(DAY, 8)
    morning = console.typed("me")
    assert "[to Alice Chen @alice]" in morning and "Customer praise P1" in morning
    thanked = console.typed("thanks @bob for covering my shift")  # within bob's hours
    told = said("notify.thanks", who="Alice Chen", why="for covering my shift")
    assert f"[to Bob Li @bob]\n{told}" in thanked


def test_a_muted_post_is_not_shown_and_a_shift_s_copy_waits_for_it(org, quiet):
    with transaction(org) as session:
        shifts.import_csv(session, quiet, "handle,date,start,end\n"
                          f"alice,{DAY},14:00,22:00\nbob,{DAY},14:00,22:00\n")
    clock = Clock(at(DAY, 9))
    console = Typing(org, quiet, "bob", clock)
    console.typed("prefs broadcasts off")
    console.typed("/as wang")
    console.typed("praise @alice She found my lost ring")
    (morning_praise,) = [target for target in schedule.targets(org, quiet, ["morning_praise"])
                         if target.team_name == "Harbour Street Store"]
    assert schedule.run_once(org, quiet, morning_praise, clock(), clock()) == "P1"
    assert "[to " not in console.typed("pending")  # their shifts have not begun

    clock.moment = at(DAY, 14)
    shown = console.typed("pending")
    assert "[to Alice Chen @alice]\n☀️ Good morning!" in shown
    assert "[to Bob Li @bob]" not in shown  # he muted it
    copies = rows(org, Outbox, employee_id=employee(org, "bob").id)
    assert [row.delivered_at is not None for row in copies] == [True]
