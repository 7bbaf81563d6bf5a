"""Hints on the administrator's draft while it is typed: the checklist's own rules, applied
before sending (ends with a question, bare price, stop-words, spelling with suggestions, emoji,
name and greeting in a first reply). Hints inform; they never block sending."""

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from clinic.access import clinic_view
from inbox.models import (
    Conversation,
    DialogueWindow,
    Direction,
    Message,
    MessageKind,
    WindowStatus,
)
from inbox.selectors import conversation_list, window_after_q, window_latest
from qa.checklist.hints import DraftContext, Hint, draft_hints
from qa.checklist.items import complains
from qa.selectors import checklist_revision_current
from qa.services.scoring import rules_build

DRAFT_LIMIT = 4000  # characters checked; a longer draft is checked up to here


def _dialogue_messages(conversation: Conversation) -> list[Message]:
    """The current dialogue's messages, newest first: since the last resolve (the whole
    reopened dialogue when an administrator reopened it)."""
    messages = Message.objects.filter(conversation=conversation)
    window: DialogueWindow | None = window_latest(conversation=conversation)
    if window is not None:
        if window.status == WindowStatus.REOPENED:
            messages = messages.filter(created_at__gte=window.started_at)
        else:
            messages = messages.filter(window_after_q(window))
    return list(messages.exclude(kind__in=[MessageKind.SYSTEM, MessageKind.NOTE])
                .order_by("-created_at", "-id").only("direction", "author_id", "body")[:200])


def draft_context(*, conversation: Conversation, user: object) -> DraftContext:
    messages = _dialogue_messages(conversation)
    staff = [m for m in messages if m.direction == Direction.OUT and m.author_id is not None]
    last_patient = []
    for m in messages:  # the patient's messages since staff last wrote (not an automatic one)
        if m.direction == Direction.OUT:
            if m.author_id is not None:
                break
            continue
        last_patient.append(m.body)
    patient = conversation.patient
    clinic = conversation.clinic
    return DraftContext(
        rules=rules_build(clinic=clinic, revision=checklist_revision_current(clinic=clinic)),
        first_reply=not staff,
        after_complaint=any(complains(body) for body in last_patient),
        patient_first_name=(patient.first_name or None) if patient else None,
        patient_patronymic=(patient.patronymic or None) if patient else None,
        patient_last_name=(patient.last_name or None) if patient else None,
        admin_name=(getattr(user, "first_name", "") or None),
    )


@dataclass(frozen=True)
class Piece:
    """A stretch of the draft, marked when it is a misspelled word."""

    text: str
    misspelled: bool = False


def _utf16(text: str, index: int) -> int:
    """A Python string index as the browser counts it (UTF-16 code units: an emoji is two)."""
    return len(text[:index].encode("utf-16-le")) // 2


def _pieces(text: str, hints: list[Hint]) -> list[Piece]:
    spans = sorted((h.start, h.end) for h in hints if h.start is not None)
    pieces, at = [], 0
    for start, end in spans:
        pieces += [Piece(text[at:start]), Piece(text[start:end], misspelled=True)]
        at = end
    return [*pieces, Piece(text[at:])]


@require_POST
@clinic_view()
def draft_hints_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = get_object_or_404(
        conversation_list(clinic=request.clinic).select_related("patient", "clinic"),
        pk=conversation_id)
    text = request.POST.get("text", "")[:DRAFT_LIMIT]
    hints = draft_hints(text, draft_context(conversation=conversation, user=request.user))
    spelled = [h for h in hints if h.code == "literacy"]
    return render(request, "qa/draft_hints.html", {
        "hints": [h for h in hints if h.code != "literacy"],
        "spelling": [{"hint": h, "word": text[h.start:h.end], "start": _utf16(text, h.start),
                      "end": _utf16(text, h.end)} for h in spelled],
        "pieces": _pieces(text, spelled) if spelled else []})
