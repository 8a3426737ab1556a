"""What DingTalk allows, declared once: read by the API client, the adapter, the
channels and the local fake (tests/fake_dingtalk.py), so Frontline and its fake keep
the same rules. Each figure names the documentation it comes from."""

from bot.kit import pieces as cut

# One message's text (a sampleText's content, a sampleMarkdown's text, a session-webhook
# or custom-robot text/markdown). The robot send API documents its msgParam (the JSON
# carrying that text) as "The length must not exceed 15,000 bytes":
# https://help.dingtalk.io/open/development/the-robot-sends-a-group-message
# (was 20,000, a figure no DingTalk page states: it is the webhooks' observed refusal).
MESSAGE_BYTES = 15_000
# Not published: bot developers observe the webhooks answering
# {"errcode":460101,"errmsg":"message too long, exceed 20000 bytes"}.
MESSAGE_TOO_LONG = 460101

# The open API (api.dingtalk.com), 接口的应用维度QPS限流: "标准版钉钉组织调用钉钉接口，每秒调用
# 次数不能超过20次"; over it, per app and API, the new API answers the code
# Forbidden.AccessDenied.QpsLimitForAppkeyAndApi (old API 90018). QpsLimitForApi is the
# *global* dimension (all apps of all organisations). The page gives no HTTP status.
# https://open.dingtalk.com/document/development/how-to-process-api-throttling-on-the-dingtalk-server
API_QPS = 20
QPS_LIMIT = "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"

# A group's custom robot (自定义机器人): "每个机器人每分钟最多发送20条消息到群里，如果超过20条，
# 会限流10分钟" (the page's text as quoted by the SDKs that cite it; the page itself could not
# be read here). Confirmed only through those SDKs (the same sentence in several robot
# clients, each citing custom-robots-send-group-messages); not against the page: it is not
# stored, and others report it serves an empty app shell to a plain fetch. Over it:
# errcode 410100 (the API definition's 发送速度太快而限流) or 130101 "send too fast, exceed
# 20 times per minute" (older gateway; observed by bot developers). Not confirmed in the
# documentation: either code (searched both and the robot pages).
# https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages
ROBOT_PER_MINUTE, ROBOT_WINDOW = 20, 60.0
ROBOT_THROTTLED = (410100, 130101)

# A card callback must be answered at once: "事件回调有超时（TIMEOUT）限制，请在 2 秒内完成业务
# 处理并响应" (HTTP and Stream mode alike; was 3 s, from memory). Frontline acknowledges
# first and works after.
# https://open.dingtalk.com/document/development/event-callback-card
CARD_ACK_SECONDS = 2.0

# What a card callback's answer may carry (the ACK's `response`, or the HTTP answer's
# body): nothing, or the card's new public data / the clicker's private data, each a
# cardParamMap of strings (事件回调响应: cardData, userPrivateData, cardUpdateOptions).
# https://open.dingtalk.com/document/development/event-callback-card
CARD_ANSWER_KEYS = frozenset({"cardData", "userPrivateData", "cardUpdateOptions"})

# A missing permission: the open API answers HTTP 403 with this code and the scopes
# the call needs in `requiredScopes`. Not confirmed in the documentation (the error-code
# page is not stored here; searched the code): observed by DingTalk app developers, whose
# logs show HTTP 403, this code, "应用尚未开通所需的权限：[qyapi_robot_sendmsg]" and
# "requiredScopes: [Card.Instance.Write]".
# https://open.dingtalk.com/document/orgapp/error-code
PERMISSION_DENIED = "Forbidden.AccessDenied.AccessTokenPermissionDenied"
# The scopes Frontline's calls need (开发者后台 → 权限管理):
# 企业内机器人发送消息权限 — robot one-to-one and group messages, read status
# (permission-qyapi_robot_sendmsg: https://help.dingtalk.io/open/development/the-robot-sends-a-group-message)
# https://open.dingtalk.com/document/orgapp/chatbots-send-one-on-one-chat-messages-in-batches
SEND_SCOPE = "qyapi_robot_sendmsg"
# 互动卡片实例写权限 — create, deliver and update interactive cards. The two scope codes are
# confirmed only by the same developers' logs (a card send refused with requiredScopes
# [Card.Instance.Write]; a robot send with [qyapi_robot_sendmsg]), not by a stored page.
# https://open.dingtalk.com/document/orgapp/create-and-deliver-cards
CARD_SCOPE = "Card.Instance.Write"


def fits(text: str) -> bool:
    return len(text.encode()) <= MESSAGE_BYTES


def pieces(text: str, limit: int = MESSAGE_BYTES) -> list[str]:
    """`text` in messages DingTalk takes, in order: cut at line breaks where it can,
    inside a line only when one line alone is too long (never inside a character)."""
    return cut(text, lambda part: len(part.encode()) <= limit)
