"""Feishu's limits, in one place: the adapter, the channels, `frontline doctor` and the
local fake (tests/fake_feishu.py) all read them from here. Each cites the page that
declares it."""

# --- sending messages (im/v1/messages) -----------------------------------------------
# https://open.feishu.cn/document/server-docs/im-v1/message/create
# "uuid: 自定义设置的唯一字符串序列，用于在发送消息时请求去重。持有相同 uuid 的请求 1 小时内
# 至多成功发送一条消息"; "最大长度：50 字符".
UUID_MAX = 50
UUID_WINDOW_SECONDS = 3600
# Same page: "文本消息请求体最大不能超过 150 KB；卡片及富文本消息请求体最大不能超过 30 KB".
TEXT_BODY_MAX = 150 * 1024
CARD_BODY_MAX = 30 * 1024
# Same page, 接口频率限制 / 注意事项: "50 次/秒" for the app (tenant) and "向同一用户发送消息的
# 限频为 5 QPS、向同一群组发送消息的限频为群内机器人共享 5 QPS"; over it: HTTP 429, code
# 99991400 (https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control).
PER_CHAT_PER_SECOND = 5
PER_APP_PER_SECOND = 50
RATE_LIMITED_CODE = 99991400
# A group's own rate limit (230020: "发送消息频率超过限制"), same error-code table.
CHAT_RATE_LIMITED_CODE = 230020
SEND_INTERVAL = 1 / PER_CHAT_PER_SECOND  # seconds between messages to one user or chat
# seconds between the app's messages (one worker), 2% under the limit: a pace exactly at it
# meets the platform's window edge with every clock jitter
APP_SEND_INTERVAL = 1.02 / PER_APP_PER_SECOND

# --- card callbacks --------------------------------------------------------------------
# https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-callback-communication
# "需要在 3 秒内响应回调请求，否则会提示错误": answer at once (a toast), update the card
# later through the API (https://open.feishu.cn/document/server-docs/im-v1/message-card/patch).
CARD_CALLBACK_DEADLINE = 3.0
TOAST_MAX = 200  # characters of a toast Frontline shows (a toast is one short line)

# --- the scopes (权限) Frontline needs ----------------------------------------------------
# https://open.feishu.cn/document/server-docs/application-scope/scope-list
NEEDED_SCOPES = (
    # Read messages sent to the bot, and download their resources (a voice message):
    # https://open.feishu.cn/document/server-docs/im-v1/message/get-2 (获取消息中的资源文件
    # requires a message read scope, not only im:resource).
    "im:message",
    # Send messages as the app: https://open.feishu.cn/document/server-docs/im-v1/message/create
    "im:message:send_as_bot",
    # Read user ids (open_id, union_id) of the people who write:
    # https://open.feishu.cn/document/server-docs/contact-v3/user/field-overview
    "contact:user.id:readonly",
)
# https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/application-v6/scope/list:
# grant_status 1 = 已授权, 2 = 未授权.
SCOPE_GRANTED = 1
# bot/v3/info, https://open.feishu.cn/document/ukTMukTMukTM/uAjMxEjLwITMx4CMyETM:
# bot.activate_status 2 = 启用 (published and enabled in the tenant); others: not usable.
BOT_ACTIVE = 2

# --- the app's availability range (可用范围), for `frontline doctor` -----------------------
# https://open.feishu.cn/document/ukTMukTMukTM/uIjM3UjLyIzN14iMycTN (获取应用在企业内的可用范围):
# GET application/v2/app/visibility?app_id=…, for a custom app, with the scope
# admin:app.info:readonly (获取应用信息). data.is_visible_to_all 1 = 全员可见; otherwise
# the departments, user groups and people (only those chosen one by one, paged by
# user_page_size up to 1000: has_more_users) it is available to; invisible_* are those
# excluded (禁用), which win over the available ones
# (https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/application-v6/application-visibility/patch).
# A wrong or uninstalled app_id: code 50003 "invalid app_id".
RANGE_SCOPE = "admin:app.info:readonly"
VISIBLE_TO_ALL = 1
RANGE_PAGE_MAX = 1000
INVALID_APP_ID = 50003
