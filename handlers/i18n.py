"""Every message the bot and its web console show, and every word its commands accept, in
each language of `handlers.policy.LOCALES`.

The text lives in gettext catalogs beside this module, read with Babel at import:
`locales/<language>/LC_MESSAGES/frontline.po` (`zh` is Simplified Chinese, `zh_Hant`
Traditional), all made from the template `locales/frontline.pot`. A message id is a key
such as `pending.header`; its text is a `str.format` template.

- A parameter named `x_key` holds another message key; it is rendered in the same language
  and offered to the template as `x`. One named `x_word` holds the key of a word list
  (`verb.comp`); the first of its words in the reader's language is `x`. One named
  `x_names` holds a name per language from the configuration (a theme's, a catalog
  item's: `{"en": "Refund policy", "zh": "退款政策"}`); the reader's is `x` (`name_in`).
- A plural entry names the parameter that chooses its form in `msgid_plural`, e.g.
  `msgid_plural "{count}"`; the language's Plural-Forms picks the form from that number.
  A number written with a fraction (`2.5` hours) takes the form of 2.
- `verb.*` and `word.*` entries are not prose: their text is the words people may type,
  separated by spaces (`accepted_words`).

A message missing from a language, or a language without a catalog, falls back to English.
"""

import gettext
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

from handlers.base import Message, Reply
from handlers.policy import LOCALES, fallbacks

DOMAIN = "frontline"
LOCALE_DIR = Path(__file__).parent / "locales"
SOURCE_LOCALE = "en"
# The stored code `zh` predates script subtags; it has always meant Simplified Chinese.
_LANGUAGE_TAGS = {"zh": "zh-Hans"}

Template = str | tuple[str, ...]  # a plural entry has one template per form


def catalog_name(locale: str) -> str:
    """A locale code's catalog folder: `zh-Hant` -> `zh_Hant` (Babel's and gettext's spelling)."""
    return str(Locale.parse(locale, sep="-"))


def catalog_path(locale: str) -> Path:
    return LOCALE_DIR / catalog_name(locale) / "LC_MESSAGES" / f"{DOMAIN}.po"


def language_tag(locale: str) -> str:
    """The BCP 47 tag of a locale code, for HTML's `lang`: `zh` -> `zh-Hans`."""
    return _LANGUAGE_TAGS.get(locale, locale)


_PARSED = {code: Locale.parse(code, sep="-") for code in LOCALES}


def locale_of_tag(tag: str) -> str | None:
    """The locale of `LOCALES` for a BCP 47 language tag, or None: `zh-TW`, `zh-HK` and
    `zh-Hant` read Traditional; `zh`, `zh-CN` and `zh-Hans` Simplified (Babel knows which
    script a region writes); `en-GB` English."""
    try:
        asked = Locale.parse(tag.strip(), sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    same = [code for code in LOCALES if _PARSED[code].language == asked.language]
    return next((code for code in same if _PARSED[code].script == asked.script),
                same[0] if same else None)


def preferred_locale(accept_language: str) -> str:
    """The locale an HTTP Accept-Language header prefers (`zh-TW,zh;q=0.9,en;q=0.8`), by
    quality then order; English when it names none of ours."""
    ranked = []
    for n, item in enumerate(accept_language.split(",")[:20]):  # a header, not a list to sift
        tag, _, quality = item.partition(";")
        try:
            weight = float(quality.strip().removeprefix("q=")) if quality else 1.0
        except ValueError:
            continue
        if weight > 0:
            ranked.append((-weight, n, tag))
    return next((found for *_, tag in sorted(ranked)
                 if (found := locale_of_tag(tag)) is not None), SOURCE_LOCALE)


def _plural_param(marker: str) -> str:
    return marker.strip().removeprefix("{").removesuffix("}")


def _load() -> tuple[dict[str, dict[str, Template]], dict[str, str],
                     dict[str, Callable[[int], int]]]:
    messages: dict[str, dict[str, Template]] = {}
    plural_by: dict[str, str] = {}
    plural_forms: dict[str, Callable[[int], int]] = {}
    for locale in LOCALES:
        with catalog_path(locale).open("rb") as file:
            catalog = read_po(file, locale=catalog_name(locale), domain=DOMAIN)
        plural_forms[locale] = gettext.c2py(catalog.plural_expr)
        for entry in catalog:
            if not entry.id or entry.fuzzy:
                continue
            if isinstance(entry.id, tuple):
                key, marker = entry.id
                forms = tuple(entry.string)
                if not all(forms):
                    continue
                plural_by.setdefault(key, _plural_param(marker))
                messages.setdefault(key, {})[locale] = forms
            elif entry.string:
                messages.setdefault(entry.id, {})[locale] = entry.string
    return messages, plural_by, plural_forms


# key -> locale -> template; key of a plural entry -> the parameter that chooses the form
MESSAGES, PLURAL_BY, _PLURAL_FORMS = _load()


def _plural_number(value: Any) -> int:
    """The whole number a Plural-Forms expression takes; 2 for one shown with a fraction."""
    if isinstance(value, int):
        return abs(value)
    shown = str(value)
    try:
        number = Decimal(shown)
    except InvalidOperation:
        return 2
    if "." in shown or not number.is_finite() or number != number.to_integral_value():
        return 2
    return abs(int(number))


def _template(key: str, locale: str, params: dict[str, Any]) -> str:
    by_locale = MESSAGES[key]  # KeyError: a message that exists in no catalog
    if locale not in by_locale:
        locale = SOURCE_LOCALE
    template = by_locale[locale]
    if isinstance(template, str):
        return template
    form = _PLURAL_FORMS[locale](_plural_number(params[PLURAL_BY[key]]))
    return template[min(form, len(template) - 1)]


def name_in(names: dict[str, str], locale: str) -> str:
    """A configured name in the reader's language: Traditional borrows the Simplified one,
    any language without its own the English one (or, lacking that, the first given)."""
    return next((names[code] for code in (*fallbacks(locale), SOURCE_LOCALE) if code in names),
                next(iter(names.values()), ""))


def render_message(message: Message, locale: str) -> str:
    params: dict[str, Any] = {}
    for name, value in message.params.items():
        if name.endswith("_key"):
            params[name[:-4]] = render_message(Message(value), locale)
        elif name.endswith("_word"):
            params[name[:-5]] = _template(value, locale, {}).split()[0]
        elif name.endswith("_names"):
            params[name[:-6]] = name_in(value, locale)
        else:
            params[name] = value
    return _template(message.key, locale, params).format(**params)


def render_reply(reply: Reply, locale: str) -> str:
    """Plain text for platforms without native widgets: actions become commands to type."""
    lines = [render_message(message, locale) for message in reply.messages]
    if reply.actions:
        lines.append("  ".join(f"[{render_message(Message(a.label), locale)}: {a.command}]"
                               for a in reply.actions))
    return "\n".join(lines)


@cache
def accepted_words(key: str) -> frozenset[str]:
    """The words of a `verb.*` / `word.*` entry in every language, lower-cased: a command
    is understood in any language, whatever the sender's setting."""
    return frozenset(word.lower() for template in MESSAGES[key].values()
                     for word in (template if isinstance(template, str) else " ".join(template))
                     .split())
