"""The conversation references Teams gives (at install, and with every message),
kept in the database: a proactive post needs the conversation's service URL,
tenant and the bot's account, and any worker, after any restart, may be the one
that sends it."""

from datetime import UTC, datetime

from microsoft_agents.activity import Activity, ConversationReference
from sqlalchemy import Engine
from sqlmodel import select

from storage.engine import transaction
from storage.enums import Role
from storage.models import ChatIdentity, Employee, TeamsConversation


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


def keep_personal(engine: Engine, aad_object_id: str, reference: ConversationReference) -> None:
    """Store the personal chat the bot created with a person (createConversation)."""
    data = reference.model_dump(mode="json", by_alias=True, exclude_none=True)
    chat = reference.conversation.id
    with transaction(engine) as session:
        row = session.get(TeamsConversation, chat) or TeamsConversation(
            conversation_id=chat, kind="personal")
        row.kind, row.reference, row.aad_object_id = "personal", data, aad_object_id
        row.updated_at = datetime.now(UTC)
        session.add(row)


def forget(engine: Engine, conversation_id: str) -> None:
    """A conversation Teams no longer knows (the app removed): created again when needed."""
    with transaction(engine) as session:
        row = session.get(TeamsConversation, conversation_id)
        if row is not None:
            session.delete(row)


def _newest(engine: Engine, kind: str | None = None) -> ConversationReference | None:
    with transaction(engine) as session:
        query = select(TeamsConversation).order_by(TeamsConversation.updated_at.desc())
        if kind is not None:
            query = query.where(TeamsConversation.kind == kind)
        row = session.exec(query).first()
        return ConversationReference.model_validate(row.reference) if row else None


def of_channel(engine: Engine, channel_id: str) -> ConversationReference | None:
    """A channel's reference: its own, or one built from a team's stored reference (its
    service URL, tenant and the bot's account) with the channel's id. Adding the app to
    a team tells the bot of the General channel only; any other channel of that team is
    posted to this way.
    https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/send-proactive-messages#create-the-conversation"""
    own = of_conversation(engine, channel_id)
    if own is not None:
        return own
    team = _newest(engine, "channel")
    if team is None:
        return None
    conversation = team.conversation.model_copy(update={"id": channel_id})
    return team.model_copy(update={"conversation": conversation, "activity_id": None})


def service_url(engine: Engine) -> tuple[str, str] | None:
    """(service URL, tenant) of the newest conversation Teams told the bot of: where a
    personal conversation with someone new is created."""
    newest = _newest(engine)
    if newest is None or not newest.service_url:
        return None
    return newest.service_url, newest.conversation.tenant_id or ""


def hr_on_teams(engine: Engine, but: str | None = None) -> list[tuple[str, str, str]]:
    """(Entra object id, locale, name) of the active HR people linked on Teams."""
    with transaction(engine) as session:
        found = session.exec(select(ChatIdentity.platform_user_id, Employee.locale,
                                    Employee.name)
                             .join(Employee, Employee.id == ChatIdentity.employee_id)
                             .where(ChatIdentity.platform == "teams",
                                    Employee.role == Role.HR, Employee.active)).all()
        return [(aad, locale, name) for aad, locale, name in found if aad != but]
