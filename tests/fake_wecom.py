"""A local fake of the WeCom server API: the calls Frontline makes, with the answers
WeCom gives, including expired tokens and errors on demand (`fail`: WeCom answers
an error with HTTP 200 and its errcode)."""

from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fake_api import Failure, FakeApi

CORP_ID, SECRET = "ww_frontline_test", "app-secret"


@dataclass
class FakeWeCom(FakeApi):
    MESSAGES = "message/send"
    RECIPIENT = "touser"

    tokens_issued: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    media: dict[str, bytes] = field(default_factory=dict)

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

    def text_of(self, params: dict) -> str:
        if params["msgtype"] == "template_card":
            return params["template_card"]["sub_title_text"]
        return params["text"]["content"]

    def robot_posts(self) -> list[tuple[str, dict]]:
        """(webhook key, body) of every group-robot post."""
        return [(p["key"], p["body"]) for p in self.sent("webhook/send")]

    def failure_response(self, method: str, failure: Failure) -> Response:
        return JSONResponse({"errcode": failure.error if failure.error is not None else -1,
                             "errmsg": "system busy"}, status_code=failure.status or 200)

    def app(self) -> FastAPI:
        app = FastAPI()

        def token_error(access_token: str) -> dict | None:
            if access_token not in self.valid_tokens:
                return {"errcode": 42001, "errmsg": "access_token expired"}
            return None

        @app.get("/cgi-bin/gettoken")
        def gettoken(corpid: str, corpsecret: str):
            if (corpid, corpsecret) != (CORP_ID, SECRET):
                return {"errcode": 40001, "errmsg": "invalid credential"}
            self.tokens_issued += 1
            token = f"token-{self.tokens_issued}"
            self.valid_tokens.add(token)
            return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}

        @app.post("/cgi-bin/message/send")
        async def send(access_token: str, request: Request):
            if error := token_error(access_token):
                return error
            if (failure := self.injected("message/send")) is not None:
                return failure
            self.record("message/send", await request.json())
            return {"errcode": 0, "errmsg": "ok", "msgid": f"m{len(self.calls)}"}

        @app.post("/cgi-bin/message/update_template_card")
        async def update_card(access_token: str, request: Request):
            if error := token_error(access_token):
                return error
            if (failure := self.injected("message/update_template_card")) is not None:
                return failure
            self.record("message/update_template_card", await request.json())
            return {"errcode": 0, "errmsg": "ok"}

        @app.get("/cgi-bin/media/get")
        def media(access_token: str, media_id: str):
            if error := token_error(access_token):
                return error
            if (failure := self.injected("media/get")) is not None:
                return failure
            if media_id not in self.media:
                return {"errcode": 40007, "errmsg": "invalid media_id"}
            self.record("media/get", {"media_id": media_id})
            return Response(self.media[media_id], media_type="audio/amr")

        @app.post("/cgi-bin/webhook/send")
        async def robot(key: str, request: Request):
            if (failure := self.injected("webhook/send")) is not None:
                return failure
            self.record("webhook/send", {"key": key, "body": await request.json()})
            return {"errcode": 0, "errmsg": "ok"}

        return app
