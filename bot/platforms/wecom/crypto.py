"""WeCom's callback envelope (XML) around the shared message crypto (bot/kit/msgcrypt.py):
URL verification, encrypted callbacks and encrypted passive replies."""

from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from bot.kit import BLOCK, CallbackError, MsgCrypt

__all__ = ["BLOCK", "CallbackError", "WeComCrypto", "parse_xml"]


def parse_xml(data: bytes | str) -> Element:
    """Parse untrusted XML: no DTDs, no entities, no external references."""
    try:
        return ElementTree.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                      forbid_external=True)
    except (DefusedXmlException, ElementTree.ParseError, ValueError) as error:
        raise CallbackError(f"malformed XML: {error}") from None


class WeComCrypto(MsgCrypt):
    """The receive id is the corp id."""

    def verify_url(self, signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """URL verification: the decrypted echostr, to be answered as it is."""
        self.check_signature(signature, timestamp, nonce, echostr)
        return self.decrypt(echostr)

    def decrypt_callback(self, signature: str, timestamp: str, nonce: str, body: bytes) -> Element:
        """The inner XML of an encrypted POST callback."""
        encrypted = parse_xml(body).findtext("Encrypt")
        if not encrypted:
            raise CallbackError("no Encrypt element")
        self.check_signature(signature, timestamp, nonce, encrypted)
        return parse_xml(self.decrypt(encrypted))

    def encrypt_reply(self, message_xml: str, timestamp: str, nonce: str) -> str:
        """A passive reply envelope: Encrypt / MsgSignature / TimeStamp / Nonce."""
        encrypted = self.encrypt(message_xml)
        return (f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
                f"<MsgSignature><![CDATA[{self.signature(timestamp, nonce, encrypted)}]]>"
                f"</MsgSignature><TimeStamp>{timestamp}</TimeStamp>"
                f"<Nonce><![CDATA[{nonce}]]></Nonce></xml>")
