"""Reads of conversations and messages, always scoped to one clinic."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.postgres.search import SearchQuery
from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual

from clinic.models import Clinic, Patient
from clinic.selectors import ChannelReach, ConsentState, patient_channels, patient_consent_state
from inbox.models import (
    MESSAGE_SEARCH_DOCUMENT,
    ChannelKind,
    ContactIdentity,
    Conversation,
    ConversationStatus,
    ConversationWords,
    DialogueWindow,
    Message,
    Notification,
    QuickReply,
    WindowStatus,
)
from scheduling.models import Appointment, AppointmentStatus

PAGE_SIZE = 30
LIST_FILTERS = ("open", "mine", "unassigned", "waiting", "overdue", "resolved")


class _Counted(Subquery):
    """The rows of a queryset, counted: ``(SELECT COUNT(*) FROM (…))``; a sliced queryset's up
    to its limit."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS counted)"
    output_field = IntegerField()


def _filter_q(name: str, user: object, now: datetime) -> Q:
    active = ~Q(status=ConversationStatus.RESOLVED)
    return {
        "open": active,
        "mine": active & Q(assignee=user),
        "unassigned": active & Q(assignee__isnull=True),
        "waiting": active & Q(reply_due_at__isnull=False),
        "overdue": active & Q(reply_due_at__lte=now),
        "resolved": Q(status=ConversationStatus.RESOLVED),
    }[name]


def conversation_list(*, clinic: Clinic, status: str = "") -> QuerySet[Conversation]:
    conversations = (Conversation.objects.filter(clinic=clinic)
                     .select_related("channel", "contact", "patient", "assignee"))
    if status:
        conversations = conversations.filter(status=status)
    return conversations


PHONE_CHARACTERS = frozenset("0123456789+-() ")
PHONE_MIN_DIGITS = 4


def _search_q(search: str, *, vendor: str, clinic: Clinic | None = None) -> Q:
    """The inbox search: who is writing (name or phone), or what was written.

    A conversation matches when every word is in the contact's name or the patient's last or
    first name (case-insensitive, anywhere in the name), or is 4+ digits of their phone; when
    the whole search, read as a phone ("+7 916 123-45"), is 4+ digits of it; or when one of
    its messages contains every word of the search.

    Message text on Postgres is full-text search with the Russian configuration: words match
    by their stem ("чистку" finds "чистка", "имплантом" finds "имплант"), stop words ("на",
    "и") are ignored, and it is answered from each conversation's words (see ``_text_q``; the
    search's words are counted among `clinic`'s conversations, all clinics' without one).
    On SQLite a plain substring match stands in: no morphology, and SQLite folds case for
    ASCII only, so "Имплант" does not find "имплант" there (Cyrillic must match in case).
    """
    words = search.split()
    who = Q()
    for word in words:
        word_q = (Q(contact__display_name__icontains=word) | Q(patient__last_name__icontains=word)
                  | Q(patient__first_name__icontains=word))
        digits = "".join(ch for ch in word if ch.isdigit())
        if len(digits) >= PHONE_MIN_DIGITS:
            word_q |= Q(contact__phone__contains=digits) | Q(patient__phone__contains=digits)
        who &= word_q
    phone = "".join(ch for ch in search if ch.isdigit())
    if len(words) > 1 and len(phone) >= PHONE_MIN_DIGITS and set(search) <= PHONE_CHARACTERS:
        who |= Q(contact__phone__contains=phone) | Q(patient__phone__contains=phone)
    if vendor == "postgresql":
        return who | _text_q(search, clinic=clinic)
    return who | Exists(_messages_matching(search, vendor=vendor).filter(
        conversation=OuterRef("pk")))


# A search whose words this many of the clinic's conversations have is "common": the list is
# walked in its order, each row tested by its own words, and a page is found long before the end.
COMMON_WORDS_AT = 1000


def _text_q(search: str, *, clinic: Clinic | None) -> Q:
    """Postgres: one of the conversation's messages contains every word of the search.

    Tested on the conversation's words (``ConversationWords``), never by reading every message:
    how depends on how many conversations have the words, counted once per query up to
    ``COMMON_WORDS_AT`` through the index ``conversation_words_search``.

    - Common words: each listed row looks up its own words, so the list stops after a page,
      as it does without a search. (Collecting every conversation with a common word first,
      before ordering the page, cost ~250 ms for a word in 170,000 of 2,000,000 messages.)
    - Rarer words: the few conversations that have them are collected once from the index and
      the list keeps the rows among them; a row-by-row test would read every listed row's words
      before knowing there are fewer than a page.

    One word is answered by the words alone (they are exactly the words of the messages there
    are). Several words must be in one message, not spread over the conversation: a listed
    conversation that has all of them is then read message by message.
    """
    query = SearchQuery(search, config="russian")
    matching = ConversationWords.objects.filter(words=query)
    counted = matching if clinic is None else matching.filter(conversation__clinic=clinic)
    common = GreaterThanOrEqual(
        _Counted(counted.values("pk")[:COMMON_WORDS_AT]), COMMON_WORDS_AT)
    own_words = Subquery(ConversationWords.objects.filter(conversation=OuterRef("pk")).values(
        found=ExpressionWrapper(Q(words=query), output_field=BooleanField())))
    # The collected set needs no clinic: the list it is tested against has one.
    has_words = Case(When(common, then=own_words),
                     default=Exists(matching.filter(conversation=OuterRef("pk"))),
                     output_field=BooleanField())
    # A scalar subquery, run for the row at hand only (Postgres may turn an EXISTS into
    # collecting every matching message first). numnode() of a constant query is worked out
    # while planning, so a one-word search has no such subquery left at all.
    one_message = Subquery(_messages_matching(search, vendor="postgresql")
                           .filter(conversation=OuterRef("pk")).values(found=Value(True))[:1])
    several = GreaterThan(Func(query, function="numnode", output_field=IntegerField()), 1)
    in_one_message = Case(When(several, then=one_message), default=Value(True),
                          output_field=BooleanField())
    return Q(has_words) & Q(in_one_message)


def _messages_matching(search: str, *, vendor: str) -> QuerySet[Message]:
    if vendor == "postgresql":
        # Spelled exactly as the index expression, so that the planner can use the index.
        return Message.objects.alias(document=MESSAGE_SEARCH_DOCUMENT).filter(
            document=SearchQuery(search, config="russian"))
    messages = Message.objects.all()
    for word in search.split():
        messages = messages.filter(body__icontains=word)
    return messages


# What a row of the list shows and its cursor needs; the rest of the row and of its channel (the
# provider's tokens, templates), contact and patient is left in the database.
LIST_ROW_FIELDS = (
    "unread_count", "reply_due_at", "last_message_at", "last_message_preview", "waiting_since",
    "waiting_rule", "channel__kind", "contact__display_name", "contact__phone",
    "patient__last_name", "patient__first_name", "patient__patronymic", "assignee__username",
    "assignee__first_name", "assignee__last_name")


@dataclass(frozen=True)
class ListPage:
    conversations: list[Conversation]
    next_cursor: str  # "" on the last page


def _cursor(conversation: Conversation) -> str:
    due = conversation.reply_due_at.isoformat() if conversation.reply_due_at else "-"
    return f"{due}_{conversation.last_message_at.isoformat()}_{conversation.pk}"


def _after(cursor: str, *, urgent: bool) -> Q | None:
    """The rows after the cursor's row in list order; None for a cursor we did not make."""
    try:
        due_text, at_text, pk_text = cursor.split("_")
        due = None if due_text == "-" else datetime.fromisoformat(due_text)
        at, pk = datetime.fromisoformat(at_text), int(pk_text)
    except ValueError:
        return None
    recent_after = Q(last_message_at__lt=at) | Q(last_message_at=at, pk__lt=pk)
    if not urgent:
        return recent_after
    if due is None:  # among the conversations that wait for nothing, listed last
        return Q(reply_due_at__isnull=True) & recent_after
    return (Q(reply_due_at__gt=due) | Q(reply_due_at=due) & recent_after
            | Q(reply_due_at__isnull=True))


def conversation_page(*, clinic: Clinic, user: object, now: datetime, filter: str = "open",
                      channel: str = "", search: str = "", cursor: str = "") -> ListPage:
    """One page of the inbox list by keyset (never OFFSET). Active conversations in urgency
    order: overdue first, then the soonest due, then the most recent; resolved ones by recency.
    """
    filter = filter if filter in LIST_FILTERS else "open"
    urgent = filter != "resolved"
    order: tuple = ("-last_message_at", "-id")
    if urgent:
        order = (F("reply_due_at").asc(nulls_last=True), *order)
    conversations = (conversation_list(clinic=clinic).only(*LIST_ROW_FIELDS)
                     .filter(_filter_q(filter, user, now), last_message_at__isnull=False)
                     .order_by(*order))
    if channel:
        conversations = conversations.filter(channel__kind=channel)
    if search.strip():
        conversations = conversations.filter(
            _search_q(search, vendor=connections[conversations.db].vendor, clinic=clinic))
    after = _after(cursor, urgent=urgent) if cursor else None
    if after is not None:
        conversations = conversations.filter(after)
    rows = list(conversations[:PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return ListPage(rows, _cursor(rows[-1]) if more else "")


# Counters that stop counting: past the cap only "more than that" is shown ("1000+"). Resolved
# conversations pile up for years; counting every one was most of the list page's SQL.
COUNT_CAPS = {"resolved": 1000}


def conversation_counts(*, clinic: Clinic, user: object, now: datetime) -> dict[str, int]:
    """Every filter's counter in one query; a counter with a cap in ``COUNT_CAPS`` stops at the
    cap + 1, which means "more than the cap".

    A scalar subquery per counter rather than one pass with FILTER: the active counters read
    the small partial index ``conversation_active_counts`` (index-only on Postgres) and
    "resolved" reads no more than cap + 1 entries of the index ``conversation_clinic_status``.
    """
    listed = Conversation.objects.filter(clinic=clinic, last_message_at__isnull=False)
    counters = {}
    for name in LIST_FILTERS:
        rows = listed.filter(_filter_q(name, user, now)).values("pk")
        counters[name] = _Counted(rows[:COUNT_CAPS[name] + 1] if name in COUNT_CAPS else rows)
    return Clinic.objects.filter(pk=clinic.pk).values(**counters).get()


def count_text(name: str, n: int) -> str:
    """A filter's counter as the list shows it: "1000+" past its cap."""
    cap = COUNT_CAPS.get(name)
    return f"{cap}+" if cap is not None and n > cap else str(n)


def message_list(*, conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.select_related("author")


@dataclass(frozen=True)
class PatientPanel:
    """What the administrator sees beside the thread about who is writing."""

    patient: Patient | None
    suggestions: list[Patient]
    consents: ConsentState | None  # every topic on every channel, as the ledger makes it now
    channels: list[ChannelReach]  # the patient's channels in order, and which reach them now
    earlier: list[Conversation]  # the patient's other conversations, on every channel
    upcoming: list[Appointment]  # booked or confirmed, from now on
    past: list[Appointment]  # the latest few


def patient_panel(*, conversation: Conversation, now: datetime) -> PatientPanel:
    patient = conversation.patient
    if patient is None:
        return PatientPanel(None, list(conversation.contact.suggested_patients.all()), None, [],
                            [], [], [])
    earlier = list(Conversation.objects.filter(patient=patient).exclude(pk=conversation.pk)
                   .select_related("channel").order_by("-last_message_at")[:10])
    # A chat reaches the patient through a linked contact; a Telegram bot may write only to
    # someone who has written to it.
    linked = set(ContactIdentity.objects.filter(patient=patient).filter(
        ~Q(channel__kind=ChannelKind.TELEGRAM)
        | Q(conversation__last_patient_message_at__isnull=False)).values_list(
        "channel__kind", flat=True))
    visits = Appointment.objects.filter(patient=patient).select_related("doctor", "service")
    upcoming = list(visits.filter(start__gte=now, status__in=[
        AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED]).order_by("start")[:5])
    past = list(visits.filter(start__lt=now).order_by("-start")[:3])
    return PatientPanel(patient, [], patient_consent_state(patient=patient),
                        patient_channels(patient=patient, linked=linked), earlier, upcoming,
                        past)


def quick_reply_list(*, clinic: Clinic, search: str = "") -> QuerySet[QuickReply]:
    replies = QuickReply.objects.filter(clinic=clinic)
    for word in search.split():
        replies = replies.filter(Q(title__icontains=word) | Q(text__icontains=word))
    return replies


def notification_list(*, user: object, clinic: Clinic) -> QuerySet[Notification]:
    return (Notification.objects.filter(user=user, clinic=clinic)
            .select_related("conversation"))


@dataclass(frozen=True)
class Bell:
    unread: int
    newest_id: int | None
    newest_text: str


def notification_bell(*, user: object, clinic: Clinic) -> Bell:
    """The unread count and the newest unread notice, in one query."""
    unread = notification_list(user=user, clinic=clinic).filter(read_at__isnull=True)
    newest = list(unread.annotate(total=Window(Count("*"))).values("id", "text", "total")[:1])
    if not newest:
        return Bell(0, None, "")
    return Bell(newest[0]["total"], newest[0]["id"], newest[0]["text"])


def window_after_q(window: DialogueWindow) -> Q:
    """Messages after `window`'s last message, in (created_at, id) order."""
    if window.last_message_id is None:
        return Q(created_at__gt=window.ended_at)
    return (Q(created_at__gt=window.ended_at)
            | Q(created_at=window.ended_at, id__gt=window.last_message_id))


def window_previous(*, conversation: Conversation,
                    window: DialogueWindow | None) -> DialogueWindow | None:
    """The dialogue before `window` (before the next one when `window` is None)."""
    earlier = DialogueWindow.objects.filter(conversation=conversation)
    if window is not None:
        earlier = earlier.filter(pk__lt=window.pk)
    return earlier.order_by("-pk").first()


def window_latest(*, conversation: Conversation) -> DialogueWindow | None:
    return (DialogueWindow.objects.filter(conversation=conversation)
            .select_related("appointment__doctor", "appointment__service").order_by("-pk").first())


def window_appointment_find(*, conversation: Conversation,
                            window: DialogueWindow | None = None) -> Appointment | None:
    """The visit booked from this chat during the dialogue being resolved: linked to the
    conversation, made after the previous dialogue was resolved, not cancelled and not counted
    by another dialogue; the latest such, live ones first. `window` is a reopened dialogue being
    resolved again; None means the conversation's open (or reopened) dialogue."""
    if window is None:
        window = DialogueWindow.objects.filter(conversation=conversation,
                                               status=WindowStatus.REOPENED).first()
    previous = window_previous(conversation=conversation, window=window)
    counted = DialogueWindow.objects.filter(conversation=conversation,
                                            appointment__isnull=False)
    if window is not None:
        counted = counted.exclude(pk=window.pk)
    visits = (Appointment.objects.filter(source_conversation_id=conversation.pk)
              .exclude(status=AppointmentStatus.CANCELLED)
              .exclude(pk__in=counted.values("appointment_id")))
    if previous is not None:
        visits = visits.filter(created_at__gt=previous.resolved_at)
    live = Case(When(status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED],
                     then=Value(0)), default=Value(1))
    return (visits.select_related("doctor", "service")
            .order_by(live, "-created_at", "-id").first())


def window_messages(*, window: DialogueWindow) -> QuerySet[Message]:
    """The dialogue's messages in order, system lines between its first and last included."""
    return messages_between(conversation_id=window.conversation_id,
                            first_id=window.first_message_id, first_at=window.started_at,
                            last_id=window.last_message_id, last_at=window.ended_at)


def messages_between(*, conversation_id: int, first_id: int | None, first_at: datetime,
                     last_id: int | None, last_at: datetime) -> QuerySet[Message]:
    """A conversation's messages from one message to another, both included, in (created_at,
    id) order, the authors loaded; none without a first and a last."""
    if first_id is None or last_id is None:
        return Message.objects.none()
    return (Message.objects.filter(conversation_id=conversation_id)
            .filter(Q(created_at__gt=first_at) | Q(created_at=first_at, id__gte=first_id))
            .filter(Q(created_at__lt=last_at) | Q(created_at=last_at, id__lte=last_id))
            .select_related("author").order_by("created_at", "id"))
