"""The conversation references Teams gives (at install, and with every message),
kept in the database: a proactive post needs the conversation's service URL,
tenant and the bot's account, and any worker, after any restart, may be the one
that sends it."""

from datetime import UTC, datetime

from microsoft_agents.activity import Activity, ConversationReference
from sqlalchemy import Engine
from sqlmodel import select

from storage.engine import transaction
from storage.models import TeamsConversation


def remember(engine: Engine, activity: Activity) -> None:
    """Store (or refresh) the reference of the conversation `activity` came from."""
    conversation = activity.conversation
    if conversation is None or not conversation.id or not activity.service_url:
        return
    kind = conversation.conversation_type or "personal"
    sender = activity.from_property
    person = sender.aad_object_id if kind == "personal" and sender else None
    reference = activity.get_conversation_reference()
    reference.activity_id = None  # a post starts a new thread, it answers nothing
    # A reply in a channel's thread names the thread (`19:…;messageid=…`): keep the channel.
    chat = conversation.id.split(";", 1)[0]
    reference.conversation = conversation.model_copy(update={"id": chat})
    data = reference.model_dump(mode="json", by_alias=True, exclude_none=True)
    with transaction(engine) as session:
        row = session.get(TeamsConversation, chat)
        if row is None:
            row = TeamsConversation(conversation_id=chat, kind=kind)
        if row.reference == data and (person is None or row.aad_object_id == person):
            return  # unchanged: no write on every message
        row.kind, row.reference, row.updated_at = kind, data, datetime.now(UTC)
        if person:
            row.aad_object_id = person
        session.add(row)


def of_conversation(engine: Engine, conversation_id: str) -> ConversationReference | None:
    with transaction(engine) as session:
        row = session.get(TeamsConversation, conversation_id)
        return ConversationReference.model_validate(row.reference) if row else None


def of_person(engine: Engine, aad_object_id: str) -> ConversationReference | None:
    """The person's personal chat with the bot, if they have one."""
    with transaction(engine) as session:
        row = session.exec(select(TeamsConversation).where(
            TeamsConversation.aad_object_id == aad_object_id,
            TeamsConversation.kind == "personal")
            .order_by(TeamsConversation.updated_at.desc())).first()
        return ConversationReference.model_validate(row.reference) if row else None
