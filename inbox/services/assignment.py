"""Who answers a conversation: take, transfer, unassign, resolve, reopen.

Each change is a conditional update, so two administrators acting at once cannot both win, and
each leaves a system line in the thread (the staff see it; the patient never does).
"""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from clinic.models import Membership
from inbox.models import (
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Message,
    MessageKind,
)


class AssignmentRefused(ValueError):
    """The change is not possible any more; the reason is for the administrator."""


def _name(user: object) -> str:
    return user.get_full_name() or user.username


def _system(conversation: Conversation, text: str, now: datetime, author: object) -> None:
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
    conversation.assignee = None


def conversation_status_set(*, conversation: Conversation, status: str, by: object,
                            now: datetime) -> None:
    """Resolve or reopen. Resolving keeps the assignee, for the reports."""
    texts = {ConversationStatus.RESOLVED: _("%(name)s resolved the conversation."),
             ConversationStatus.OPEN: _("%(name)s reopened the conversation.")}
    with transaction.atomic():
        changed = (Conversation.objects.filter(pk=conversation.pk).exclude(status=status)
                   .update(status=status, unread_count=0))
        if changed:
            _system(conversation, texts[status] % {"name": _name(by)}, now, by)
    conversation.status = status
