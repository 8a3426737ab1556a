"""Answers at a request's response_url over kept-alive connections.

Bolt's `Respond` posts through slack_sdk's WebhookClient, which opens a new TCP (and
TLS) connection for every answer; at a few hundred commands a second that was a
measurable share of the process's time. Every response_url is on hooks.slack.com
(https://docs.slack.dev/interactivity/handling-user-interaction, "response_url"), so
one pooled client keeps a few connections to it open and reuses them. The client is
urllib3's pool (what requests stands on): per answer it took two thirds of the CPU
time httpx's Client did, measured on loopback.
"""

import json
from dataclasses import dataclass

import urllib3

TIMEOUT = 10.0  # seconds, as slack_sdk's WebhookClient waits by default
# Connections kept open between answers: as many as the work threads that answer at once
KEPT_OPEN = 16


@dataclass(frozen=True)
class Answered:
    status_code: int
    body: str


class Answers:
    """The process's one client for response_urls (thread-safe, as urllib3's pools are)."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        # retries=False: an answer that failed is reported, as Bolt's `respond` does
        self.http = urllib3.PoolManager(maxsize=KEPT_OPEN, timeout=timeout, retries=False)

    def at(self, response_url: str | None) -> "Respond | None":
        return None if not response_url else Respond(self, response_url)

    def close(self) -> None:
        self.http.clear()


@dataclass(frozen=True)
class Respond:
    """Bolt's `respond(...)`, for the arguments Frontline uses."""

    answers: Answers
    response_url: str

    def __call__(self, *, text: str, blocks: list | None = None,
                 response_type: str | None = None, replace_original: bool | None = None,
                 ) -> Answered:
        body = {"text": text}
        if blocks is not None:
            body["blocks"] = blocks
        if response_type is not None:
            body["response_type"] = response_type
        if replace_original is not None:
            body["replace_original"] = replace_original
        answered = self.answers.http.request(
            "POST", self.response_url, body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json;charset=utf-8"})
        return Answered(answered.status, answered.data.decode(errors="replace"))
