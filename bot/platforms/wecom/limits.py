"""What WeCom allows, declared once: read by the API client, the channels and the
adapter, and by the local fake (tests/fake_wecom.py), which holds Frontline to them.

Every number cites the page of WeCom's documentation (developer.work.weixin.qq.com)
that states it.
"""

# --- lengths (UTF-8 bytes) -------------------------------------------------------
# message/send, msgtype text: "content 消息内容，最长不超过2048个字节，超过将截断". Confirmed
# against the page (发送应用消息, 文本消息, updated 2025/09/24).
# https://developer.work.weixin.qq.com/document/path/90236 (文本消息)
TEXT_BYTES = 2048
# Group robot (webhook/send) text: "文本内容，最长不超过2048个字节，必须是utf8编码";
# markdown: "markdown内容，最长不超过4096个字节，必须是utf8编码". Confirmed through the SDKs
# that quote the page word for word (the page itself is not stored here).
# https://developer.work.weixin.qq.com/document/path/91770 (文本类型, markdown类型)
ROBOT_TEXT_BYTES = 2048
ROBOT_MARKDOWN_BYTES = 4096
# A template card's sub_title_text: "二级普通文本，建议不超过112个字" (advice, not a refusal).
# Confirmed through the WeCom SDKs and doc copies that quote the field table word for word.
# https://developer.work.weixin.qq.com/document/path/90236 (模板卡片消息, 按钮交互型)
CARD_TEXT_CHARS = 112
# The line that replaces a clicked card's buttons (update_template_card
# button.replace_name: "需要更新的按钮的文案",
# https://developer.work.weixin.qq.com/document/path/94888). No length is published for
# it (not confirmed in the documentation: searched the update_template_card page's
# button fields): 48 is an assumption, kept conservative.
CARD_REPLACE_CHARS = 48

# --- rates -----------------------------------------------------------------------
# "每个机器人发送的消息不能超过20条/分钟". Confirmed (群机器人配置说明, 消息发送频率限制, as
# quoted by the robot SDKs; the page now also lives at path/99110). Not confirmed in the
# documentation: the errcode beyond it, 45009 (searched the robot page and 全局错误码).
# https://developer.work.weixin.qq.com/document/path/91770 (消息发送频率限制)
ROBOT_PER_MINUTE, ROBOT_WINDOW_SECONDS = 20, 60.0
# message/send, 频率限制: "每应用对同一个成员不可超过30次/分钟，1000次/小时，
# 超过部分会被丢弃不下发". Confirmed against the page. Past it messages are dropped
# ("丢弃不下发"), not refused.
# https://developer.work.weixin.qq.com/document/path/90236 (发送应用消息, 频率限制)
MEMBER_PER_MINUTE, MEMBER_PER_HOUR = 30, 1000

# --- deadlines -------------------------------------------------------------------
# A callback not answered within 5 seconds is cut off and sent again (three tries in
# all): "企业微信服务器在五秒内收不到响应会断掉连接，并且重新发起请求，总共重试三次"
# https://developer.work.weixin.qq.com/document/path/90930 (接收消息与事件 > 概述, 支持Http
# Post请求接收业务数据; was cited as path/90238). Confirmed as the SDKs quote both pages;
# path/90930 adds "仅针对网络连接失败或者网络请求超时情况重试，建议开发者接受回调后立即应答".
CALLBACK_ACK_SECONDS = 5.0
# gettoken: "access_token的有效期通过返回的expires_in来传达，正常情况下为7200秒". Confirmed
# (the SDKs quote the page; it adds "企业微信可能会出于运营需要，提前使access_token失效").
# https://developer.work.weixin.qq.com/document/path/91039
TOKEN_SECONDS = 7200

# --- answers Frontline acts on (全局错误码) -----------------------------------------
# https://developer.work.weixin.qq.com/document/path/90313
# Not confirmed in the documentation: 45009, 60011 and 40056 and their texts (the global
# error-code page is not stored here; searched each code).
RATE_LIMITED = 45009  # "接口调用超过限制"
# Confirmed (path/90236, 返回示例): "如果部分接收人无权限或不存在，发送仍然执行，但会返回无效的
# 部分（即invaliduser…）…常见的原因是接收人不在应用的可见范围内"; "如果全部接收人无权限或不存在，
# 则本次调用返回失败，errcode为81013".
OUTSIDE_RANGE = 81013
NO_PRIVILEGE = 60011  # "指定的成员/部门/标签参数无权限": outside the app's visible range
INVALID_AGENT = 40056  # "不合法的agentid"
