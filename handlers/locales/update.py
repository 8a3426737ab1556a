"""Keep the message catalogs in step: a developer's tool (Frontline reads the .po files
itself and needs no build step).

    python handlers/locales/update.py            # frontline.pot from the English catalog,
                                                  # then every other catalog updated from it
    python handlers/locales/update.py traditional # also fill zh_Hant's empty entries from zh

The English catalog (en/LC_MESSAGES/frontline.po) is where a message is added or its
English changed; the template then carries each message's English as a comment for
translators, and updating a catalog adds new keys untranslated (the tests insist on a
translation) and drops removed ones. This is what `pybabel update --no-fuzzy-matching
--ignore-obsolete` does, with the template made first.
"""

import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).parent
DOMAIN = "frontline"
SOURCE = "en"
ENGLISH = "English"  # the template's comments that show the English text start so


def path_of(folder: str) -> Path:
    return HERE / folder / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, domain=DOMAIN)


def write(path: Path, catalog: Catalog) -> None:
    with path.open("wb") as file:
        write_po(file, catalog, width=0, ignore_obsolete=True)


def texts_of(entry) -> tuple[str, ...]:
    return tuple(entry.string) if isinstance(entry.id, tuple) else (entry.string,)


def key_of(entry) -> str:
    return entry.id[0] if isinstance(entry.id, tuple) else entry.id


def mark_formats(catalog: Catalog, english: Catalog) -> None:
    """Flag `python-brace-format` where the English text has placeholders. (Babel decides
    the flag from the msgid, which here is a key, so its readers drop it.)"""
    for entry in catalog:
        source = english.get(entry.id) if entry.id else None
        if source is not None and any(name for text in texts_of(source)
                                      for _, name, _, _ in string.Formatter().parse(text)):
            entry.flags.add("python-brace-format")
        else:
            entry.flags.discard("python-brace-format")


def make_template(english: Catalog) -> Catalog:
    template = Catalog(domain=DOMAIN, project=english.project, version=english.version,
                       header_comment=english.header_comment,
                       creation_date=english.creation_date, fuzzy=True)
    for entry in english:
        if not entry.id:
            continue
        texts = texts_of(entry)
        shown = [f"{ENGLISH}: {texts[0]}"] if len(texts) == 1 else \
            [f"{ENGLISH} [{n}]: {text}" for n, text in enumerate(texts)]
        lines = [line for text in shown for line in text.split("\n")]
        notes = [c for c in entry.auto_comments if not c.startswith(ENGLISH)]
        template.add(entry.id, ("", "") if isinstance(entry.id, tuple) else "",
                     auto_comments=[*notes, *lines], flags=entry.flags)
    return template


def traditional_from_simplified(catalog: Catalog, simplified: Catalog) -> int:
    """Fill the empty entries of the Traditional catalog from the Simplified one.

    OpenCC's `s2tw` converts characters to the standard Traditional forms taught and
    printed in Taiwan (為, 裡, 著), which readers in Hong Kong and Macau read as their own;
    it leaves the vocabulary alone, unlike `s2twp` (which would turn words into Taiwanese
    usage such as 軟體, 資訊). Frontline's staff in all three regions share one catalog,
    and the few words that need it are fixed by WORDING below, so that the catalog says
    the same thing the same way everywhere.
    """
    import opencc

    convert = opencc.OpenCC("s2tw").convert
    filled = 0
    for entry in catalog:
        if not entry.id:
            continue
        source = simplified.get(entry.id[0] if isinstance(entry.id, tuple) else entry.id)
        if source is None:
            continue
        texts = entry.string if isinstance(entry.id, tuple) else (entry.string,)
        if all(texts):
            continue
        words = entry.auto_comments and str(entry.id).startswith(("verb.", "word."))
        converted = [convert(text) if words else wording(convert(text)) for text in
                     (source.string if isinstance(source.id, tuple) else (source.string,))]
        entry.string = tuple(converted) if isinstance(entry.id, tuple) else converted[0]
        filled += 1
    return filled


# Word choices after the character conversion: one term for each thing, in every message,
# in words that read naturally in Taiwan, Hong Kong and Macau alike.
WORDING = {
    "賬號": "帳號",  # account
    "用戶名": "帳號",
    "登錄": "登入",  # sign in (both stay accepted as the command word)
    "鏈接": "連結",  # link
    "消息": "訊息",  # message
    "聯繫": "聯絡",  # contact
    "設置": "設定",  # set up
    "保存": "儲存",  # keep
    "導出": "匯出",  # export
    "刷新": "重新載入",  # reload
    "衝正": "沖正",  # reversal (accounting)
    "早上好": "早安",  # good morning
}


def wording(text: str) -> str:
    for old, new in WORDING.items():
        text = text.replace(old, new)
    return text


def main(argv: list[str]) -> None:
    english = read(path_of(SOURCE))
    mark_formats(english, english)
    write(path_of(SOURCE), english)
    template = make_template(english)
    mark_formats(template, english)
    write(HERE / f"{DOMAIN}.pot", template)
    catalogs = {}
    for path in sorted(HERE.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        folder = path.parent.parent.name
        if folder == SOURCE:
            continue
        catalog = read(path)
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalogs[folder] = (path, catalog)
    if "traditional" in argv[1:]:
        path, catalog = catalogs["zh_Hant"]
        print(f"zh_Hant: {traditional_from_simplified(catalog, catalogs['zh'][1])} filled")
    for path, catalog in catalogs.values():
        mark_formats(catalog, english)
        write(path, catalog)
    print(f"{len(template)} messages in {DOMAIN}.pot; updated {', '.join(catalogs)}")


if __name__ == "__main__":
    main(sys.argv)
