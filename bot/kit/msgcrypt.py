"""The callback message crypto WeCom and DingTalk share (the WXBizMsgCrypt scheme
family), on `cryptography`. Each platform wraps it in its own envelope (WeCom: XML,
DingTalk: JSON).

key = base64(EncodingAESKey + "="), 32 bytes; AES-256-CBC with IV = key[:16];
PKCS#7 padding to 32-byte blocks; plaintext = 16 random bytes + 4-byte big-endian
length + message + receive id (WeCom: the corp id; DingTalk: the corp id, suite key
or app key). The signature is the SHA-1 of the sorted, concatenated token,
timestamp, nonce and ciphertext.
"""

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from storage.errors import FrontlineError

BLOCK = 32


class CallbackError(FrontlineError):
    """The request is not a genuine callback for this app: refuse it, change nothing."""


class MsgCrypt:
    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        try:
            self.key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error:
            self.key = b""
        if len(encoding_aes_key) != 43 or len(self.key) != 32:
            raise ValueError("the EncodingAESKey must be 43 characters of base64")
        self.token = token
        self.receive_id = receive_id

    def signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        joined = "".join(sorted([self.token, timestamp, nonce, encrypted]))
        return hashlib.sha1(joined.encode("utf-8", "replace")).hexdigest()

    def check_signature(self, signature: str, timestamp: str, nonce: str,
                        encrypted: str) -> None:
        # Bytes, not str: compare_digest raises on a str with non-ASCII characters.
        expected = self.signature(timestamp, nonce, encrypted).encode()
        if not hmac.compare_digest(expected, (signature or "").encode("utf-8", "replace")):
            raise CallbackError("signature mismatch")

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, message: str, random_prefix: bytes | None = None) -> str:
        body = message.encode()
        plain = (random_prefix or os.urandom(16)) + struct.pack(">I", len(body)) + body \
            + self.receive_id.encode()
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        try:
            data = base64.b64decode(encrypted, validate=True)
        except binascii.Error:
            raise CallbackError("ciphertext is not base64") from None
        if not data or len(data) % 16:
            raise CallbackError("ciphertext has a wrong length")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CallbackError("bad padding")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise CallbackError("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        message, receive_id = plain[20:20 + length], plain[20 + length:]
        if len(message) != length:
            raise CallbackError("length field does not match")
        if not hmac.compare_digest(receive_id, self.receive_id.encode()):
            raise CallbackError("the message is for another corp id or app key")
        try:
            return message.decode()
        except UnicodeDecodeError:
            raise CallbackError("message is not UTF-8") from None
