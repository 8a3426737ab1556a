"""DingTalk's encrypted HTTP callback (事件订阅), a JSON envelope around the shared
message crypto (bot/kit/msgcrypt.py): `{"encrypt": …}` in, and the answer
`{"msg_signature", "timeStamp", "nonce", "encrypt"}` out. The receive id is the
corp id (or the app key, for an app's own subscription)."""

import json

from bot.kit import CallbackError, MsgCrypt


class DingTalkCrypto(MsgCrypt):
    def decrypt_callback(self, signature: str, timestamp: str, nonce: str, body: bytes) -> dict:
        try:
            encrypted = json.loads(body).get("encrypt")
        except (ValueError, AttributeError):
            raise CallbackError("not a JSON object") from None
        if not isinstance(encrypted, str) or not encrypted:
            raise CallbackError("no encrypt field")
        self.check_signature(signature, timestamp, nonce, encrypted)
        try:
            event = json.loads(self.decrypt(encrypted))
        except ValueError:
            raise CallbackError("the event is not JSON") from None
        if not isinstance(event, dict):
            raise CallbackError("the event is not a JSON object")
        return event

    def encrypt_reply(self, message: str, timestamp: str, nonce: str) -> dict:
        encrypted = self.encrypt(message)
        return {"msg_signature": self.signature(timestamp, nonce, encrypted),
                "timeStamp": timestamp, "nonce": nonce, "encrypt": encrypted}
