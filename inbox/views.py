import re
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from clinic import clock
from clinic.access import clinic_view
from clinic.models import MESSAGE_TOPICS, Availability, ConsentSource, ConsentTopic, Patient, Role
from clinic.models import Channel as PatientChannel
from clinic.selectors import CONSENT_COLUMNS, MESSAGE_CHANNELS, clinic_staff_list
from clinic.services import consents_update, patient_comms_update
from inbox.channels.base import ChannelError
from inbox.forms import ChannelForm, ConsentsForm, PatientCommsForm, QuickReplyForm
from inbox.models import (
    Channel,
    ChannelKind,
    Conversation,
    ConversationStatus,
    DialogueOutcome,
    Message,
    MessageKind,
    QuickReply,
)
from inbox.reports import today_report
from inbox.selectors import (
    LIST_FILTERS,
    conversation_counts,
    conversation_list,
    conversation_page,
    count_text,
    message_list,
    notification_bell,
    notification_list,
    patient_panel,
    quick_reply_list,
    window_appointment_find,
    window_latest,
)
from inbox.services.assignment import (
    AssignmentRefused,
    availability_change,
    conversation_status_set,
    conversation_take,
    conversation_transfer,
    conversation_unassign,
    no_reply_needed,
)
from inbox.services.booking import confirmation_text, conversation_book
from inbox.services.channels import channel_save, telegram_webhook_register
from inbox.services.inbound import (
    contact_patient_create,
    contact_patient_link,
    contact_patient_unlink,
)
from inbox.services.live import inbox_version
from inbox.services.notifications import notifications_mark_read
from inbox.services.outbound import (
    SendRefused,
    conversation_mark_read,
    message_retry,
    message_send,
    note_add,
    whatsapp_window_open,
)
from inbox.services.quick_replies import VARIABLES, quick_reply_save, text_fill
from inbox.widget_views import embed_snippet
from scheduling.models import Appointment, Service
from scheduling.selectors import doctor_list, free_slots, service_list
from scheduling.services import (
    BookingError,
    SlotTaken,
    appointment_cancel,
    appointment_reschedule,
)

# The booking panel looks two weeks ahead and shows a few times a doctor a day, for a few days.
BOOKING_DAYS = 14
BOOKING_SLOTS = 500
BOOKING_TIMES_A_DAY = 8
BOOKING_SHOWN_DAYS = 5
FILTER_LABELS = dict(zip(LIST_FILTERS, (
    gettext_lazy("All open"), gettext_lazy("Mine"), gettext_lazy("Unassigned"),
    gettext_lazy("Waiting"), gettext_lazy("Overdue"), gettext_lazy("Resolved")), strict=True))


def _list_context(request: HttpRequest) -> dict:
    params = request.GET
    chosen = params.get("filter", "open")
    now = clock.now()
    page = conversation_page(clinic=request.clinic, user=request.user, now=now, filter=chosen,
                             channel=params.get("channel", ""), search=params.get("q", ""),
                             cursor=params.get("after", ""))
    counts = conversation_counts(clinic=request.clinic, user=request.user, now=now)
    return {"page": page, "filter": chosen, "channel": params.get("channel", ""), "now": now,
            "q": params.get("q", ""), "counts": counts,
            "filters": [(key, label, count_text(key, counts[key]))
                        for key, label in FILTER_LABELS.items()],
            "channel_kinds": ChannelKind.choices, "availabilities": Availability.choices}


@clinic_view()
def index(request: HttpRequest) -> HttpResponse:
    context = _list_context(request)
    if request.htmx and request.htmx.target == "conversation-list":
        # A poll from a page that has a thread open keeps that row highlighted.
        opened = re.search(r"/inbox/c/(\d+)/", request.htmx.current_url or "")
        context["selected_pk"] = int(opened.group(1)) if opened else None
        return render(request, "inbox/index.html#list", context)
    return render(request, "inbox/index.html", context)


def _conversation(request: HttpRequest, conversation_id: int) -> Conversation:
    return get_object_or_404(conversation_list(clinic=request.clinic), pk=conversation_id)


def _messages_context(request: HttpRequest, conversation: Conversation) -> dict:
    """What the messages pane needs: all that its 3-second poll and the send answers render."""
    return {"conversation": conversation,
            "thread_messages": list(message_list(conversation=conversation)),
            "timezone": ZoneInfo(request.clinic.timezone)}


def _panel_context(request: HttpRequest, conversation: Conversation) -> dict:
    """What the patient panel beside the thread needs."""
    panel = patient_panel(conversation=conversation, now=clock.now())
    return {"conversation": conversation, "panel": panel,
            "comms_form": PatientCommsForm(patient=panel.patient) if panel.patient else None,
            "consent_sources": ConsentSource.choices, "consent_channels": [
                (c, PatientChannel(c).label) for c in MESSAGE_CHANNELS],
            "services": service_list(clinic=request.clinic)}


def _resolve_context(conversation: Conversation) -> dict:
    """The resolve form's visit booked from this chat, or how the last dialogue ended."""
    if conversation.status == ConversationStatus.RESOLVED:
        return {"window": window_latest(conversation=conversation)}
    return {"outcomes": DialogueOutcome.choices,
            "resolve_appointment": window_appointment_find(conversation=conversation)}


def _thread_context(request: HttpRequest, conversation: Conversation) -> dict:
    now = clock.now()
    whatsapp_closed = (conversation.channel.kind == ChannelKind.WHATSAPP
                       and not whatsapp_window_open(conversation=conversation, now=now))
    return {**_messages_context(request, conversation), **_panel_context(request, conversation),
            **_resolve_context(conversation),
            "now": now, "staff": clinic_staff_list(clinic=request.clinic),
            "whatsapp_closed": whatsapp_closed,
            "templates": conversation.channel.whatsapp_templates if whatsapp_closed else []}


@clinic_view()
def thread(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(request, conversation_id)
    conversation_mark_read(conversation=conversation)
    notifications_mark_read(user=request.user, clinic=request.clinic,
                            conversation=conversation, now=clock.now())
    context = _thread_context(request, conversation)
    if request.htmx and request.htmx.target == "thread":
        return render(request, "inbox/thread.html", context)
    return render(request, "inbox/index.html", {**_list_context(request), **context,
                                                "selected_pk": conversation.pk})


@clinic_view()
def thread_messages(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Polled by the open thread: the messages again, with new ones and changed ticks."""
    conversation = _conversation(request, conversation_id)
    return render(request, "inbox/thread.html#messages", _messages_context(request, conversation))


@require_POST
@clinic_view()
def send(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(request, conversation_id)
    text = request.POST.get("text", "")
    try:
        if request.POST.get("note"):
            note_add(conversation=conversation, author=request.user, text=text,
                     now=clock.now())
        else:
            message_send(conversation=conversation, author=request.user, text=text,
                         template=request.POST.get("template", ""),
                         template_params=request.POST.getlist("template_params"),
                         file=request.FILES.get("file"), now=clock.now())
    except SendRefused as refused:
        error = str(refused)
    else:
        error = ""
    if request.htmx:  # the thread, and the composer's error (or none) swapped out of band
        return render(request, "inbox/thread.html#send-result",
                      {**_messages_context(request, conversation), "error": error})
    if error:
        messages.error(request, error)
    return redirect("inbox:thread", conversation_id=conversation.pk)


@require_POST
@clinic_view()
def retry(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    conversation = _conversation(request, conversation_id)
    message = get_object_or_404(Message, pk=message_id, conversation=conversation)
    message_retry(message=message, now=clock.now())
    if request.htmx:
        return render(request, "inbox/thread.html#messages",
                      _messages_context(request, conversation))
    return redirect("inbox:thread", conversation_id=conversation.pk)


def _webhook_url(request: HttpRequest, channel: Channel) -> str:
    if channel.kind == ChannelKind.WEBCHAT:
        return request.build_absolute_uri(reverse("hook-webchat", args=[channel.key, "session"]))
    return request.build_absolute_uri(reverse(f"hook-{channel.kind}", args=[channel.key]))


@clinic_view(Role.OWNER)
def channel_list(request: HttpRequest) -> HttpResponse:
    channels = list(Channel.objects.filter(clinic=request.clinic).order_by("kind", "name"))
    for channel in channels:
        channel.webhook_url = _webhook_url(request, channel)
    return render(request, "inbox/channels.html", {
        "tab": "channels", "channels": channels, "kinds": ChannelKind.choices})


@clinic_view(Role.OWNER)
def channel_edit(request: HttpRequest, channel_id: int | None = None,
                 kind: str = "") -> HttpResponse:
    if channel_id is None:
        if kind not in ChannelKind.values:
            raise Http404
        channel = Channel(clinic=request.clinic, kind=kind)
    else:
        channel = get_object_or_404(Channel, pk=channel_id, clinic=request.clinic)
    form = ChannelForm(request.POST or None, instance=channel, kind=channel.kind)
    if request.method == "POST" and form.is_valid():
        channel_save(channel=channel, changes=form.changes(), changed_by=request.user,
                     now=clock.now())
        messages.success(request, _("Channel saved."))
        return redirect("channels:list")
    widget = {}
    if channel.pk and channel.kind == ChannelKind.WEBCHAT:
        widget = {"embed_snippet": embed_snippet(request, channel),
                  "demo_url": f"{reverse('widget-demo')}?{urlencode({'channel': channel.key})}"}
    return render(request, "inbox/channel_form.html", {
        "tab": "channels", "form": form, "channel": channel, **widget,
        "webhook_url": _webhook_url(request, channel) if channel.pk else ""})


@require_POST
@clinic_view(Role.OWNER)
def channel_register_webhook(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=channel_id, clinic=request.clinic,
                                kind=ChannelKind.TELEGRAM)
    try:
        telegram_webhook_register(channel=channel, url=_webhook_url(request, channel))
    except ChannelError as error:
        messages.error(request, _("Telegram refused: %(reason)s") % {"reason": error.reason})
    else:
        messages.success(request, _("Telegram will now send this bot's messages here."))
    return redirect("channels:list")


@require_POST
@clinic_view()
def assignment(request: HttpRequest, conversation_id: int, action: str) -> HttpResponse:
    """take / transfer / unassign / resolve / reopen, then the thread again."""
    conversation = _conversation(request, conversation_id)
    now, user = clock.now(), request.user
    try:
        if action == "take":
            conversation_take(conversation=conversation, user=user, now=now)
        elif action == "transfer":
            to = get_object_or_404(clinic_staff_list(clinic=request.clinic),
                                   user_id=request.POST.get("to")).user
            conversation_transfer(conversation=conversation, to=to, by=user,
                                  note=request.POST.get("note", ""), now=now)
        elif action == "unassign":
            conversation_unassign(conversation=conversation, by=user, now=now)
        elif action == "resolve":
            conversation_status_set(conversation=conversation, status=ConversationStatus.RESOLVED,
                                    by=user, now=now, outcome=request.POST.get("outcome", ""),
                                    next_step=request.POST.get("next_step", ""))
        elif action == "reopen":
            conversation_status_set(conversation=conversation, status=ConversationStatus.OPEN,
                                    by=user, now=now)
        elif action == "no-reply":
            no_reply_needed(conversation=conversation, by=user, now=now,
                            reason=request.POST.get("reason", "")[:200])
        else:
            raise Http404
    except AssignmentRefused as refused:
        messages.error(request, str(refused))
    if request.htmx:
        conversation = _conversation(request, conversation_id)  # as the change left it
        return render(request, "inbox/thread.html", _thread_context(request, conversation))
    return redirect("inbox:thread", conversation_id=conversation.pk)


@require_POST
@clinic_view()
def patient_link(request: HttpRequest, conversation_id: int, action: str) -> HttpResponse:
    """confirm a suggested (or any) patient of the clinic, create one from the contact, unlink."""
    conversation = _conversation(request, conversation_id)
    contact = conversation.contact
    if action == "confirm":
        patient = get_object_or_404(Patient, clinic=request.clinic,
                                    pk=request.POST.get("patient"))
        contact_patient_link(contact=contact, patient=patient)
    elif action == "create":
        try:
            contact_patient_create(contact=contact)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    elif action == "unlink":
        contact_patient_unlink(contact=contact)
    else:
        raise Http404
    conversation = _conversation(request, conversation_id)
    if request.htmx:
        return render(request, "inbox/thread.html", _thread_context(request, conversation))
    return redirect("inbox:thread", conversation_id=conversation.pk)


@clinic_view()
def quick_reply_search(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The composer's "/" list: the clinic's quick replies, filled in for this patient."""
    conversation = _conversation(request, conversation_id)
    replies = [(reply, text_fill(text=reply.text, conversation=conversation,
                                 admin=request.user))
               for reply in quick_reply_list(clinic=request.clinic,
                                             search=request.GET.get("q", ""))[:20]]
    return render(request, "inbox/quick_reply_search.html", {"replies": replies})


@require_POST
@clinic_view()
def promise(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """"Check with the doctor": send the clinic's promise (the 15-minute clock is the timers')."""
    conversation = _conversation(request, conversation_id)
    text = text_fill(text=request.clinic.promise_text, conversation=conversation,
                     admin=request.user)
    try:
        message_send(conversation=conversation, author=request.user, text=text,
                     kind=MessageKind.PROMISE, now=clock.now())
        error = ""
    except SendRefused as refused:
        error = str(refused)
    if request.htmx:
        return render(request, "inbox/thread.html#send-result",
                      {**_messages_context(request, conversation), "error": error})
    if error:
        messages.error(request, error)
    return redirect("inbox:thread", conversation_id=conversation.pk)


@clinic_view(Role.MANAGER)
def quick_replies(request: HttpRequest, reply_id: int | None = None) -> HttpResponse:
    """Managers and owners keep the clinic's quick replies."""
    reply = (get_object_or_404(QuickReply, pk=reply_id, clinic=request.clinic) if reply_id
             else QuickReply(clinic=request.clinic))
    form = QuickReplyForm(request.POST or None, instance=reply)
    if request.method == "POST":
        if request.POST.get("delete") and reply.pk:
            reply.delete()
            messages.success(request, _("Quick reply deleted."))
            return redirect("inbox:quick-replies")
        if form.is_valid():
            quick_reply_save(reply=reply, title=form.cleaned_data["title"],
                             text=form.cleaned_data["text"], by=request.user)
            messages.success(request, _("Quick reply saved."))
            return redirect("inbox:quick-replies")
    return render(request, "inbox/quick_replies.html", {
        "form": form, "reply": reply, "replies": quick_reply_list(clinic=request.clinic),
        "variables": VARIABLES})


@require_POST
@clinic_view()
def availability(request: HttpRequest) -> HttpResponse:
    wanted = request.POST.get("availability", "")
    if wanted in Availability.values:
        availability_change(membership=request.membership, availability=wanted)
    return redirect(request.POST.get("next") or "inbox:index")


# The patient panel's consent forms and the cells each one shows. 152-FZ: consent to data
# processing is a document of its own, so it is recorded apart from consents to messages.
CONSENT_PARTS = {
    "messages": [(topic, channel) for topic in MESSAGE_TOPICS for channel in CONSENT_COLUMNS],
    "data_processing": [(ConsentTopic.DATA_PROCESSING, "")],
}


@require_POST
@clinic_view()
def patient_consents(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The patient's communication profile (part=comms) or one of the consent forms (part=
    messages or data_processing): who recorded it, how, and the evidence. Consents only ever
    append ledger rows, for the cells that changed."""
    conversation = _conversation(request, conversation_id)
    patient = conversation.patient
    part = request.POST.get("part", "")
    if patient is None or part not in ("comms", *CONSENT_PARTS):
        raise Http404
    if part == "comms":
        form = PatientCommsForm(request.POST, patient=patient)
        if form.is_valid():
            try:
                patient_comms_update(patient=patient, **form.changes())
            except ValidationError as error:
                form.add_error(None, error.messages)
    else:
        form = ConsentsForm(request.POST, cells=CONSENT_PARTS[part])
        if form.is_valid():
            consents_update(patient=patient, wanted=form.wanted(),
                            source=form.cleaned_data["source"],
                            evidence=form.cleaned_data["evidence"], recorded_by=request.user,
                            now=clock.now())
    errors = [e for field_errors in form.errors.values() for e in field_errors]
    if request.htmx:
        conversation = _conversation(request, conversation_id)  # as the change left it
        context = {**_panel_context(request, conversation), "panel_errors": {part: errors}}
        if part == "comms" and errors:
            context["comms_form"] = form  # what the administrator chose, to correct it
        return render(request, "inbox/thread.html#panel", context)
    for error in errors:
        messages.error(request, error)
    return redirect("inbox:thread", conversation_id=conversation.pk)


def _slots_context(request: HttpRequest, conversation: Conversation, service: Service | None,
                   slots: list | None = None) -> dict:
    if service is not None and slots is None:
        today = clock.now().astimezone(ZoneInfo(request.clinic.timezone)).date()
        slots = free_slots(clinic=request.clinic, service=service, start_date=today,
                           end_date=today + timedelta(days=BOOKING_DAYS), now=clock.now(),
                           limit=BOOKING_SLOTS)
    days: dict = {}
    for slot in slots or []:
        times = days.setdefault(slot.start.date(), {}).setdefault(slot.doctor_name, [])
        if len(times) < BOOKING_TIMES_A_DAY:
            times.append(slot)
    days = dict(list(days.items())[:BOOKING_SHOWN_DAYS])
    return {"conversation": conversation, "service": service, "days": days}


@clinic_view()
def booking_slots(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The next free slots for a service, by day and doctor, to book in one click."""
    conversation = _conversation(request, conversation_id)
    service_id = request.GET.get("service", "")
    service = (get_object_or_404(service_list(clinic=request.clinic), pk=service_id)
               if service_id.isdigit() else None)
    context = _slots_context(request, conversation, service)
    context["moving"] = request.GET.get("appointment", "")
    return render(request, "inbox/booking_slots.html", context)


@require_POST
@clinic_view()
def booking_book(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(request, conversation_id)
    service = get_object_or_404(service_list(clinic=request.clinic),
                                pk=request.POST.get("service"))
    doctor = get_object_or_404(doctor_list(clinic=request.clinic), pk=request.POST.get("doctor"))
    try:
        start = datetime.fromisoformat(request.POST.get("start", ""))
    except ValueError as error:
        raise Http404 from error
    moving = request.POST.get("appointment", "")
    try:
        if moving:  # a reschedule of one of this patient's appointments
            appointment = appointment_reschedule(
                appointment=get_object_or_404(
                    Appointment, pk=moving, clinic=request.clinic,
                    patient_id=conversation.patient_id or 0),
                start=start, doctor=doctor, now=clock.now())
        else:
            appointment = conversation_book(conversation=conversation, doctor=doctor,
                                            service=service, start=start, by=request.user,
                                            now=clock.now())
    except SlotTaken as taken:
        context = _slots_context(request, conversation, service, taken.next_slots)
        return render(request, "inbox/booking_slots.html", {**context, "error": taken.message})
    except BookingError as refused:
        context = _slots_context(request, conversation, service)
        return render(request, "inbox/booking_slots.html", {**context, "error": refused.message})
    conversation = _conversation(request, conversation_id)  # the booking may have linked it
    return render(request, "inbox/booking_done.html", {
        **_panel_context(request, conversation), "appointment": appointment,
        "confirmation": confirmation_text(appointment=appointment)})


@require_POST
@clinic_view()
def booking_cancel(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Cancel one of this patient's appointments; its time is free again at once."""
    conversation = _conversation(request, conversation_id)
    appointment = get_object_or_404(Appointment, pk=request.POST.get("appointment"),
                                    clinic=request.clinic,
                                    patient_id=conversation.patient_id or 0)
    try:
        appointment_cancel(appointment=appointment, now=clock.now(),
                           reason=request.POST.get("reason", "").strip()[:200])
    except BookingError as refused:
        messages.error(request, refused.message)
    if request.htmx:
        return render(request, "inbox/thread.html", _thread_context(request, conversation))
    return redirect("inbox:thread", conversation_id=conversation.pk)


@clinic_view()
def notifications(request: HttpRequest) -> HttpResponse:
    """The bell's page: overdue replies for me; POST marks them all read."""
    if request.method == "POST":
        notifications_mark_read(user=request.user, clinic=request.clinic, now=clock.now())
        return redirect("inbox:notifications")
    return render(request, "inbox/notifications.html", {
        "notifications": notification_list(user=request.user, clinic=request.clinic)[:100]})


@clinic_view()
def bell(request: HttpRequest) -> HttpResponse:
    """Polled by every page: the unread count, and the newest notice for the browser's own."""
    return render(request, "inbox/bell.html", {
        "bell": notification_bell(user=request.user, clinic=request.clinic)})


@clinic_view()
def today(request: HttpRequest) -> HttpResponse:
    """Today's response figures: the clinic's, and each administrator's (managers see all,
    an administrator their own)."""
    report = today_report(clinic=request.clinic, now=clock.now())
    staff = {m.user_id: m.user for m in clinic_staff_list(clinic=request.clinic)}
    people = [(staff[user_id], figures) for user_id, figures in report.people.items()
              if user_id in staff and (request.membership.has_role(Role.MANAGER)
                                       or user_id == request.user.pk)]
    people.sort(key=lambda row: row[0].get_full_name() or row[0].username)
    return render(request, "inbox/today.html", {"report": report, "people": people})


@clinic_view()
def live(request: HttpRequest) -> JsonResponse:
    """Polled every second by each open inbox: the clinic's version, a cache read. The page
    fetches its list and thread again only when the version moved."""
    response = JsonResponse({"v": inbox_version(request.clinic.pk)})
    response["Cache-Control"] = "no-store"
    return response
