"""A local fake of what a Teams bot talks to: the token issuer (its OpenID metadata,
its JWKS from an RSA key made here, the client-credentials token endpoint) and the
Bot Connector (the activities of a conversation: posts, replies, updates), which
records what the bot sent and answers 429/500 on demand.

`mint` signs the tokens Teams would send with requests to /api/messages."""

import base64
import itertools
import time
from dataclasses import dataclass, field

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fake_api import FakeApi

APP_ID, TENANT, SECRET = "00000000-feed-4bee-8000-00000000f00d", "tenant-1", "app-secret"
ISSUER = "https://api.botframework.com"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakeTeams(FakeApi):
    MESSAGES = "send"
    RECIPIENT = "conversation"

    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    kid: str = "fake-key-1"
    tokens_issued: list[str] = field(default_factory=list)
    key_fetches: int = 0
    url: str = ""  # its base URL once served
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # name -> data, type
    certificate: x509.Certificate | None = None  # registered for the app, if any
    assertions: list[dict] = field(default_factory=list)  # the ones accepted
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def mint(self, *, key: rsa.RSAPrivateKey | None = None, kid: str | None = None,
             **claims) -> str:
        """A token as Teams sends it; `claims` override (None drops one)."""
        now = int(time.time())
        body = {"iss": ISSUER, "aud": APP_ID, "nbf": now - 5, "iat": now - 5,
                "exp": now + 3600, "serviceurl": f"{self.url}/"}
        body.update(claims)
        body = {name: value for name, value in body.items() if value is not None}
        return jwt.encode(body, key or self.key, algorithm="RS256",
                          headers={"kid": kid or self.kid})

    def assertion_holds(self, assertion: str, token_url: str) -> bool:
        """A certificate's client assertion: signed by the registered certificate's key,
        naming it by thumbprint, for this token endpoint, from the app itself."""
        if self.certificate is None or not assertion:
            return False
        thumbprint = base64.urlsafe_b64encode(
            self.certificate.fingerprint(hashes.SHA1())).decode().rstrip("=")
        try:
            if jwt.get_unverified_header(assertion).get("x5t") != thumbprint:
                return False
            claims = jwt.decode(assertion, self.certificate.public_key(), algorithms=["RS256"],
                                audience=token_url, issuer=APP_ID)
        except jwt.PyJWTError:
            return False
        self.assertions.append(claims)
        return claims.get("sub") == APP_ID

    def text_of(self, params: dict) -> str:
        activity = params["activity"]
        texts = [activity.get("text") or ""]
        for attachment in activity.get("attachments") or []:
            texts += [b.get("text", "") for b in attachment["content"].get("body", [])]
        return "\n".join(filter(None, texts))

    def cards(self, method: str | None = None) -> list[dict]:
        return [a["content"] for p in self.sent(method) for a in
                p["activity"].get("attachments") or []]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/openid")
        def openid(request: Request):
            base = str(request.base_url).rstrip("/")
            return {"issuer": ISSUER, "jwks_uri": f"{base}/keys",
                    "id_token_signing_alg_values_supported": ["RS256"]}

        @app.get("/files/{name}")
        def download(name: str):  # a file's pre-authorised download URL
            if name not in self.files:
                return JSONResponse({"error": "not found"}, status_code=404)
            data, content_type = self.files[name]
            return Response(data, media_type=content_type)

        @app.get("/keys")
        def keys():
            self.key_fetches += 1
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256",
                              "endorsements": ["msteams"]}]}

        @app.post("/{tenant}/oauth2/v2.0/token")
        async def token(tenant: str, request: Request):
            form = await request.form()
            proven = form.get("client_secret") == SECRET or self.assertion_holds(
                str(form.get("client_assertion") or ""), str(request.url))
            if (tenant, form.get("client_id")) != (TENANT, APP_ID) or not proven \
                    or form.get("grant_type") != "client_credentials":
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            self.tokens_issued.append(f"bot-token-{len(self.tokens_issued) + 1}")
            return {"token_type": "Bearer", "expires_in": 3600,
                    "access_token": self.tokens_issued[-1]}

        async def connector(method: str, request: Request, conversation: str,
                            activity_id: str = "") -> Response:
            header = request.headers.get("Authorization", "")
            if header.removeprefix("Bearer ") not in self.tokens_issued:
                return JSONResponse({"error": "unauthorized"}, status_code=401)
            if (failure := self.injected(method)) is not None:
                return failure
            posted = f"m{next(self._ids)}" if method != "update" else activity_id
            self.record(method, {"conversation": conversation, "activity_id": activity_id,
                                 "activity": await request.json(), "id": posted})
            return {"id": posted}

        @app.post("/v3/conversations/{conversation}/activities")
        async def send(conversation: str, request: Request):
            return await connector("send", request, conversation)

        @app.post("/v3/conversations/{conversation}/activities/{activity_id}")
        async def reply(conversation: str, activity_id: str, request: Request):
            return await connector("reply", request, conversation, activity_id)

        @app.put("/v3/conversations/{conversation}/activities/{activity_id}")
        async def update(conversation: str, activity_id: str, request: Request):
            return await connector("update", request, conversation, activity_id)

        return app
