"""Dialogues inside a conversation: what a resolve closes, and how it ended.

A resolve records (or, after a manual reopen, extends and re-resolves) the conversation's
`DialogueWindow`: its first and last message, who handled it, the result the administrator
chose and the visit booked from the chat. The quality app scores these windows. After the
resolve the patient may be asked to rate the dialogue (inbox.services.satisfaction).
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from inbox.models import (
    Conversation,
    DialogueOutcome,
    DialogueWindow,
    Direction,
    Message,
    MessageKind,
    WindowStatus,
)
from inbox.selectors import window_after_q, window_appointment_find, window_previous
from inbox.services.satisfaction import satisfaction_ask_after_commit, satisfaction_messages
from inbox.signals import dialogue_resolved

NEXT_STEP_MAX = 500


class OutcomeInvalid(ValueError):
    """The result given on resolve is missing or incomplete; the reason is for the person."""


def outcome_check(*, outcome: str, next_step: str) -> tuple[str, str]:
    """The outcome and the next-step text as stored; OutcomeInvalid when they will not do."""
    next_step = " ".join(next_step.split())[:NEXT_STEP_MAX]
    if outcome not in DialogueOutcome.values:
        raise OutcomeInvalid(_("Choose how the dialogue ended to resolve it."))
    if outcome == DialogueOutcome.NEXT_STEP and not next_step:
        raise OutcomeInvalid(_("Write down the next step you agreed on with the patient."))
    return outcome, next_step if outcome == DialogueOutcome.NEXT_STEP else ""


def window_resolve(*, conversation: Conversation, by: object, outcome: str, next_step: str,
                   now: datetime) -> DialogueWindow:
    """Close the conversation's current dialogue with its result; run inside the resolve's
    transaction. A window reopened by hand is extended to the latest message and resolved
    again; otherwise a new window starts after the previous one's last message. Quality is
    told after commit."""
    outcome, next_step = outcome_check(outcome=outcome, next_step=next_step)
    with transaction.atomic():
        window = (DialogueWindow.objects.select_for_update()
                  .filter(conversation=conversation, status=WindowStatus.REOPENED).first())
        previous = window_previous(conversation=conversation, window=window)
        # The rating question and the patients' ratings belong to no dialogue: a rating is
        # not the first message of the next one, nor a message that waits for an answer.
        spoken = (Message.objects.filter(conversation=conversation)
                  .exclude(kind=MessageKind.SYSTEM)
                  .exclude(pk__in=satisfaction_messages(conversation=conversation).values("pk")))
        if previous is not None:
            spoken = spoken.filter(window_after_q(previous))
        first = (window.first_message if window is not None and window.first_message_id
                 else spoken.order_by("created_at", "id").first())
        last = spoken.order_by("-created_at", "-id").first() if first is not None else None
        replied = False
        if first is not None:
            replied = (spoken.filter(direction=Direction.OUT, author__isnull=False)
                       .filter(Q(created_at__gt=first.created_at)
                               | Q(created_at=first.created_at, id__gte=first.pk))
                       .exclude(kind=MessageKind.NOTE).exists())
        assignee_id = (Conversation.objects.filter(pk=conversation.pk)
                       .values_list("assignee_id", flat=True).get())
        appointment = window_appointment_find(conversation=conversation, window=window)
        fields = {
            "first_message": first, "last_message": last,
            "started_at": first.created_at if first else now,
            "ended_at": last.created_at if last else now,
            "status": WindowStatus.RESOLVED, "resolved_at": now, "resolved_by": by,
            "administrator_id": assignee_id, "outcome": outcome, "next_step": next_step,
            "appointment": appointment if outcome == DialogueOutcome.BOOKED else None,
            "clinic_replied": replied,
        }
        if window is None:
            window = DialogueWindow.objects.create(
                clinic_id=conversation.clinic_id, conversation=conversation, **fields)
        else:
            for name, value in fields.items():
                setattr(window, name, value)
            window.resolve_count += 1
            window.save()
        window_id = window.pk
        transaction.on_commit(lambda: dialogue_resolved.send_robust(
            sender=DialogueWindow, window_id=window_id))
        satisfaction_ask_after_commit(window_id, now)
    return window


def window_reopen(*, conversation: Conversation, by: object, now: datetime) -> bool:
    """A manual reopen: the latest dialogue is open again, and the next resolve extends it
    (its scorecard is then updated, keeping a manager's overrides)."""
    latest = (DialogueWindow.objects.filter(conversation=conversation)
              .order_by("-pk").values_list("pk", flat=True).first())
    if latest is None:
        return False
    return bool(DialogueWindow.objects.filter(pk=latest, status=WindowStatus.RESOLVED).update(
        status=WindowStatus.REOPENED, reopened_at=now, reopened_by=by))
