"""What Telegram allows a bot, declared once: the adapter and channels keep to it, and
the local fake (tests/fake_telegram.py) enforces the same numbers."""

# sendMessage / editMessageText: "Text of the message to be sent, 1-4096 characters
# after entities parsing" (https://core.telegram.org/bots/api#sendmessage). Frontline
# sends plain text (no parse_mode), so what it gives is what is counted; counted here in
# UTF-16 code units, the unit Telegram's entities use
# (https://core.telegram.org/bots/api#messageentity), never fewer than the characters.
# Confirmed in the official SDK python-telegram-bot 22.8: constants.MessageLimit
# .MAX_TEXT_LENGTH = 4096 (the Bot API page itself is not stored here).
MESSAGE_TEXT = 4096

# InlineKeyboardButton.callback_data: "Data to be sent in a callback query to the bot
# when the button is pressed, 1-64 bytes"
# (https://core.telegram.org/bots/api#inlinekeyboardbutton); more is refused with
# "Bad Request: BUTTON_DATA_INVALID". Confirmed: python-telegram-bot 22.8,
# InlineKeyboardButtonLimit.MAX_CALLBACK_DATA = 64 (MIN_CALLBACK_DATA = 1). Not confirmed
# in the documentation: the error text (searched the Bot API and the SDK).
CALLBACK_DATA_BYTES = 64

# answerCallbackQuery: its notification text is 0-200 characters
# (https://core.telegram.org/bots/api#answercallbackquery). Confirmed: python-telegram-bot
# 22.8, CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH = 200.
CALLBACK_ANSWER_TEXT = 200
# A callback query must be answered while it lives: clients show a progress bar until
# it is (same page); a late answer is refused with "Bad Request: query is too old and
# response timeout expired or query ID is invalid". Not published: the Bot API gives no
# lifetime; bot developers observe one of seconds (an answer 20 s late was refused,
# https://github.com/eternnoir/pyTelegramBotAPI/issues/1615). 15 s is that observation,
# kept as the fake's deadline; Frontline answers at once and, past it, says the same
# thing as a message.
CALLBACK_ANSWER_SECONDS = 15.0

# Flood limits, from the Bot FAQ ("My bot is hitting limits, how do I avoid this?",
# https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
# "avoid sending more than one message per second" in one chat ("We may allow short
# bursts that go over this limit"), "not more than 30 messages per second or so" in
# bulk, and "not able to send more than 20 messages per minute to the same group".
# Beyond them: 429 with parameters.retry_after
# (https://core.telegram.org/bots/api#responseparameters). Confirmed: the FAQ's text as
# Telegram Bot Support publishes it ("My bot is hitting limits, how do I avoid this?",
# https://telegra.ph/Hitting-limits-bot-FAQ: "eventually you'll begin receiving 429
# errors"), and python-telegram-bot 22.8's FloodLimit: MESSAGES_PER_SECOND_PER_CHAT = 1,
# MESSAGES_PER_SECOND = 30, MESSAGES_PER_MINUTE_PER_GROUP = 20.
OVERALL_PER_SECOND = 30
CHAT_PER_SECOND = 1
# The short burst one chat may take before the one-a-second pace. Not published (the
# FAQ only says "We may allow short bursts"): an assumption, kept conservative. A long
# answer goes out in pieces, so it must fit one burst: see adapter.chunks.
CHAT_BURST = 4
GROUP_PER_MINUTE, GROUP_WINDOW = 20, 60.0

# A bot cannot write first: "Bots can't initiate conversations with users. A user must
# either add them to a group or send them a message first"
# (https://core.telegram.org/bots/features#what-features-do-bots-have, and the Bot
# FAQ); sendMessage answers 403 "Forbidden: bot can't initiate conversation with a
# user". The person opens t.me/<bot> and presses Start
# (https://core.telegram.org/bots/features#deep-linking).
CANNOT_INITIATE = "bot can't initiate conversation with a user"


def length(text: str) -> int:
    """The length Telegram counts: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2
