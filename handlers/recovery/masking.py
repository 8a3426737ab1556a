"""A customer's words with their phone numbers and e-mail addresses masked, before a
recovery case keeps or shows them: whoever reads the case calls through the customer
reference, not a number copied out of a complaint."""

import re

# An e-mail address: its local part and domain (any script: \w is Unicode).
EMAIL = re.compile(r"[\w.+-]+@([\w-]+)((?:\.[\w-]+)+)")
# A run of digits and what people put between them (spaces, dashes, dots, brackets, in
# half and full width), optionally after + or 00 or an opening bracket; not glued to a
# Latin letter or digit before or after (a Chinese character may touch it: 电话13812345678).
PHONE = re.compile(r"(?<![0-9A-Za-z０-９+＋])(?:[+＋]|\(|（)?[0-9０-９]"
                   r"[0-9０-９ \u3000().（）\-－.]{5,}[0-9０-９](?![0-9A-Za-z０-９])")
DIGIT = re.compile(r"[0-9０-９]")
# Shapes of numbers that are not phones: a date, an amount with cents.
NOT_A_PHONE = re.compile(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d+\.\d{1,2})$")
SHORTEST, LONGEST = 7, 15  # digits of a local number, and of E.164's longest (ITU-T E.164)


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = DIGIT.findall(found)
    if not SHORTEST <= len(digits) <= LONGEST + 2 or NOT_A_PHONE.match(found):
        return found
    seen = 0

    def star(digit: re.Match[str]) -> str:  # every digit but the last two
        nonlocal seen
        seen += 1
        return digit.group(0) if seen > len(digits) - 2 else "*"
    return DIGIT.sub(star, found)


def _email(match: re.Match[str]) -> str:
    local = match.group(0).split("@", 1)[0]
    return f"{local[0]}***@{match.group(1)[0]}***.{match.group(2).rsplit('.', 1)[-1]}"


def mask(text: str) -> str:
    """`text` with e-mail addresses (`j***@e***.com`) and phone numbers (every digit but
    the last two starred) masked; dates and amounts are left alone."""
    return PHONE.sub(_phone, EMAIL.sub(_email, text))
