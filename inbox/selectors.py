"""Reads of conversations and messages, always scoped to one clinic."""

from django.db.models import QuerySet

from clinic.models import Clinic
from inbox.models import Conversation, Message


def conversation_list(*, clinic: Clinic, status: str = "") -> QuerySet[Conversation]:
    conversations = (Conversation.objects.filter(clinic=clinic)
                     .select_related("channel", "contact", "patient", "assignee"))
    if status:
        conversations = conversations.filter(status=status)
    return conversations


def message_list(*, conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.select_related("author")
