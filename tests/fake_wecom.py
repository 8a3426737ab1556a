"""A local fake of the WeCom server API: the calls Frontline makes, with the answers
WeCom gives, including expired tokens and errors on demand."""

from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import Response

CORP_ID, SECRET = "ww_frontline_test", "app-secret"


@dataclass
class FakeWeCom:
    tokens_issued: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    sent: list[dict] = field(default_factory=list)  # message/send bodies
    card_updates: list[dict] = field(default_factory=list)
    robot_posts: list[tuple[str, dict]] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    fail_sends: list[int] = field(default_factory=list)  # errcodes for the next sends

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

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
            if self.fail_sends:
                return {"errcode": self.fail_sends.pop(0), "errmsg": "system busy"}
            self.sent.append(await request.json())
            return {"errcode": 0, "errmsg": "ok", "msgid": f"m{len(self.sent)}"}

        @app.post("/cgi-bin/message/update_template_card")
        async def update_card(access_token: str, request: Request):
            if error := token_error(access_token):
                return error
            self.card_updates.append(await request.json())
            return {"errcode": 0, "errmsg": "ok"}

        @app.get("/cgi-bin/media/get")
        def media(access_token: str, media_id: str):
            if error := token_error(access_token):
                return error
            if media_id not in self.media:
                return {"errcode": 40007, "errmsg": "invalid media_id"}
            return Response(self.media[media_id], media_type="audio/amr")

        @app.post("/cgi-bin/webhook/send")
        async def robot(key: str, request: Request):
            self.robot_posts.append((key, await request.json()))
            return {"errcode": 0, "errmsg": "ok"}

        return app
