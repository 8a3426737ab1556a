"""DingTalk's encrypted callback (事件订阅) on the message crypto it shares with WeCom,
against the worked example in DingTalk's own callback-crypto repository
(open-dingtalk/DingTalk-Callback-Crypto, DingCallbackCrypto3.py)."""

import json

import pytest

from bot.kit.msgcrypt import CallbackError, MsgCrypt
from bot.platforms.dingtalk.crypto import DingTalkCrypto
from bot.platforms.wecom.crypto import WeComCrypto

# DingTalk's published example: token, aes_key, owner key, and a pushed check_url event.
TOKEN, OWNER = "mryue", "ding6ccabc44d2c8d38b"
AES_KEY = "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7"
SIGNATURE, TIMESTAMP, NONCE = "03044561471240d4a14bb09372dfcfd4fd0e40cb", "1608001896814", \
    "WL4PK6yA"
ENCRYPT = ("0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNv"
           "mBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3")


def body(encrypt: str = ENCRYPT) -> bytes:
    return json.dumps({"encrypt": encrypt}).encode()


def test_dingtalks_published_example_decrypts():
    crypto = DingTalkCrypto(TOKEN, AES_KEY, OWNER)
    assert crypto.signature(TIMESTAMP, NONCE, ENCRYPT) == SIGNATURE
    assert crypto.decrypt_callback(SIGNATURE, TIMESTAMP, NONCE, body()) == {
        "EventType": "check_url"}


def test_the_answer_is_an_encrypted_signed_success():
    crypto = DingTalkCrypto(TOKEN, AES_KEY, OWNER)
    answer = crypto.encrypt_reply("success", TIMESTAMP, NONCE)
    assert answer["timeStamp"] == TIMESTAMP and answer["nonce"] == NONCE
    assert answer["msg_signature"] == crypto.signature(TIMESTAMP, NONCE, answer["encrypt"])
    assert crypto.decrypt(answer["encrypt"]) == "success"


@pytest.mark.parametrize(("crypto", "signature", "payload", "error"), [
    (DingTalkCrypto(TOKEN, AES_KEY, OWNER), "0" * 40, body(), "signature"),
    (DingTalkCrypto("other-token", AES_KEY, OWNER), SIGNATURE, body(), "signature"),
    (DingTalkCrypto(TOKEN, AES_KEY, "dingAnotherCorp"), SIGNATURE, body(), "corp id"),
    (DingTalkCrypto(TOKEN, AES_KEY, OWNER), SIGNATURE, b"[1, 2", "JSON"),
    (DingTalkCrypto(TOKEN, AES_KEY, OWNER), SIGNATURE, b'{"encrypt": 7}', "encrypt"),
])
def test_a_forged_or_misaddressed_callback_is_refused(crypto, signature, payload, error):
    with pytest.raises(CallbackError, match=error):
        crypto.decrypt_callback(signature, TIMESTAMP, NONCE, payload)


def test_a_decrypted_event_that_is_not_an_object_is_refused():
    crypto = DingTalkCrypto(TOKEN, AES_KEY, OWNER)
    encrypted = crypto.encrypt("[1, 2]")
    with pytest.raises(CallbackError, match="object"):
        crypto.decrypt_callback(crypto.signature(TIMESTAMP, NONCE, encrypted), TIMESTAMP, NONCE,
                                body(encrypted))


def test_wecom_and_dingtalk_share_one_implementation():
    assert issubclass(DingTalkCrypto, MsgCrypt) and issubclass(WeComCrypto, MsgCrypt)
    wecom, dingtalk = WeComCrypto(TOKEN, AES_KEY, OWNER), DingTalkCrypto(TOKEN, AES_KEY, OWNER)
    assert dingtalk.decrypt(wecom.encrypt("same scheme")) == "same scheme"
