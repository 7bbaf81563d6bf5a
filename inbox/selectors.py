"""Reads of conversations and messages, always scoped to one clinic."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from clinic.models import Clinic, ConsentTopic, Patient
from clinic.selectors import patient_consent_state
from inbox.models import Conversation, ConversationStatus, Message, QuickReply

PAGE_SIZE = 30
LIST_FILTERS = ("open", "mine", "unassigned", "resolved")


def _filter_q(name: str, user: object) -> Q:
    active = ~Q(status=ConversationStatus.RESOLVED)
    return {
        "open": active,
        "mine": active & Q(assignee=user),
        "unassigned": active & Q(assignee__isnull=True),
        "resolved": Q(status=ConversationStatus.RESOLVED),
    }[name]


def conversation_list(*, clinic: Clinic, status: str = "") -> QuerySet[Conversation]:
    conversations = (Conversation.objects.filter(clinic=clinic)
                     .select_related("channel", "contact", "patient", "assignee"))
    if status:
        conversations = conversations.filter(status=status)
    return conversations


@dataclass(frozen=True)
class ListPage:
    conversations: list[Conversation]
    next_cursor: str  # "" on the last page


def _cursor(conversation: Conversation) -> str:
    return f"{conversation.last_message_at.isoformat()}_{conversation.pk}"


def conversation_page(*, clinic: Clinic, user: object, filter: str = "open", channel: str = "",
                      search: str = "", cursor: str = "") -> ListPage:
    """One page of the inbox list, most recent first, by keyset (never OFFSET)."""
    conversations = (conversation_list(clinic=clinic)
                     .filter(_filter_q(filter if filter in LIST_FILTERS else "open", user),
                             last_message_at__isnull=False)
                     .order_by("-last_message_at", "-id"))
    if channel:
        conversations = conversations.filter(channel__kind=channel)
    for word in search.split():
        digits = "".join(ch for ch in word if ch.isdigit())
        match = (Q(contact__display_name__icontains=word) | Q(patient__last_name__icontains=word)
                 | Q(patient__first_name__icontains=word)
                 | Exists(Message.objects.filter(conversation=OuterRef("pk"),
                                                 body__icontains=word)))
        if len(digits) >= 4:
            match |= Q(contact__phone__contains=digits) | Q(patient__phone__contains=digits)
        conversations = conversations.filter(match)
    if cursor:
        stamp, _, last_id = cursor.rpartition("_")
        try:
            at, pk = datetime.fromisoformat(stamp), int(last_id)
        except ValueError:
            at, pk = None, 0
        if at is not None:
            conversations = conversations.filter(
                Q(last_message_at__lt=at) | Q(last_message_at=at, pk__lt=pk))
    rows = list(conversations[:PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return ListPage(rows, _cursor(rows[-1]) if more else "")


def conversation_counts(*, clinic: Clinic, user: object) -> dict[str, int]:
    """Every filter's counter in one aggregate query."""
    return Conversation.objects.filter(clinic=clinic, last_message_at__isnull=False).aggregate(
        **{name: Count("pk", filter=_filter_q(name, user)) for name in LIST_FILTERS})


def message_list(*, conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.select_related("author")


@dataclass(frozen=True)
class PatientPanel:
    """What the administrator sees beside the thread about who is writing."""

    patient: Patient | None
    suggestions: list[Patient]
    consents: list[tuple[str, object]]  # (topic label, the current consent row or None)
    earlier: list[Conversation]  # the patient's other conversations, on every channel


def patient_panel(*, conversation: Conversation) -> PatientPanel:
    patient = conversation.patient
    if patient is None:
        return PatientPanel(None, list(conversation.contact.suggested_patients.all()), [], [])
    earlier = list(Conversation.objects.filter(patient=patient).exclude(pk=conversation.pk)
                   .select_related("channel").order_by("-last_message_at")[:10])
    consents = [(ConsentTopic(topic).label, event)
                for topic, event in patient_consent_state(patient=patient).items()]
    return PatientPanel(patient, [], consents, earlier)


def quick_reply_list(*, clinic: Clinic, search: str = "") -> QuerySet[QuickReply]:
    replies = QuickReply.objects.filter(clinic=clinic)
    for word in search.split():
        replies = replies.filter(Q(title__icontains=word) | Q(text__icontains=word))
    return replies
