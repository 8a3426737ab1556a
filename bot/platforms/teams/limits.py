"""What Teams allows a bot, declared once: read by the channels and the adapter, and
enforced by the local fake (tests/fake_teams.py), so a test cannot pass what Teams
would refuse."""

# One activity the bot sends (text, cards, mentions), measured as Teams measures it:
# encoded as UTF-16. "The bot message size limit is 100 KB ... it's recommended to ensure
# that the size of the message itself is within 80 KB to guarantee successful message
# delivery"; above the limit the bot gets 413 `MessageSizeTooBig`. Frontline keeps to the
# recommended 80 KB (was 28 KB, a size the page no longer states).
# https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/format-your-bot-messages
ACTIVITY_BYTES = 80 * 1024
# The text of one message: the activity less room for its envelope (ids, accounts,
# the conversation reference) that travels with it.
TEXT_BYTES = ACTIVITY_BYTES - 4 * 1024

# Per bot per thread (one personal chat, group chat or channel): at most this many
# operations in each window of this many seconds (Send to / Create conversation: 7 in 1 s,
# 8 in 2 s, 60 in 30 s, 1800 in 3600 s); over it, 429.
# https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/rate-limit#per-bot-per-thread-limit
SEND_PER_THREAD = ((1, 7), (2, 8), (30, 60), (3600, 1800))  # (seconds, operations)
CREATE_PER_THREAD = ((1, 7), (2, 8), (30, 60), (3600, 1800))
# Per app per tenant, all conversations together: "The global limit per app per tenant is
# 50 Requests Per Second (RPS)" (was 30, the page's older figure).
# https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/rate-limit#per-bot-per-thread-limit
APP_PER_TENANT_PER_SECOND = 50

# An invoke (card action, dialog, message extension) is answered in its HTTP response
# within five seconds: "Your app has five seconds to respond to the invoke ... If the app
# doesn't respond within five seconds, the Teams client retries the request twice" (the
# page states it for composeExtension/submitAction; Frontline holds every invoke to it).
# https://learn.microsoft.com/en-us/microsoftteams/platform/messaging-extensions/how-to/action-commands/respond-to-task-module-submit
INVOKE_RESPONSE_SECONDS = 5
