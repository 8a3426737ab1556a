"""Telegram updates in, replies out, on python-telegram-bot's Application.

Text is parsed by the shared grammar (`/comp@frontline_bot …` and `补偿 …` alike);
`/comp` or `waiver report` alone starts a step-by-step form; inline buttons carry
their command; a voice note or audio file becomes a praise recording; a reaction
on a praise broadcast marks it touching. Every update's effect is keyed by its
update_id, so a repeated update changes nothing.

Every update is stored in the durable inbox (bot/kit/inbox.py), keyed by its update_id,
before it is worked on: a webhook call is answered once it is stored, and a polled
update is stored before the next poll confirms it to Telegram. A repeat (Telegram's
retry, or an update a new poller fetched again) is not stored again, so it is
dropped; a worker that dies leaves what it had stored to another. The pool runs
each update through the Application on its event loop.

Several workers can serve one bot: the forms in progress and the updates seen live
in the database, so any worker can take the next message; in polling mode only the
worker holding the poller lease polls (see bot/kit/receiver_role.py), and another takes
over when its lease runs out.
"""

import asyncio
import hmac
import logging
from contextvars import ContextVar
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    MessageReactionHandler,
    TypeHandler,
    filters,
)

from bot.kit import Config, Event, Inbound, ReceiverRole, inbox_for, shared_state
from bot.kit import pieces as cut
from bot.platforms.telegram import limits
from bot.platforms.telegram.settings import PLATFORM
from handlers.approvals import Decide
from handlers.base import Action, Reply
from handlers.base import Message as Text
from handlers.forms import FORMS, FieldError, Form
from handlers.grammar import parse, verb_of
from handlers.i18n import SOURCE_LOCALE, render_message, render_reply
from handlers.linking import LinkAccount
from handlers.policy import LOCALES
from handlers.praise import AttachRecording, PraiseLog
from handlers.profile import SetLanguage
from handlers.registry import Command, OpenForm, menu_verbs
from storage.models import FormState

log = logging.getLogger(__name__)
POLLER = "receiver:telegram"  # the role of the one worker that polls
# The errors of the update being run from the inbox (None: an update just polled).
_RUN: ContextVar[list[BaseException] | None] = ContextVar("telegram_run", default=None)


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
    """A button per action carrying its command; one whose command is longer than a
    button may carry (limits.CALLBACK_DATA_BYTES) is left out: typed, it works the same."""
    buttons = [InlineKeyboardButton(render_message(Text(a.label), locale),
                                    callback_data=a.command) for a in actions
               if 1 <= len(a.command.encode()) <= limits.CALLBACK_DATA_BYTES]
    if not buttons:
        return None
    # A row per request (approve, decline, ask), so a long `pending` stays readable.
    return InlineKeyboardMarkup([buttons[n:n + ROW] for n in range(0, len(buttons), ROW)])


def _menu(locale: str) -> list[BotCommand]:
    return [BotCommand(name, render_message(Text(f"menu.{name}"), locale))
            for name in menu_verbs()]


def menu_languages() -> list[tuple[str, str | None]]:
    """(locale, Telegram language code) for each command menu. The English menu is
    everyone's whose language has none. Telegram tells menus apart by a two-letter ISO
    639-1 code only (setMyCommands' language_code): zh-Hant cannot have a menu of its own
    for zh-hant, zh-tw or zh-hk, so `zh` keeps the Simplified one, the first locale of
    each language; its other locales' readers get their own chat's menu instead."""
    menus, taken = [(SOURCE_LOCALE, None)], {SOURCE_LOCALE}
    for locale in LOCALES:
        code = locale.split("-", 1)[0].lower()
        if code not in taken:
            taken.add(code)
            menus.append((locale, code))
    return menus


def sent_by(_kind: str, update: dict) -> str | None:
    """Who sent a stored update: one person's updates run in the order they came (a
    `/start` link before the command right after it)."""
    for field in ("message", "edited_message", "callback_query", "message_reaction"):
        person = (update.get(field) or {}).get("from") or (update.get(field) or {}).get("user")
        if person:
            return str(person["id"])
    return None


def chunks(text: str, size: int = limits.MESSAGE_TEXT) -> list[str]:
    """`text` in pieces Telegram takes (each at most `size` UTF-16 units, see
    limits.MESSAGE_TEXT), cut at line breaks where a line fits, so that read one after
    another they say it all in order; never an empty piece."""
    return [piece for piece in cut(text, lambda part: limits.length(part) <= size)
            if piece.strip()] or ["…"]


def mentioned(text: str, entities: tuple[MessageEntity, ...]) -> tuple[str, dict]:
    """A message's text with each colleague picked from Telegram's @ list as one word,
    and what each such word stands for (for Inbound.read): a `text_mention` entity
    carries the person's user id (https://core.telegram.org/bots/api#messageentity;
    Telegram makes one when the person picked has no username). A `mention` entity is
    an @username, which the Bot API cannot turn into a user id: it stays as typed and
    reads as the Frontline @handle it spells (see docs/platforms/telegram.md)."""
    picked = [e for e in entities or () if e.type == MessageEntity.TEXT_MENTION and e.user]
    if not picked:
        return text, {}
    units = text.encode("utf-16-le")  # entity offsets count UTF-16 code units
    words: dict[str, tuple[str, str]] = {}
    out, at = [], 0
    for entity in sorted(picked, key=lambda e: e.offset):
        start, end = entity.offset * 2, (entity.offset + entity.length) * 2
        if start < at:
            continue
        word = f"@tg:{entity.user.id}"
        shown = units[start:end].decode("utf-16-le").strip() or entity.user.full_name
        words[word] = (str(entity.user.id), shown)
        out += [units[at:start].decode("utf-16-le"), f" {word} "]
        at = end
    out.append(units[at:].decode("utf-16-le"))
    return "".join(out), words


class TelegramAdapter:
    def __init__(self, engine: Engine, config: Config, token: str,
                 webhook_secret: str | None = None) -> None:
        self.engine, self.config, self.token = engine, config, token
        self.settings = config.platforms.telegram
        self.inbound = Inbound(engine, config, PLATFORM)
        self.webhook_secret = webhook_secret
        self.application: Application = (
            ApplicationBuilder().token(token)
            .base_url(self.settings.api_base).base_file_url(self.settings.file_base)
            .rate_limiter(AIORateLimiter(max_retries=3))  # 30 msg/s, 20/min per group
            .build())
        self.loop: asyncio.AbstractEventLoop | None = None
        self.inbox = inbox_for(engine, self.settings, self._stored, order=sent_by)
        self.poller = ReceiverRole(engine, POLLER, self.settings.poller_lease_seconds,
                                   self._start_polling, self._stop_polling)
        self._tasks: list[asyncio.Task] = []
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
        await app.start()
        self.inbox.start()  # what a dead worker left runs here
        if self.settings.mode == "polling":
            self._tasks.append(asyncio.create_task(self.poller.run()))
        self._tasks.append(asyncio.create_task(self._end_timed_out_forms()))

    async def stop(self) -> None:
        for task in self._tasks:  # polling stops and the poller lease is released
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        # What was stored here is worked on, while the loop it runs on still runs.
        await asyncio.to_thread(self.inbox.stop)
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    def ready(self) -> bool:
        """Started and its background work alive. A worker waiting for the poller
        lease is ready: it serves the outbox and stands by to poll."""
        if not self._tasks or any(task.done() for task in self._tasks):
            return False
        return self.poller.lease is None or self.application.updater.running

    async def _start_polling(self) -> None:
        await self.application.bot.delete_webhook()
        await self.application.updater.start_polling(allowed_updates=Update.ALL_TYPES)

    async def _stop_polling(self) -> None:
        if self.application.updater.running:
            await self.application.updater.stop()

    async def _end_timed_out_forms(self) -> None:
        timeout = self.settings.form_timeout_minutes
        while True:
            await asyncio.sleep(min(timeout * 20, 5))  # a third of the timeout, at most 5 s
            try:
                await self.end_timed_out_forms()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not end the timed-out Telegram forms")

    async def end_timed_out_forms(self) -> None:
        """Tell people whose form timed out; whichever worker removes a form tells."""
        ended = await asyncio.to_thread(shared_state.timed_out_forms, self.engine, PLATFORM)
        for form in ended:
            chat_id = int(form.conversation.split(":", 1)[0])
            await self.application.bot.send_message(chat_id, render_message(
                Text("form.timed_out", {"minutes": self.settings.form_timeout_minutes}),
                form.locale))

    async def _register_commands(self) -> None:
        menus = menu_languages()
        for locale, language in menus:
            for scope in (BotCommandScopeAllPrivateChats(), BotCommandScopeAllGroupChats()):
                await self.application.bot.set_my_commands(_menu(locale), scope=scope,
                                                           language_code=language)
        # A language Telegram cannot tell apart (Traditional Chinese shares `zh`) gets its
        # readers' own private chats a menu of its own.
        by_code = {locale for locale, _language in menus}
        for user_id, locale in await asyncio.to_thread(
                self.inbound.readers, [code for code in LOCALES if code not in by_code]):
            await self._menu_in_chat(int(user_id), locale)

    async def _menu_in_chat(self, chat_id: int, locale: str) -> None:
        await self.application.bot.set_my_commands(_menu(locale),
                                                   scope=BotCommandScopeChat(chat_id))

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
            payload = await request.json()
            update = Update.de_json(payload, self.application.bot)
        except Exception:
            return Response(status_code=400)
        if not isinstance(payload, dict):
            return Response(status_code=400)
        if not await asyncio.to_thread(self.inbox.accept, Event("update", update.update_id),
                                       "update", payload):
            return self._busy(update)
        return Response(status_code=200)  # stored: worked on after

    def _busy(self, update: Update) -> Response:
        """The pool is full, nothing was stored: the answer to the webhook call itself asks the
        person to send it again (Telegram runs a method given as the answer). An
        update nobody can be told about is refused, so Telegram delivers it again."""
        text = render_message(Text("busy.retry"), self.config.organisation.default_locale)
        if update.callback_query is not None:
            return JSONResponse({"method": "answerCallbackQuery", "show_alert": True,
                                 "callback_query_id": update.callback_query.id, "text": text})
        if update.effective_chat is not None and update.effective_message is not None:
            return JSONResponse({"method": "sendMessage", "text": text,
                                 "chat_id": update.effective_chat.id})
        return Response(status_code=503)

    # --- handlers --------------------------------------------------------
    def _add_handlers(self) -> None:
        app = self.application
        app.add_handler(TypeHandler(Update, self._store_polled), group=-1)
        app.add_error_handler(self._failed)
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_handler(MessageReactionHandler(self.on_reaction))
        app.add_handler(MessageHandler(filters.VOICE | filters.AUDIO, self.on_recording))
        app.add_handler(MessageHandler(filters.TEXT, self.on_text))

    async def _store_polled(self, update: Update, context: ContextTypes.DEFAULT_TYPE,
                            ) -> None:
        """An update the poller fetched goes to the inbox before any work: the next
        poll confirms it, and Telegram never sends it again. A full pool leaves it
        stored for a sweep. (An update run from the inbox goes on to the handlers.)"""
        if _RUN.get() is not None:
            return
        await asyncio.to_thread(self.inbox.accept, Event("update", update.update_id),
                                "update", update.to_dict(), kept_if_full=True)
        raise ApplicationHandlerStop

    def _stored(self, kind: str, payload: dict) -> None:
        """Run an update from the inbox (in a pool thread) on the Application's loop;
        a handler's error is raised here, so that the inbox tries it again."""
        if self.loop is None:
            raise RuntimeError("the Telegram application is not started")
        update = Update.de_json(payload, self.application.bot)
        asyncio.run_coroutine_threadsafe(self._process(update), self.loop).result()

    async def _process(self, update: Update) -> None:
        errors: list[BaseException] = []
        _RUN.set(errors)  # this task's own: the handlers and the error handler see it
        await self.application.process_update(update)
        if errors:
            raise errors[0]

    async def _failed(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors = _RUN.get()
        if errors is not None and context.error is not None:
            errors.append(context.error)
        else:
            log.error("Telegram update could not be handled", exc_info=context.error)

    async def _execute(self, update: Update, user_id: int, command: Command,
                       ) -> tuple[Reply, str]:
        reply, locale = await asyncio.to_thread(self.inbound.run, str(user_id), command,
                                                Event("update", update.update_id))
        if reply.ok and isinstance(command, SetLanguage | LinkAccount):
            await self._menu_in_chat(user_id, locale)  # their menu in their language
        return reply, locale

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
        form = await asyncio.to_thread(shared_state.form_in, self.engine, PLATFORM,
                                       self._conversation(message))
        if form is not None:
            await (self.form_cancel(message) if CANCEL.filter(message)
                   else self.form_answer(update, form))
            return
        if not self._addressed(message, text):
            return
        if FORM_START.filter(message):
            await self.form_start(update)
            return
        words = text.split()
        if words and words[0].split("@", 1)[0] == "/start":  # deep link: t.me/bot?start=CODE
            text = f"link {words[1]}" if len(words) > 1 else "help"
        command = await self._read(text, message.entities)
        if message.reply_to_message is not None and verb_of(text) == "praise":
            command = await self._praise_from_reply(text, command, message.reply_to_message)
        reply, locale = await self._execute(update, message.from_user.id, command)
        if reply.ok and isinstance(command, LinkAccount) and message.chat.type != ChatType.PRIVATE:
            # linked from a group: the bot may not write to them until they press Start
            reply = Reply([*reply.messages, Text("telegram.press_start",
                                                  {"bot": self.application.bot.username})],
                          reply.actions, ok=reply.ok)
        await self._answer(message, reply, locale)

    async def _read(self, text: str, entities: tuple[MessageEntity, ...]) -> Command:
        """The command typed, each colleague picked from Telegram's @ list read as that
        person (a colleague not linked makes it a refusal naming them)."""
        text, words = mentioned(text, entities)
        if not words:
            return parse(text)
        return await asyncio.to_thread(self.inbound.read, text, words)

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
        command = await self._read(caption, message.caption_entities) if caption else None
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
        said = render_reply(reply, locale)
        try:
            await query.answer(said[:limits.CALLBACK_ANSWER_TEXT], show_alert=not reply.ok)
        except BadRequest as error:  # answered past the query's life (it waited its turn)
            if "query is too old" not in str(error).lower():
                raise
            await self.application.bot.send_message(query.from_user.id, chunks(said)[0])
        if reply.ok and isinstance(command, Decide) and isinstance(query.message, Message):
            note = await asyncio.to_thread(self.inbound.decided_by, str(query.from_user.id),
                                           locale)
            await query.edit_message_text(
                chunks(f"{query.message.text}\n\n{said}\n{note}")[0],
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

    # --- step-by-step forms (their state in the database: any worker answers) --
    @staticmethod
    def _conversation(message: Message) -> str:
        return f"{message.chat.id}:{message.from_user.id}"

    def _expiry(self) -> datetime:
        return datetime.now(UTC) + timedelta(minutes=self.settings.form_timeout_minutes)

    async def _locale(self, user_id: int) -> str:
        return await asyncio.to_thread(self.inbound.locale, str(user_id))

    async def _ask(self, message: Message, form: Form, step: int, locale: str,
                   problem: str = "") -> None:
        question = render_message(Text(form.fields[step].prompt), locale)
        if problem:
            question = render_message(Text(problem), locale) + "\n" + question
        await message.reply_text(question, reply_markup=ForceReply(selective=True))

    async def form_start(self, update: Update) -> None:
        message = update.effective_message
        form = FORMS["comp" if verb_of(message.text) == "comp" else "waiver"]
        locale = await self._locale(message.from_user.id)
        await asyncio.to_thread(shared_state.open_form, self.engine, PLATFORM,
                                self._conversation(message), form.name, locale, self._expiry(),
                                str(update.update_id))
        await self._ask(message, form, 0, locale)

    async def form_answer(self, update: Update, state: FormState) -> None:
        """One answer: kept as typed once it reads well; the last one runs the command.
        An update run again (the inbox retries one that failed after its answer was
        kept) keeps nothing more: it only asks the next question again."""
        message = update.effective_message
        form, locale, answers = FORMS[state.form], state.locale, dict(state.answers)
        if state.last_update == str(update.update_id):
            await self._ask(message, form, len(answers), locale)
            return
        field = form.fields[len(answers)]
        try:
            field.read(message.text or "")
        except FieldError as error:
            await self._ask(message, form, len(answers), locale, error.problem)
            return
        answers[field.name] = message.text or ""
        conversation = self._conversation(message)
        if len(answers) < len(form.fields):
            if not await asyncio.to_thread(
                    shared_state.save_answers, self.engine, PLATFORM, conversation, answers,
                    self._expiry(), str(update.update_id), state.last_update):
                # moved on since it was read: answer the form as it is now
                state = await asyncio.to_thread(shared_state.form_in, self.engine, PLATFORM,
                                                conversation)
                if state is not None:
                    await self.form_answer(update, state)
                return
            await self._ask(message, form, len(answers), locale)
            return
        if await asyncio.to_thread(shared_state.close_form, self.engine, PLATFORM,
                                   conversation) is None:
            return  # timed out or cancelled meanwhile
        command = form.build({f.name: f.read(answers[f.name]) for f in form.fields})
        await self._answer(message, *await self._execute(update, message.from_user.id, command))

    async def form_cancel(self, message: Message) -> None:
        state = await asyncio.to_thread(shared_state.close_form, self.engine, PLATFORM,
                                        self._conversation(message))
        locale = state.locale if state else self.config.organisation.default_locale
        await message.reply_text(render_message(Text("form.cancelled"), locale))
