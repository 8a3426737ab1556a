"""WeCom crypto against Tencent's published WXBizMsgCrypt sample vectors, and round trips."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.platforms.wecom.crypto import CallbackError, WeComCrypto, parse_xml

# The values of the official sample (Sample.py / Sample.java of WXBizMsgCrypt).
TOKEN, AES_KEY, CORP_ID = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7"
VERIFY = dict(signature="5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", timestamp="1409659589",
              nonce="263014780",
              echostr="P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==")
ENCRYPTED = ("RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3Qcz"
             "cdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs"
             "8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4"
             "zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMN"
             "S0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDA"
             "Ve0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==")
REQUEST = dict(signature="477715d11cdb4164915debcba66cb864d751f3e6", timestamp="1409659813",
               nonce="1372623149")
BODY = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{ENCRYPTED}]]>"
        "</Encrypt><AgentID><![CDATA[218]]></AgentID></xml>").encode()


@pytest.fixture
def crypto():
    return WeComCrypto(TOKEN, AES_KEY, CORP_ID)


def test_official_url_verification_vector(crypto):
    assert crypto.verify_url(**VERIFY) == "1616140317555161061"


def test_a_non_ascii_signature_is_a_mismatch_not_an_error(crypto):
    with pytest.raises(CallbackError, match="signature mismatch"):
        crypto.verify_url(**{**VERIFY, "signature": "签名" * 20})
    with pytest.raises(CallbackError, match="signature mismatch"):
        crypto.decrypt_callback("\ud800", REQUEST["timestamp"], "\ud800", BODY)


def test_official_message_vector(crypto):
    inner = crypto.decrypt_callback(REQUEST["signature"], REQUEST["timestamp"],
                                    REQUEST["nonce"], BODY)
    assert inner.findtext("Content") == "hello"
    assert inner.findtext("FromUserName") == "mycreate"
    assert inner.findtext("MsgId") == "4561255354251345929"


def test_forged_signature_is_refused(crypto):
    with pytest.raises(CallbackError, match="signature"):
        crypto.decrypt_callback("0" * 40, REQUEST["timestamp"], REQUEST["nonce"], BODY)
    with pytest.raises(CallbackError, match="signature"):
        crypto.verify_url(**{**VERIFY, "nonce": "1"})


def test_another_corp_id_is_refused():
    other = WeComCrypto(TOKEN, AES_KEY, "ww_someone_else")
    with pytest.raises(CallbackError, match="corp id"):
        other.decrypt_callback(REQUEST["signature"], REQUEST["timestamp"], REQUEST["nonce"], BODY)


def test_malformed_and_hostile_xml_is_refused(crypto):
    with pytest.raises(CallbackError, match="malformed"):
        parse_xml(b"<xml><Encrypt>")
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b"<xml><Encrypt>&lol2;</Encrypt></xml>")
    with pytest.raises(CallbackError):
        crypto.decrypt_callback("x", "1", "2", bomb)
    external = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                b"<xml><Encrypt>&e;</Encrypt></xml>")
    with pytest.raises(CallbackError):
        parse_xml(external)


def test_a_bad_key_is_refused_at_start():
    with pytest.raises(ValueError):
        WeComCrypto(TOKEN, "short", CORP_ID)


@given(st.text(max_size=2000), st.text(alphabet="0123456789", min_size=1, max_size=10))
def test_round_trip(message, nonce):
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    envelope = crypto.encrypt_reply(message.replace("]]>", ""), "1700000000", nonce)
    outer = parse_xml(envelope)
    encrypted = outer.findtext("Encrypt")
    assert outer.findtext("MsgSignature") == crypto.signature("1700000000", nonce, encrypted)
    assert crypto.decrypt(encrypted) == message.replace("]]>", "")


def test_tampered_ciphertext_is_refused(crypto):
    """CBC has no integrity of its own: the signature over the ciphertext is what
    catches tampering, so a changed ciphertext with the old signature is refused."""
    encrypted = crypto.encrypt("<xml><Content>approve C1</Content></xml>")
    signature = crypto.signature("1700000000", "7", encrypted)
    tampered = encrypted[:5] + ("A" if encrypted[5] != "A" else "B") + encrypted[6:]
    body = f"<xml><Encrypt><![CDATA[{tampered}]]></Encrypt></xml>".encode()
    with pytest.raises(CallbackError, match="signature"):
        crypto.decrypt_callback(signature, "1700000000", "7", body)
