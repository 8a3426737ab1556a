"""What DingTalk allows, declared once: read by the API client, the adapter, the
channels and the local fake (tests/fake_dingtalk.py), so Frontline and its fake keep
the same rules. Each figure names the documentation it comes from."""

# One message's text (a sampleText's content, a sampleMarkdown's text, a session-webhook
# or custom-robot text/markdown): DingTalk refuses a message body over 20,000 bytes
# (errcode 460101 "message too long").
# https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages
# https://open.dingtalk.com/document/orgapp/robot-message-types-and-data-format
MESSAGE_BYTES = 20_000
MESSAGE_TOO_LONG = 460101  # the webhooks' errcode for a body over MESSAGE_BYTES

# The open API (api.dingtalk.com): an enterprise internal app may call each API at most
# 20 times a second; over it the gateway answers HTTP 429 with this code.
# https://open.dingtalk.com/document/orgapp/invocation-frequency-limit
API_QPS = 20
QPS_LIMIT = "Forbidden.AccessDenied.QpsLimitForApi"

# A group's custom robot (自定义机器人): 20 messages a minute; over it errcode 410100
# (130101 from the older gateway).
# https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages
ROBOT_PER_MINUTE, ROBOT_WINDOW = 20, 60.0
ROBOT_THROTTLED = (410100, 130101)

# A card callback (and a robot message) must be acknowledged at once: the Stream
# gateway counts a CALLBACK frame without an ACK in time as undelivered and pushes it
# again; an HTTP card callback is answered within the same few seconds. Frontline
# acknowledges first and works after.
# https://open.dingtalk.com/document/direction/stream-mode-protocol-access-description
# https://open.dingtalk.com/document/orgapp/event-callback-card
CARD_ACK_SECONDS = 3.0

# What a card callback's answer may carry (the ACK's `response`, or the HTTP answer's
# body): nothing, or the card's new public data / the clicker's private data, each a
# cardParamMap of strings.
# https://open.dingtalk.com/document/orgapp/event-callback-card
CARD_ANSWER_KEYS = frozenset({"cardData", "userPrivateData", "cardUpdateOptions"})

# A missing permission: the open API answers HTTP 403 with this code and the scopes
# the call needs in `requiredScopes`.
# https://open.dingtalk.com/document/orgapp/error-code
PERMISSION_DENIED = "Forbidden.AccessDenied.AccessTokenPermissionDenied"
# The scopes Frontline's calls need (开发者后台 → 权限管理):
# 企业内机器人发送消息权限 — robot one-to-one and group messages, read status
# https://open.dingtalk.com/document/orgapp/chatbots-send-one-on-one-chat-messages-in-batches
SEND_SCOPE = "qyapi_robot_sendmsg"
# 互动卡片实例写权限 — create, deliver and update interactive cards
# https://open.dingtalk.com/document/orgapp/create-and-deliver-cards
CARD_SCOPE = "Card.Instance.Write"


def fits(text: str) -> bool:
    return len(text.encode()) <= MESSAGE_BYTES


def pieces(text: str, limit: int = MESSAGE_BYTES) -> list[str]:
    """`text` in messages DingTalk takes, in order: cut at line breaks where it can,
    inside a line only when one line alone is too long (never inside a character)."""
    out: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > limit:  # one line longer than a message
            cut = len(line.encode()[:limit].decode("utf-8", "ignore"))
            if current:
                out.append(current)
                current = ""
            out.append(line[:cut])
            line = line[cut:]
        if len((current + line).encode()) > limit:
            out.append(current)
            current = ""
        current += line
    if current or not out:
        out.append(current)
    return out
