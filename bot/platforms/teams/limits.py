"""What Teams allows a bot, declared once: read by the channels and the adapter, and
enforced by the local fake (tests/fake_teams.py), so a test cannot pass what Teams
would refuse."""

# One activity the bot sends (text, cards, mentions), measured as Teams measures it:
# the whole payload encoded as UTF-16. Microsoft has documented ~28 KB, then 40 KB,
# now 100 KB with 80 KB recommended; the smallest documented size is kept, and above
# it the Bot Connector answers 413 `MessageSizeTooBig`.
# https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/format-your-bot-messages
# https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/conversation-messages#status-codes-from-bot-conversational-apis
ACTIVITY_BYTES = 28 * 1024
# The text of one message: the activity less room for its envelope (ids, accounts,
# the conversation reference) that travels with it.
TEXT_BYTES = ACTIVITY_BYTES - 4 * 1024

# Per bot per thread (one personal chat, group chat or channel): at most this many
# operations in each window of this many seconds; over it, 429 with Retry-After.
# https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/rate-limit#per-bot-per-thread-limit
SEND_PER_THREAD = ((1, 7), (2, 8), (30, 60), (3600, 1800))  # (seconds, operations)
CREATE_PER_THREAD = ((1, 7), (2, 8), (30, 60), (3600, 1800))
# Per app per tenant, all conversations together (requests per second).
# https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/rate-limit#per-bot-per-thread-limit
APP_PER_TENANT_PER_SECOND = 30

# An invoke (card action, dialog, message extension) is answered in its HTTP response
# within five seconds, or Teams shows an error and sends it again.
# https://learn.microsoft.com/en-us/microsoftteams/platform/messaging-extensions/how-to/action-commands/respond-to-task-module-submit
INVOKE_RESPONSE_SECONDS = 5
