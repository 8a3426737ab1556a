import re
import string
from pathlib import Path

from handlers.i18n import MESSAGES
from handlers.words import verbs

ROOT = Path(__file__).parent.parent


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_message_exists_in_both_languages_with_the_same_placeholders():
    for key, (english, chinese) in MESSAGES.items():
        assert english and chinese, key
        assert placeholders(english) == placeholders(chinese), key


def test_every_literal_message_key_in_the_code_exists():
    pattern = re.compile(r'"((?:usage|error|refuse|notify|broadcast|comp|waiver|praise|case|'
                         r'suggestion|major_issue|goldenear|catalog|redeem|ledger|me|lang|'
                         r'pending|help|kind|role|reason|action|ritual)\.[a-z_.]+)"')
    for folder in ("handlers", "bot", "points", "rituals"):
        for path in (ROOT / folder).glob("*.py"):
            for key in pattern.findall(path.read_text(encoding="utf-8")):
                assert key in MESSAGES, f"{path.name}: {key}"


def test_every_command_has_usage_text():
    for topic in set(verbs().values()):
        assert f"usage.{topic}" in MESSAGES, topic
