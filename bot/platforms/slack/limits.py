"""Slack's limits that Frontline keeps, in one place, each with the page of Slack's
documentation that states it: read by the adapter and the channels, and by the local
fake (tests/fake_slack.py), which refuses what Slack refuses."""

# --- answering in time --------------------------------------------------------
# Every slash command, interaction and event must be acknowledged within 3 s. Confirmed:
# "Handling user interaction in your Slack apps", Acknowledgment response: the HTTP 200
# "must be sent within 3 seconds of receiving the payload", else the user sees an error.
# https://docs.slack.dev/interactivity/handling-user-interaction#acknowledgment_response
ACK_SECONDS = 3.0
# A trigger_id (what views.open exchanges for a modal) expires 3 s after Slack sent the
# request carrying it, and can be exchanged once. Confirmed: same page, Modal responses:
# "Triggers expire in three seconds", "Triggers may only be used once"
# (https://docs.slack.dev/interactivity/handling-user-interaction#modal_responses). The
# error names `expired_trigger_id` / `exchanged_trigger_id` are views.open's own error
# table ("The trigger_id is expired." / "...was already exchanged in a previous call."):
# https://docs.slack.dev/reference/methods/views.open#errors (the guide calls them
# `trigger_expired` / `trigger_exchanged`; the method's names are what the API answers).
TRIGGER_SECONDS = 3.0

# --- answering at a response_url ------------------------------------------------
# A response_url takes up to 5 responses within 30 minutes of the request. Confirmed:
# "Handling user interaction", Message responses: "These responses can be sent up to 5
# times within 30 minutes of receiving the payload."
# https://docs.slack.dev/interactivity/handling-user-interaction#message_responses
RESPONSE_URL_USES = 5
RESPONSE_URL_SECONDS = 30 * 60

# --- message size -------------------------------------------------------------
# chat.postMessage `text`: 40,000 characters. Confirmed (chat.postMessage, "Truncating
# content"): "Slack will truncate messages containing more than 40,000 characters" (4,000
# is the advised size). Corrected: Slack *truncates* past it and answers ok with the
# warning `message_truncated` ("Truncating really long messages",
# https://api.slack.com/changelog/2018-04-truncating-really-long-messages; it applies to
# response URLs too); `msg_too_long` is not in the method's error table. The fake does
# the same and records the lost text.
# https://docs.slack.dev/reference/methods/chat.postMessage#truncating
MESSAGE_TEXT = 40_000
# A message holds at most 50 blocks. Confirmed: "Block Kit": "You can include up to 50
# blocks in each message, and 100 blocks in modals or Home tabs."
# https://docs.slack.dev/block-kit
BLOCKS_PER_MESSAGE = 50
# A section block's text is at most 3,000 characters. Confirmed: the section block's
# fields ("Maximum length for the text in this field is 3000 characters"), and the
# official SDK's SectionBlock.text_max_length = 3000 (slack_sdk/models/blocks/blocks.py).
# Over it chat.postMessage answers `invalid_blocks` ("must be less than 3001 characters
# [json-pointer:/blocks/0/text/text]" in its response_metadata, as bot developers quote it).
# https://docs.slack.dev/reference/block-kit/blocks/section-block#fields
SECTION_TEXT = 3_000
# An actions block holds at most 25 elements. Confirmed: "Actions block", elements:
# "There is a maximum of 25 elements in each action block"; slack_sdk's
# ActionsBlock.elements_max_length = 25.
# https://docs.slack.dev/reference/block-kit/blocks/actions-block#fields
BUTTONS_PER_BLOCK = 25

# --- modals ---------------------------------------------------------------------
# A modal's title, submit and close texts are at most 24 characters, its blocks at most
# 100, its private_metadata at most 3,000 characters, its callback_id at most 255, and
# a view with an input block must have `submit`. Confirmed: "Modal views", fields:
# https://docs.slack.dev/reference/views/modal-views . views.open answers
# `invalid_arguments` for a view breaking them, its response_metadata.messages naming
# the rule ("[ERROR] must define submit to use input block [json-pointer:/view/blocks/
# 0/input]", quoted in https://github.com/slackapi/node-slack-sdk/pull/875).
MODAL_TITLE = 24
MODAL_BLOCKS = 100
PRIVATE_METADATA = 3_000
# Every block_id and action_id is at most 255 characters, an input block's label at
# most 2,000. Confirmed: "Input block", fields ("Maximum length for this field is
# 255 characters"; label "Maximum length ... is 2000 characters"), and each element's
# action_id: https://docs.slack.dev/reference/block-kit/blocks/input-block#fields
ID_LENGTH = 255
LABEL = 2_000
# A plain_text_input's max_length is at most 3,000 ("Plain-text input element", fields:
# https://docs.slack.dev/reference/block-kit/block-elements/plain-text-input-element).
TEXT_INPUT = 3_000
# An option's text is at most 75 characters and its value 150; a checkboxes element
# has at most 10 options. Confirmed: "Option object" and "Checkboxes element":
# https://docs.slack.dev/reference/block-kit/composition-objects/option-object
# https://docs.slack.dev/reference/block-kit/block-elements/checkboxes-element
OPTION_TEXT, OPTION_VALUE, CHECKBOX_OPTIONS = 75, 150, 10
# multi_users_select: `max_selected_items` "Specifies the maximum number of items that
# can be selected in the menu. Minimum number is 1"; `initial_users` are user ids.
# https://docs.slack.dev/reference/block-kit/block-elements/multi-select-menu-element#users_multi_select
MIN_SELECTED = 1

# --- rate limits ---------------------------------------------------------------
# chat.postMessage: about one message per second per channel, short bursts allowed;
# beyond it HTTP 429 with a Retry-After header (seconds). Confirmed: chat.postMessage,
# Rate limiting: "It will generally allow an app to post 1 message per second to a
# specific channel ... Generous burst behavior is also granted"; "Rate limits": "Slack
# will return a HTTP 429 Too Many Requests error, and a Retry-After HTTP header"
# (seconds until you can retry).
# https://docs.slack.dev/reference/methods/chat.postMessage#rate_limiting
# https://docs.slack.dev/apis/web-api/rate-limits#rate-limits__responding
POSTS_PER_SECOND_PER_CHANNEL = 1
# Not confirmed in the documentation: Slack gives no burst size (chat.postMessage only
# says "Generous burst behavior is also granted"; searched the method page and "Rate
# limits"). 3 is an assumption, kept conservative: the fake takes this many posts to one
# channel within any one second, then answers 429.
POST_BURST = 3

# --- what the install must grant -------------------------------------------------
# The bot token scopes Frontline calls for (OAuth & Permissions -> Bot Token Scopes);
# auth.test answers with the granted ones in its `x-oauth-scopes` header. Confirmed per
# scope on its page of https://docs.slack.dev/reference/scopes (chat:write is
# chat.postMessage's "Bot token" scope; im:history "View messages ... in direct messages",
# which message.im needs). Not confirmed in the documentation: the `x-oauth-scopes` header
# of auth.test (searched the auth.test page; slack_sdk and Bolt read it, not a page).
# https://docs.slack.dev/reference/methods/auth.test
SCOPES = (
    "commands",        # /frontline, /fl and the message shortcuts
    "chat:write",      # replies, approval cards, broadcasts
    "im:write",        # direct messages to staff who never wrote to the bot
    "im:history",      # message.im: commands typed in the bot's Messages tab
    "users:read",      # the name of a colleague picked from the @ list
    "reactions:read",  # a reaction on a praise post counts as "touching"
    "files:write",     # praise recordings uploaded with their post
)
