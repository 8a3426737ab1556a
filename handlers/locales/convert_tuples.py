"""One-off: turn the (English, Chinese) tuples of handlers/i18n.py and bot/webui/text.py,
and the accepted words of bot/grammar.py, into the gettext catalogs beside this file.

    PYTHONPATH=. python handlers/locales/convert_tuples.py

Messages with a count become plural entries: English gets a singular wording, Chinese
keeps its one form. The web console's keys that clash with chat keys get a `web.` prefix.
"""

import string
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from bot import grammar
from bot.webui.text import TEXT
from handlers.i18n import MESSAGES

HERE = Path(__file__).parent
DOMAIN = "frontline"

# key -> (the parameter that chooses the form, English singular, English plural or None
# to keep today's English as the plural)
PLURALS: dict[str, tuple[str, str, str | None]] = {
    "login.sent": ("minutes", "I have sent you a sign-in link in a private message. It works "
                   "once, for {minutes} minute.", None),
    "notify.login_link": ("minutes", "Your Frontline sign-in link (valid {minutes} minute, works "
                          "once; never forward it): {url}", None),
    "form.timed_out": ("minutes", "This form waited {minutes} minute for an answer and was "
                       "closed; nothing was logged. Start again any time.", None),
    "redeem.mine_header": ("count", "Your latest redemption ({count}):", None),
    "redeem.mine_line": ("cost", "• {ref} · {item} · {cost} point · {status}", None),
    "waiver.opened": ("hours", "{ref} opened for “{rule}”. Report by {due} ({hours} hour left): "
                      "waiver report {ref} <what you did> / <why>",
                      "{ref} opened for “{rule}”. Report by {due} ({hours} hours left): "
                      "waiver report {ref} <what you did> / <why>"),
    "waiver.list_header": ("count", "Your open waiver ({count}):", "Your open waivers ({count}):"),
    "waiver.line_open": ("hours", "• {ref} “{rule}” — report by {due} ({hours} hour left)",
                         "• {ref} “{rule}” — report by {due} ({hours} hours left)"),
    "waiver.review_header": ("count", "{count} waiver waits for your review:",
                             "{count} waivers wait for your review:"),
    "notify.waiver_due_soon": ("hours", "Reminder: waiver {ref} (“{rule}”) must be reported within "
                               "{hours} hour: waiver report {ref} <what you did> / <why>",
                               "Reminder: waiver {ref} (“{rule}”) must be reported within "
                               "{hours} hours: waiver report {ref} <what you did> / <why>"),
    "praise.logged": ("points", "{ref}: praise for {who} logged, +{points} point, shared with all "
                      "staff.", None),
    "notify.praise_credited": ("points", "🎉 Customer praise {ref}: “{text}” — +{points} point!",
                               None),
    "case.approved": ("points", "{ref} accepted: +{points} point credited.", None),
    "notify.case_approved": ("points", "{decider} accepted {ref} (“{text}”): +{points} point!",
                             None),
    "goldenear.line": ("votes", "• {who}: {votes} vote, nominated {nominations}×",
                       "• {who}: {votes} votes, nominated {nominations}×"),
    "broadcast.goldenear_winner": ("votes", "🏆 Golden Ear {month}: {who}, with {votes} vote! "
                                   "+{points} points for best capturing the customer's voice.",
                                   None),
    "catalog.header": ("balance", "Catalog (your balance: {balance} point):", None),
    "catalog.line": ("cost", "• {key} — {name}: {cost} point (left: {stock})", None),
    "redeem.requested": ("cost", "{ref}: {item} for {cost} point requested; balance {balance}. "
                         "HR will confirm. Changed your mind? {cancel}", None),
    "redeem.rejected": ("cost", "{ref} rejected; {cost} point refunded.", None),
    "redeem.cancelled": ("cost", "{ref} cancelled; {cost} point refunded.", None),
    "notify.redemption_review": ("cost", "{who} redeems {item} for {cost} point ({ref}).", None),
    "notify.redemption_rejected": ("cost", "Your redemption {ref} ({item}) was rejected and "
                                   "{cost} point refunded: {comment}", None),
    "ledger.header": ("count", "Ledger of {who} — balance {balance}, last {count} entry:", None),
    "pending.header": ("count", "{count} request waits for your decision:",
                       "{count} requests wait for your decision:"),
    "notify.approval_waiting": ("hours", "{ref} has been waiting for your decision for {hours} "
                                "hour.", "{ref} has been waiting for your decision for {hours} "
                                "hours."),
    "notify.approval_escalated": ("hours", "{ref} was undecided after {hours} hour, so it now "
                                  "waits for you.", "{ref} was undecided after {hours} hours, "
                                  "so it now waits for you."),
    "ritual.morning_praise": ("touching", "☀️ Good morning! The praise that moved us most since the "
                              "last morning — a customer said of {who}: “{text}”{recording}\n"
                              "(❤️ {touching} colleague found it touching)", None),
    "ritual.goldenear_reminder": ("count", "👂 Golden Ear {month}: {count} colleague nominated — "
                                  "cast your vote: vote @name", None),
    "waivers.summary": ("waived", "{waived} waiver · {reported} reported · late-report rate "
                        "{late_rate} · {overdue} overdue now · ratified {ratified} / rejected "
                        "{rejected}", None),
}

HEADER = "# Frontline's messages and command words. Message ids are keys; see README.md."
WORDS_NOTE = ("Not prose: the words people may type for this, separated by spaces. Every "
              "language's words are accepted whatever the sender's language.")


def _split(words) -> tuple[str, str]:
    english = [w for w in words if w.isascii()]
    chinese = [w for w in words if not w.isascii()]
    return " ".join(english), " ".join(chinese)


def word_entries() -> dict[str, tuple[str, str]]:
    entries: dict[str, tuple[str, str]] = {}
    verbs: dict[str, list[str]] = {}
    for alias, canonical in grammar.VERBS.items():
        verbs.setdefault(canonical, []).append(alias)
    for canonical, aliases in verbs.items():
        entries[f"verb.{canonical}"] = _split(aliases)
    kinds: dict[str, list[str]] = {}
    for word, kind in grammar.KINDS.items():
        kinds.setdefault(kind, []).append(word)
    for kind, words in kinds.items():
        entries[f"word.kind.{kind}"] = _split(words)
    languages: dict[str, list[str]] = {}
    for word, locale in grammar.LANGUAGES.items():
        languages.setdefault(locale, []).append(word)
    for locale, words in languages.items():
        entries[f"word.lang.{locale}"] = _split(words)
    entries["word.waiver.report"] = _split(sorted(grammar.WAIVER_REPORT_WORDS))
    entries["word.waiver.list"] = _split(sorted(grammar.WAIVER_LIST_WORDS))
    entries["word.goldenear.close"] = _split(sorted(grammar.CLOSE_WORDS))
    entries["word.when.now"] = ("now", "现在 刚才")
    entries["word.unit.hours"] = ("h", "小时")
    entries["word.unit.minutes"] = ("m min", "分钟")
    return entries


def placeholders(template: str) -> bool:
    return any(name for _, name, _, _ in string.Formatter().parse(template))


def main() -> None:
    clashes = set(TEXT) & set(MESSAGES)
    texts = {**MESSAGES, **{f"web.{k}" if k in clashes else k: v for k, v in TEXT.items()}}
    catalogs = {code: Catalog(locale=Locale.parse(code), domain=DOMAIN, project="Frontline",
                              version="0.1.0", fuzzy=False, header_comment=HEADER,
                              language_team="Frontline", last_translator="Frontline")
                for code in ("en", "zh")}
    for key, (english, chinese) in texts.items():
        flags = ["python-brace-format"] if placeholders(english) else []
        if key in PLURALS:
            param, singular, plural = PLURALS[key]
            marker = "{" + param + "}"
            catalogs["en"].add((key, marker), (singular, plural or english), flags=flags)
            catalogs["zh"].add((key, marker), (chinese,), flags=flags)
        else:
            catalogs["en"].add(key, english, flags=flags)
            catalogs["zh"].add(key, chinese, flags=flags)
    for key, (english, chinese) in word_entries().items():
        catalogs["en"].add(key, english, auto_comments=[WORDS_NOTE])
        catalogs["zh"].add(key, chinese, auto_comments=[WORDS_NOTE])
    for code, catalog in catalogs.items():
        folder = HERE / code / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{DOMAIN}.po", "wb") as out:
            write_po(out, catalog, width=0, omit_header=False)
    print(f"{len(texts)} messages, {len(word_entries())} word lists; renamed {sorted(clashes)}")


if __name__ == "__main__":
    main()
