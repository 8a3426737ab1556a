"""Telegram updates in, replies out, on python-telegram-bot's Application.

Text is parsed by the shared grammar (`/comp@frontline_bot …` and `补偿 …` alike);
`/comp` or `waiver report` alone starts a step-by-step form; inline buttons carry
their command; a voice note or audio file becomes a praise recording; a reaction
on a praise broadcast marks it touching. Every update's effect is keyed by its
update_id, so a repeated update changes nothing.
"""

import asyncio
import hmac
import logging
from collections import deque
from dataclasses import replace

from fastapi import APIRouter, Request, Response
from sqlalchemy import Engine
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatType, MessageLimit
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    MessageReactionHandler,
    TypeHandler,
    filters,
)

from bot.config import Config
from bot.grammar import parse, verb_of
from bot.inbound import Event, Inbound
from bot.telegram.settings import PLATFORM
from handlers.approvals import Decide
from handlers.base import Action, Reply
from handlers.base import Message as Text
from handlers.forms import FORMS, FieldError, Form
from handlers.i18n import SOURCE_LOCALE, render_message, render_reply
from handlers.policy import LOCALES
from handlers.praise import AttachRecording, PraiseLog
from handlers.registry import Command, OpenForm, menu_verbs

log = logging.getLogger(__name__)
ASKING = 0
SEEN_UPDATES = 2048  # recent update ids remembered to drop repeats before they reach a form


class _OpensForm(filters.MessageFilter):
    """`comp` or `waiver report` with nothing else: the step-by-step form."""

    def filter(self, message: Message) -> bool:
        command = parse(message.text or "")
        return isinstance(command, OpenForm) and not command.waiver


class _Cancel(filters.MessageFilter):
    """`cancel` alone, in any language: leaves a form."""

    def filter(self, message: Message) -> bool:
        text = message.text or ""
        return len(text.split()) == 1 and verb_of(text) == "cancel"


FORM_START, CANCEL = _OpensForm(), _Cancel()


ROW = 3  # buttons in a keyboard row


def keyboard(actions: list[Action], locale: str) -> InlineKeyboardMarkup | None:
    if not actions:
        return None
    buttons = [InlineKeyboardButton(render_message(Text(a.label), locale),
                                    callback_data=a.command) for a in actions]
    # A row per request (approve, decline, ask), so a long `pending` stays readable.
    return InlineKeyboardMarkup([buttons[n:n + ROW] for n in range(0, len(buttons), ROW)])


def menu_languages() -> list[tuple[str, str | None]]:
    """(locale, Telegram language code) for each command menu. The English menu is
    everyone's whose language has none. Telegram tells menus apart by a two-letter ISO
    639-1 code only (setMyCommands' language_code): zh-Hant cannot have a menu of its own
    for zh-hant, zh-tw or zh-hk, so `zh` keeps the Simplified one, the first locale of
    each language."""
    menus, taken = [(SOURCE_LOCALE, None)], {SOURCE_LOCALE}
    for locale in LOCALES:
        code = locale.split("-", 1)[0].lower()
        if code not in taken:
            taken.add(code)
            menus.append((locale, code))
    return menus


def chunks(text: str, size: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


class TelegramAdapter:
    def __init__(self, engine: Engine, config: Config, token: str,
                 webhook_secret: str | None = None) -> None:
        self.engine, self.config = engine, config
        self.settings = config.platforms.telegram
        self.inbound = Inbound(engine, config, PLATFORM)
        self.webhook_secret = webhook_secret
        self.application: Application = (
            ApplicationBuilder().token(token)
            .base_url(self.settings.api_base).base_file_url(self.settings.file_base)
            .rate_limiter(AIORateLimiter(max_retries=3))  # 30 msg/s, 20/min per group
            .build())
        self.loop: asyncio.AbstractEventLoop | None = None
        self._seen: deque[int] = deque(maxlen=SEEN_UPDATES)
        self._add_handlers()

    # --- lifecycle: run inside the web app's event loop ------------------
    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        app = self.application
        await app.initialize()
        await self._register_commands()
        if self.settings.mode == "webhook":
            await app.bot.set_webhook(self.settings.webhook_url, secret_token=self.webhook_secret,
                                      allowed_updates=Update.ALL_TYPES)
        else:
            await app.bot.delete_webhook()
            await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        await app.start()

    async def stop(self) -> None:
        if self.application.updater and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def _register_commands(self) -> None:
        for locale, language in menu_languages():
            menu = [BotCommand(name, render_message(Text(f"menu.{name}"), locale))
                    for name in menu_verbs()]
            for scope in (BotCommandScopeAllPrivateChats(), BotCommandScopeAllGroupChats()):
                await self.application.bot.set_my_commands(menu, scope=scope,
                                                           language_code=language)

    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/telegram/webhook", self.webhook, methods=["POST"])
        return router

    async def webhook(self, request: Request) -> Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not self.webhook_secret or not hmac.compare_digest(given.encode(),
                                                              self.webhook_secret.encode()):
            log.warning("Telegram webhook call without the right secret token refused")
            return Response(status_code=403)
        try:
            update = Update.de_json(await request.json(), self.application.bot)
        except Exception:
            return Response(status_code=400)
        await self.application.update_queue.put(update)
        return Response(status_code=200)

    # --- handlers --------------------------------------------------------
    def _add_handlers(self) -> None:
        app = self.application
        app.add_handler(TypeHandler(Update, self._drop_repeats), group=-1)
        timeout = self.settings.form_timeout_minutes * 60
        app.add_handler(ConversationHandler(
            entry_points=[MessageHandler(filters.TEXT & FORM_START, self.form_start)],
            states={
                ASKING: [MessageHandler(filters.TEXT & ~CANCEL, self.form_answer)],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, self.form_timed_out)],
            },
            fallbacks=[MessageHandler(filters.TEXT & CANCEL, self.form_cancel)],
            conversation_timeout=timeout))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_handler(MessageReactionHandler(self.on_reaction))
        app.add_handler(MessageHandler(filters.VOICE | filters.AUDIO, self.on_recording))
        app.add_handler(MessageHandler(filters.TEXT, self.on_text))

    async def _drop_repeats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Telegram resends an update it thinks was lost; the receipts would keep a
        # repeated command harmless, this also keeps a repeat out of an open form.
        if update.update_id in self._seen:
            raise ApplicationHandlerStop
        self._seen.append(update.update_id)

    async def _execute(self, update: Update, user_id: int, command: Command,
                       ) -> tuple[Reply, str]:
        return await asyncio.to_thread(self.inbound.run, str(user_id), command,
                                       Event("update", update.update_id))

    async def _answer(self, message: Message, reply: Reply, locale: str) -> None:
        parts = chunks(render_reply(Reply(reply.messages, ok=reply.ok), locale))
        for n, part in enumerate(parts):
            last = n == len(parts) - 1
            await message.reply_text(part, reply_markup=keyboard(reply.actions, locale)
                                     if last else None)

    def _addressed(self, message: Message, text: str) -> bool:
        """In groups only commands count, and `/cmd@other_bot` is for someone else."""
        first = text.split(maxsplit=1)[0] if text.split() else ""
        if "@" in first and first.startswith("/"):
            return first.split("@", 1)[1].lower() == (self.application.bot.username or "").lower()
        if message.chat.type == ChatType.PRIVATE:
            return True
        return first.startswith("/") or verb_of(first) is not None

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        text = message.text or ""
        if not self._addressed(message, text):
            return
        words = text.split()
        if words and words[0].split("@", 1)[0] == "/start":  # deep link: t.me/bot?start=CODE
            text = f"link {words[1]}" if len(words) > 1 else "help"
        command = parse(text)
        if message.reply_to_message is not None and verb_of(text) == "praise":
            command = await self._praise_from_reply(text, command, message.reply_to_message)
        await self._answer(message, *await self._execute(update, message.from_user.id, command))

    async def _praise_from_reply(self, text: str, command: Command,
                                 quoted: Message) -> Command:
        """`/praise @alice` in reply to a forwarded customer message or a voice note."""
        if not isinstance(command, PraiseLog):
            command = parse(f"{text} {quoted.text or quoted.caption or '🎧'}")
        if isinstance(command, PraiseLog) and (quoted.voice or quoted.audio):
            command = replace(command, recording=await self._download(quoted))
        return command

    async def _download(self, message: Message) -> AttachRecording:
        media = message.voice or message.audio
        file = await media.get_file()
        data = bytes(await file.download_as_bytearray())
        return AttachRecording(data, media.mime_type or "audio/ogg",
                                 f"telegram:file:{media.file_unique_id}")

    async def on_recording(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A voice note captioned `/praise @alice …` logs it with its recording; one
        sent alone in a private chat is the recording of the praise just logged."""
        message = update.effective_message
        caption = message.caption or ""
        command = parse(caption) if caption else None
        if isinstance(command, PraiseLog):
            command = replace(command, recording=await self._download(message))
        elif message.chat.type == ChatType.PRIVATE and not caption:
            command = await self._download(message)
        else:
            return
        await self._answer(message, *await self._execute(update, message.from_user.id, command))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        command = parse(query.data or "")
        reply, locale = await self._execute(update, query.from_user.id, command)
        await query.answer(render_reply(reply, locale)[:200], show_alert=not reply.ok)
        if reply.ok and isinstance(command, Decide) and isinstance(query.message, Message):
            note = await asyncio.to_thread(self.inbound.decided_by, str(query.from_user.id),
                                           locale)
            await query.edit_message_text(
                f"{query.message.text}\n\n{render_reply(reply, locale)}\n{note}"[:4096],
                reply_markup=None)

    async def on_reaction(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        reaction = update.message_reaction
        emoji = self.settings.touching_reaction
        added = {getattr(r, "emoji", None) for r in reaction.new_reaction} - {
            getattr(r, "emoji", None) for r in reaction.old_reaction}
        if reaction.user is None or emoji not in added:
            return
        reply = await asyncio.to_thread(
            self.inbound.touching, str(reaction.user.id), str(reaction.chat.id),
            str(reaction.message_id), Event("update", update.update_id))
        if reply is not None:
            log.info("reaction %s on %s: %s", emoji, reaction.message_id, reply.messages[0].key)

    # --- step-by-step forms ----------------------------------------------
    async def _locale(self, user_id: int) -> str:
        return await asyncio.to_thread(self.inbound.locale, str(user_id))

    async def _ask(self, message: Message, form: Form, step: int, locale: str,
                   problem: str = "") -> None:
        question = render_message(Text(form.fields[step].prompt), locale)
        if problem:
            question = render_message(Text(problem), locale) + "\n" + question
        await message.reply_text(question, reply_markup=ForceReply(selective=True))

    async def form_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        message = update.effective_message
        if not self._addressed(message, message.text or ""):
            return ConversationHandler.END
        form = FORMS["comp" if verb_of(message.text) == "comp" else "waiver"]
        locale = await self._locale(message.from_user.id)
        context.user_data["form"] = {"name": form.name, "values": {}, "locale": locale}
        await self._ask(message, form, 0, locale)
        return ASKING

    async def form_answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        message = update.effective_message
        state = context.user_data["form"]
        form, locale, values = FORMS[state["name"]], state["locale"], state["values"]
        step = len(values)
        try:
            values[form.fields[step].name] = form.fields[step].read(message.text or "")
        except FieldError as error:
            await self._ask(message, form, step, locale, error.problem)
            return ASKING
        if len(values) < len(form.fields):
            await self._ask(message, form, len(values), locale)
            return ASKING
        context.user_data.pop("form")
        command = form.build(values)
        await self._answer(message, *await self._execute(update, message.from_user.id, command))
        return ConversationHandler.END

    async def form_cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        state = context.user_data.pop("form", None) or {}
        locale = state.get("locale", self.config.organisation.default_locale)
        await update.effective_message.reply_text(render_message(Text("form.cancelled"), locale))
        return ConversationHandler.END

    async def form_timed_out(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        state = context.user_data.pop("form", None) or {}
        locale = state.get("locale", self.config.organisation.default_locale)
        await context.bot.send_message(update.effective_chat.id, render_message(
            Text("form.timed_out", {"minutes": self.settings.form_timeout_minutes}), locale))

