"""Who answers a conversation: take, transfer, unassign, resolve, reopen.

Each change is a conditional update, so two administrators acting at once cannot both win, and
each leaves a system line in the thread (the staff see it; the patient never does).
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext as _

from clinic.models import Availability, Clinic, Membership
from clinic.services import availability_set
from inbox.models import (
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Message,
    MessageKind,
)
from inbox.services.live import inbox_changed
from inbox.services.timers import timer_dismiss
from inbox.services.windows import OutcomeInvalid, outcome_check, window_reopen, window_resolve

LIVE_STATUSES = (ConversationStatus.OPEN, ConversationStatus.PENDING)
QUEUE_GREETING = "queue_greeting"


class AssignmentRefused(ValueError):
    """The change is not possible any more; the reason is for the administrator."""


def _name(user: object) -> str:
    return user.get_full_name() or user.username


def availability_change(*, membership: Membership, availability: str) -> None:
    """Coming online frees capacity: the waiting queue is handed out."""
    with transaction.atomic():
        if (availability_set(membership=membership, availability=availability)
                and availability == Availability.ONLINE):
            queue_drain_after_commit(membership.clinic_id)


def _system(conversation: Conversation, text: str, now: datetime, author: object) -> None:
    inbox_changed(conversation.clinic_id)
    Message.objects.create(conversation=conversation, channel_id=conversation.channel_id,
                           direction=Direction.OUT, kind=MessageKind.SYSTEM, body=text,
                           author=author, status=DeliveryStatus.SENT, created_at=now)


def conversation_take(*, conversation: Conversation, user: object, now: datetime) -> None:
    with transaction.atomic():
        taken = Conversation.objects.filter(pk=conversation.pk, assignee__isnull=True).update(
            assignee=user)
        if not taken:
            holder = Conversation.objects.select_related("assignee").get(pk=conversation.pk)
            raise AssignmentRefused(_("%(name)s has already taken this conversation.")
                                    % {"name": _name(holder.assignee)})
        _system(conversation, _("%(name)s took the conversation.") % {"name": _name(user)},
                now, user)
    conversation.assignee = user


def conversation_transfer(*, conversation: Conversation, to: object, by: object, note: str,
                          now: datetime) -> None:
    if not Membership.objects.filter(user=to, clinic_id=conversation.clinic_id).exists():
        raise AssignmentRefused(_("This person does not work in the clinic."))
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(assignee=to)
        text = _("%(by)s passed the conversation to %(to)s.") % {"by": _name(by),
                                                                 "to": _name(to)}
        _system(conversation, f"{text} {note.strip()}".strip(), now, by)
    conversation.assignee = to


def conversation_unassign(*, conversation: Conversation, by: object, now: datetime) -> None:
    with transaction.atomic():
        if Conversation.objects.filter(pk=conversation.pk, assignee__isnull=False).update(
                assignee=None):
            _system(conversation, _("%(name)s released the conversation.") % {"name": _name(by)},
                    now, by)
            queue_drain_after_commit(conversation.clinic_id)
    conversation.assignee = None


def conversation_status_set(*, conversation: Conversation, status: str, by: object,
                            now: datetime, outcome: str = "", next_step: str = "") -> None:
    """Resolve or reopen. Resolving keeps the assignee, for the reports, and needs the result:
    `outcome` (a DialogueOutcome) and, for an agreed next step, its text. The dialogue is
    recorded as a DialogueWindow (see inbox.services.windows); a manual reopen lets the next
    resolve extend the same one."""
    texts = {ConversationStatus.RESOLVED: _("%(name)s resolved the conversation."),
             ConversationStatus.OPEN: _("%(name)s reopened the conversation.")}
    if status == ConversationStatus.RESOLVED:
        try:
            outcome, next_step = outcome_check(outcome=outcome, next_step=next_step)
        except OutcomeInvalid as invalid:
            raise AssignmentRefused(str(invalid)) from invalid
    with transaction.atomic():
        changed = (Conversation.objects.filter(pk=conversation.pk).exclude(status=status)
                   .update(status=status, unread_count=0))
        if changed:
            _system(conversation, texts[status] % {"name": _name(by)}, now, by)
            if status == ConversationStatus.RESOLVED:  # the patient is not waiting any more
                timer_dismiss(conversation=conversation, by=by, now=now,
                              reason=_("Resolved without a reply"))
                window_resolve(conversation=conversation, by=by, outcome=outcome,
                               next_step=next_step, now=now)
            else:
                window_reopen(conversation=conversation, by=by, now=now)
            queue_drain_after_commit(conversation.clinic_id)
    conversation.status = status


def no_reply_needed(*, conversation: Conversation, by: object, reason: str,
                    now: datetime) -> bool:
    """The administrator decides the patient's last message needs no answer ("Спасибо!"): the
    wait ends without a message, recorded with the reason."""
    reason = " ".join(reason.split()) or _("No reply needed")
    with transaction.atomic():
        if not timer_dismiss(conversation=conversation, by=by, reason=reason, now=now):
            return False
        _system(conversation, _("%(name)s: no reply needed — %(reason)s")
                % {"name": _name(by), "reason": reason}, now, by)
    return True


def _live_dialogues() -> Count:
    assigned = "user__assigned_conversations"
    return Count(assigned, filter=Q(**{f"{assigned}__status__in": LIVE_STATUSES,
                                       f"{assigned}__clinic_id": F("clinic_id")}))


def members_free(*, clinic: Clinic) -> QuerySet[Membership]:
    """Online members under the clinic's cap of live dialogues (their count as `live`)."""
    return (Membership.objects.filter(clinic=clinic, availability=Availability.ONLINE)
            .annotate(live=_live_dialogues()).filter(live__lt=clinic.max_live_dialogues))


def queue_wait_minutes(*, clinic: Clinic, waiting_since: datetime | None = None) -> int:
    """The queue's estimate: one reply standard per unassigned waiting conversation ahead, plus
    one. Without `waiting_since` (a website visitor who has not written yet) every waiting
    conversation is ahead."""
    ahead = Conversation.objects.filter(clinic=clinic, assignee__isnull=True,
                                        status__in=LIVE_STATUSES,
                                        last_patient_message_at__isnull=False)
    if waiting_since is not None:
        ahead = ahead.filter(last_patient_message_at__lt=waiting_since)
    return (ahead.count() + 1) * clinic.first_reply_minutes


def _pick(clinic: Clinic, conversation: Conversation) -> Membership | None:
    """An online member under the clinic's cap, other than the one who holds it: the one who
    last answered this patient if they can, else the one with the fewest live dialogues."""
    free = list(members_free(clinic=clinic).exclude(user_id=conversation.assignee_id)
                .select_related("user").order_by("live", "id"))
    if not free or conversation.patient_id is None:
        return free[0] if free else None
    last = (Message.objects.filter(conversation__patient_id=conversation.patient_id,
                                   direction=Direction.OUT,
                                   author_id__in=[m.user_id for m in free])
            .exclude(kind__in=[MessageKind.NOTE, MessageKind.SYSTEM])
            .order_by("-created_at").values_list("author_id", flat=True).first())
    return next((m for m in free if m.user_id == last), free[0])


def conversation_autoassign(*, conversation_id: int, now: datetime) -> bool:
    """Give a waiting conversation to someone, or tell the patient how long the wait is.

    The clinic row is locked, so two conversations arriving at once cannot both take the last
    free place of the same administrator."""
    with transaction.atomic():
        clinic_id = (Conversation.objects.filter(pk=conversation_id)
                     .values_list("clinic_id", flat=True).get())
        clinic = Clinic.objects.select_for_update().get(pk=clinic_id)
        conversation = (Conversation.objects.select_for_update(of=("self",))
                        .select_related("channel", "contact", "patient", "clinic")
                        .get(pk=conversation_id))
        if conversation.assignee_id or conversation.status == ConversationStatus.RESOLVED:
            return False
        chosen = _pick(clinic, conversation)
        if chosen is None:
            if Membership.objects.filter(clinic=clinic,
                                         availability=Availability.ONLINE).exists():
                _queue_greeting(conversation, clinic, now)  # everyone online is at the cap
            return False
        Conversation.objects.filter(pk=conversation.pk).update(assignee=chosen.user)
        _system(conversation, _("Assigned to %(name)s.") % {"name": _name(chosen.user)}, now,
                None)
        return True


def conversation_reassign_overdue(*, conversation_id: int, now: datetime) -> bool:
    """The clinic's choice on a breach: hand an overdue dialogue to a free online colleague
    (under the cap). Nobody free: it stays where it is."""
    with transaction.atomic():
        clinic_id = (Conversation.objects.filter(pk=conversation_id)
                     .values_list("clinic_id", flat=True).get())
        clinic = Clinic.objects.select_for_update().get(pk=clinic_id)
        conversation = (Conversation.objects.select_for_update(of=("self",))
                        .select_related("assignee").get(pk=conversation_id))
        if conversation.status == ConversationStatus.RESOLVED or not conversation.reply_due_at:
            return False
        chosen = _pick(clinic, conversation)
        if chosen is None:
            return False
        Conversation.objects.filter(pk=conversation.pk).update(assignee=chosen.user)
        text = (_("The reply is overdue: passed from %(from)s to %(to)s.")
                % {"from": _name(conversation.assignee), "to": _name(chosen.user)}
                if conversation.assignee else
                _("The reply is overdue: assigned to %(to)s.") % {"to": _name(chosen.user)})
        _system(conversation, text, now, None)
        return True


def _queue_greeting(conversation: Conversation, clinic: Clinic, now: datetime) -> None:
    """Everyone is at the cap: once per wait, the patient learns when to expect an answer."""
    answered = (Message.objects.filter(conversation=conversation, direction=Direction.OUT,
                                       author__isnull=False)
                .exclude(kind__in=[MessageKind.NOTE, MessageKind.SYSTEM])
                .order_by("-created_at").values_list("created_at", flat=True).first())
    greeted = Message.objects.filter(conversation=conversation,
                                     payload__automatic=QUEUE_GREETING)
    if answered:
        greeted = greeted.filter(created_at__gt=answered)
    if greeted.exists():
        return
    minutes = queue_wait_minutes(clinic=clinic,
                                 waiting_since=conversation.last_patient_message_at)
    from inbox.services.outbound import SendRefused, message_send

    try:
        message_send(conversation=conversation, author=None, automatic=QUEUE_GREETING, now=now,
                     text=_("Hello! All our administrators are answering other patients right "
                            "now. We will reply in about %(minutes)s minutes.")
                     % {"minutes": minutes})
    except SendRefused:  # e.g. WhatsApp's window has closed: no greeting is possible
        pass


def queue_drain(*, clinic_id: int, now: datetime) -> int:
    """Capacity freed up: hand out waiting conversations, longest waiting first."""
    assigned = 0
    waiting = (Conversation.objects.filter(clinic_id=clinic_id, assignee__isnull=True,
                                           status__in=LIVE_STATUSES)
               .order_by("last_patient_message_at", "id").values_list("pk", flat=True))
    for conversation_id in list(waiting[:200]):
        if not conversation_autoassign(conversation_id=conversation_id, now=now):
            break
        assigned += 1
    return assigned


def queue_drain_after_commit(clinic_id: int) -> None:
    from inbox.tasks import enqueue, queue_drain_task

    transaction.on_commit(lambda: enqueue(queue_drain_task, clinic_id))
