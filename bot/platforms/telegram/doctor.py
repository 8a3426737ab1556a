"""What `frontline doctor` asks Telegram about this bot, each finding with the step in
@BotFather (or the config) that fixes it."""

from telegram import Bot
from telegram.constants import ChatMemberStatus
from telegram.error import InvalidToken, TelegramError

from bot.kit import Finding, fails, holds
from bot.platforms.telegram.settings import Settings

ADMIN = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
IN_CHAT = (*ADMIN, ChatMemberStatus.MEMBER, ChatMemberStatus.RESTRICTED)


async def findings(settings: Settings, token: str) -> list[Finding]:
    """Asked through the Bot API with its own client (doctor runs outside the bot's
    event loop)."""
    bot = Bot(token, base_url=settings.api_base, base_file_url=settings.file_base)
    try:
        await bot.initialize()  # getMe: https://core.telegram.org/bots/api#getme
    except (InvalidToken, TelegramError) as error:
        return [fails("doctor.telegram.token.failed", "doctor.telegram.fix.token",
                      error=str(error), env=settings.token_env)]
    try:
        return await _asked(bot, settings)
    finally:
        await bot.shutdown()


async def _asked(bot: Bot, settings: Settings) -> list[Finding]:
    me = await bot.get_me()
    found = [holds("doctor.telegram.token", bot=me.username)]
    chats = [*settings.all_staff_chats,
             *(chat for ids in settings.team_chats.values() for chat in ids)]
    if chats:
        found += _groups(me.username, bool(me.can_join_groups),
                         bool(me.can_read_all_group_messages))
        for chat in chats:
            found.append(await _in_chat(bot, me.id, me.username, chat))
    found.append(await _receiving(bot, settings, me.username))
    return found


def _groups(bot: str, can_join: bool, reads_all: bool) -> list[Finding]:
    """The bot in group chats. can_join_groups, can_read_all_group_messages: "Returned
    only in getMe" (https://core.telegram.org/bots/api#user). Frontline reads plain
    verbs typed in a group (`praise @alice …`, `表扬 …`), which a bot in privacy mode
    never receives: only /commands and replies to it
    (https://core.telegram.org/bots/features#privacy-mode)."""
    return [
        holds("doctor.telegram.join_groups", bot=bot) if can_join else
        fails("doctor.telegram.join_groups.failed", "doctor.telegram.fix.join_groups",
              bot=bot),
        holds("doctor.telegram.privacy", bot=bot) if reads_all else
        fails("doctor.telegram.privacy.failed", "doctor.telegram.fix.privacy", bot=bot)]


async def _in_chat(bot: Bot, bot_id: int, username: str, chat: int) -> Finding:
    """A shared chat: the bot must be in it to post, and an administrator to receive
    reactions ("The bot must be an administrator in the chat" for message_reaction,
    https://core.telegram.org/bots/api#update; getChatMember,
    https://core.telegram.org/bots/api#getchatmember)."""
    try:
        status = (await bot.get_chat_member(chat, bot_id)).status
    except TelegramError:
        status = ChatMemberStatus.LEFT
    if status in ADMIN:
        return holds("doctor.telegram.chat", chat=chat, bot=username)
    if status in IN_CHAT:
        return fails("doctor.telegram.chat.not_admin", "doctor.telegram.fix.chat.not_admin",
                     chat=chat, bot=username)
    return fails("doctor.telegram.chat.missing", "doctor.telegram.fix.chat.missing",
                 chat=chat, bot=username)


async def _receiving(bot: Bot, settings: Settings, username: str) -> Finding:
    """How updates arrive. getWebhookInfo (https://core.telegram.org/bots/api#getwebhookinfo):
    in webhook mode its url must be the configured one, and its last_error_message says
    why Telegram could not deliver; in polling mode no webhook may be set, since
    getUpdates "will not work if an outgoing webhook is set up"
    (https://core.telegram.org/bots/api#getupdates)."""
    info = await bot.get_webhook_info()
    if settings.mode == "polling":
        if info.url:
            return fails("doctor.telegram.polling.webhook_set",
                         "doctor.telegram.fix.polling.webhook_set", url=info.url, bot=username)
        return holds("doctor.telegram.polling", bot=username)
    if info.url != settings.webhook_url:
        return fails("doctor.telegram.webhook.elsewhere", "doctor.telegram.fix.webhook.elsewhere",
                     url=info.url or "-", expected=settings.webhook_url)
    if info.last_error_message:
        return fails("doctor.telegram.webhook.error", "doctor.telegram.fix.webhook.error",
                     url=info.url, error=info.last_error_message)
    return holds("doctor.telegram.webhook", url=info.url)
