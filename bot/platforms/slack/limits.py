"""Slack's limits that Frontline keeps, in one place, each with the page of Slack's
documentation that states it: read by the adapter and the channels, and by the local
fake (tests/fake_slack.py), which refuses what Slack refuses."""

# --- answering in time --------------------------------------------------------
# Every slash command, interaction and event must be acknowledged within 3 s.
# https://docs.slack.dev/interactivity/handling-user-interaction#acknowledgment_response
ACK_SECONDS = 3.0
# A trigger_id (what views.open exchanges for a modal) expires 3 s after Slack sent the
# request carrying it, and can be exchanged once: `expired_trigger_id`,
# `exchanged_trigger_id`. https://docs.slack.dev/reference/methods/views.open#errors
# https://docs.slack.dev/surfaces/modals#opening_modals
TRIGGER_SECONDS = 3.0

# --- answering at a response_url ------------------------------------------------
# A response_url takes up to 5 responses within 30 minutes of the request.
# https://docs.slack.dev/interactivity/handling-user-interaction#message_responses
RESPONSE_URL_USES = 5
RESPONSE_URL_SECONDS = 30 * 60

# --- message size -------------------------------------------------------------
# chat.postMessage: the `text` field is cut at 40,000 characters (`msg_too_long`).
# https://docs.slack.dev/reference/methods/chat.postMessage#truncating
MESSAGE_TEXT = 40_000
# A message holds at most 50 blocks.
# https://docs.slack.dev/reference/block-kit/blocks
BLOCKS_PER_MESSAGE = 50
# A section block's text is at most 3,000 characters (`invalid_blocks`).
# https://docs.slack.dev/reference/block-kit/blocks/section-block#fields
SECTION_TEXT = 3_000
# An actions block holds at most 25 elements.
# https://docs.slack.dev/reference/block-kit/blocks/actions-block#fields
BUTTONS_PER_BLOCK = 25

# --- rate limits ---------------------------------------------------------------
# chat.postMessage: about one message per second per channel, short bursts allowed;
# beyond it HTTP 429 with a Retry-After header (seconds).
# https://docs.slack.dev/reference/methods/chat.postMessage#rate_limiting
# https://docs.slack.dev/apis/web-api/rate-limits#rate-limits__responding
POSTS_PER_SECOND_PER_CHANNEL = 1
# Not published: Slack gives no burst size ("short bursts above the limit are
# tolerated"). 3 is an assumption, kept conservative: the fake takes this many posts to
# one channel within any one second, then answers 429.
POST_BURST = 3

# --- what the install must grant -------------------------------------------------
# The bot token scopes Frontline calls for (OAuth & Permissions -> Bot Token Scopes);
# auth.test answers with the granted ones in its `x-oauth-scopes` header.
# https://docs.slack.dev/reference/scopes  https://docs.slack.dev/reference/methods/auth.test
SCOPES = (
    "commands",        # /frontline, /fl and the message shortcut
    "chat:write",      # replies, approval cards, broadcasts
    "im:write",        # direct messages to staff who never wrote to the bot
    "im:history",      # message.im: commands typed in the bot's Messages tab
    "users:read",      # the name of a colleague picked from the @ list
    "reactions:read",  # a reaction on a praise post counts as "touching"
    "files:write",     # praise recordings uploaded with their post
)
