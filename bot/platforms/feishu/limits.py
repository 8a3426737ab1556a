"""Feishu's limits, in one place: the adapter, the channels, `frontline doctor` and the
local fake (tests/fake_feishu.py) all read them from here. Each cites the page that
declares it."""

# --- sending messages (im/v1/messages) -----------------------------------------------
# 发送消息 (https://open.feishu.cn/document/server-docs/im-v1/message/create), checked
# against the page's own text. Confirmed: uuid "自定义设置的唯一字符串序列，用于在发送消息时
# 请求去重。持有相同 uuid 的请求，在 1 小时内至多成功发送一条消息", 数据校验规则 "最大长度：
# `50` 字符".
UUID_MAX = 50
UUID_WINDOW_SECONDS = 3600
# Confirmed, same page (content): "文本消息请求体最大不能超过 150 KB", "卡片消息、富文本消息
# 请求体最大不能超过 30 KB"; over it error 230025 "消息体长度超出限制".
TEXT_BODY_MAX = 150 * 1024
CARD_BODY_MAX = 30 * 1024
# Confirmed, same page: 使用限制 "向同一用户发送消息的限频为 5 QPS、向同一群组发送消息的限频
# 为群内机器人共享 5 QPS"; 接口频率限制 "1000 次/分钟、50 次/秒" (per app and tenant).
# Corrected: the 1,000 a minute was missing (50 a second, kept up, is 3,000 a minute).
# Over the API's limit: code 99991400 with HTTP 429 and the header x-ogw-ratelimit-reset
# (频控策略, https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control;
# the page itself is not stored here: confirmed through the API guides that quote it).
PER_CHAT_PER_SECOND = 5
PER_APP_PER_SECOND = 50
PER_APP_PER_MINUTE = 1000
RATE_LIMITED_CODE = 99991400
# Confirmed, same page's 错误码 table: 230020 "This operation triggers the frequency
# limit" (当前操作触发频率限制), HTTP 400. Not confirmed in the documentation: which of the
# two codes the 5 QPS per user or chat answers (searched the page and the frequency-control
# guides); the fake answers 99991400 for both, Frontline backs off on either.
CHAT_RATE_LIMITED_CODE = 230020
SEND_INTERVAL = 1 / PER_CHAT_PER_SECOND  # seconds between messages to one user or chat
# seconds between the app's messages (one worker), 2% under the limits: a pace exactly at
# one meets the platform's window edge with every clock jitter. The minute's limit is the
# tighter one when kept up: 60/1000 s, not 1/50 s (was 1.02/50).
APP_SEND_INTERVAL = max(1.02 / PER_APP_PER_SECOND, 1.02 * 60 / PER_APP_PER_MINUTE)

# --- card callbacks --------------------------------------------------------------------
# Confirmed: 卡片回传交互回调
# (https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-callback-communication):
# "你的业务服务器接收到回调请求后，需要在 3 秒内响应回调请求，声明通过弹出 Toast 提示、更新
# 卡片、保持原内容不变等方式响应用户交互" (the IM FAQ: "卡片回调超时时间为 3s，不支持自定义";
# answer {} or a toast, then update the card through the API,
# https://open.feishu.cn/document/server-docs/im-v1/message-card/patch).
CARD_CALLBACK_DEADLINE = 3.0
# Frontline's own bound, not Feishu's: no toast length is published (searched the card
# callback page); a toast is one short line.
TOAST_MAX = 200

# --- the scopes (权限) Frontline needs ----------------------------------------------------
# https://open.feishu.cn/document/server-docs/application-scope/scope-list
NEEDED_SCOPES = (
    # Read messages sent to the bot, and download their resources (a voice message):
    # 获取消息中的资源文件 (https://open.feishu.cn/document/server-docs/im-v1/message/get-2).
    # im:message is confirmed as one of 发送消息's 权限要求 ("获取与发送单聊、群组消息").
    # Not confirmed in the documentation: that the resource download needs a message read
    # scope and not only im:resource (searched the message-resource page and its FAQ; the
    # page's 权限要求 is not stored here); kept from the team's platform notes.
    "im:message",
    # Confirmed: 发送消息's 权限要求 lists im:message:send_as_bot "以应用的身份发消息"
    # ("开启任一权限即可"): https://open.feishu.cn/document/server-docs/im-v1/message/create
    "im:message:send_as_bot",
    # Read user ids (open_id, union_id) of the people who write. Not confirmed in the
    # documentation: the scope's name (searched the user field overview and the scope
    # list); https://open.feishu.cn/document/server-docs/contact-v3/user/field-overview
    "contact:user.id:readonly",
)
# https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/application-v6/scope/list:
# grant_status 1 = 已授权, 2 = 未授权. Not confirmed in the documentation (the page is not
# stored here; searched "grant_status").
SCOPE_GRANTED = 1
# bot/v3/info, https://open.feishu.cn/document/ukTMukTMukTM/uAjMxEjLwITMx4CMyETM:
# bot.activate_status 2 = 启用 (published and enabled in the tenant); others: not usable.
# Not confirmed in the documentation (the page is not stored here; searched
# "activate_status"): installers' scripts read 2 as 已激活, and one reports a working bot
# with another value, so `frontline doctor` should treat it as a hint.
BOT_ACTIVE = 2

# --- the app's availability range (可用范围), for `frontline doctor` -----------------------
# https://open.feishu.cn/document/ukTMukTMukTM/uIjM3UjLyIzN14iMycTN (获取应用在企业内的可用范围):
# GET application/v2/app/visibility?app_id=…, for a custom app, with the scope
# admin:app.info:readonly (获取应用信息). data.is_visible_to_all 1 = 全员可见; otherwise
# the departments, user groups and people (only those chosen one by one, paged by
# user_page_size up to 1000: has_more_users) it is available to; invisible_* are those
# excluded (禁用), which win over the available ones
# (https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/application-v6/application-visibility/patch).
# A wrong or uninstalled app_id: code 50003 "invalid app_id". Not confirmed in the
# documentation: the availability-range page is not stored here (searched its path, the
# scope admin:app.info:readonly and code 50003); the fields and codes above are as
# written from that page earlier.
RANGE_SCOPE = "admin:app.info:readonly"
VISIBLE_TO_ALL = 1
RANGE_PAGE_MAX = 1000
INVALID_APP_ID = 50003
